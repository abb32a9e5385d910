"""`kb import` keeps articles whose current version an editor wrote, unless forced."""

from click.testing import CliRunner

from helpdesk.accounts import services as accounts
from helpdesk.cli import main
from helpdesk.db import session_scope
from kb.articles import get_article, list_versions
from kb.publishing import save_content
from kb.transfer import import_directory
from tests.test_kb_articles import valid_front_matter, write_article

EDITED_ANSWER = "Een kort antwoord, aangepast door de redactie."


def import_files(settings, directory, force=False):
    with session_scope(settings) as session:
        return import_directory(session, directory, force=force)


def edit_as_editor(settings, slug="prep"):
    with session_scope(settings) as session:
        editor = accounts.create_user(session, "redactie@helpdesk.test", "een lang wachtwoord 123", "editor")
        article = get_article(session, slug, "nl")
        changed, _problems = save_content(session, article, editor, short_answer=EDITED_ANSWER)
        assert changed


def current(settings, slug="prep"):
    with session_scope(settings) as session:
        article = get_article(session, slug, "nl")
        return article.short_answer, article.version


def test_import_keeps_editor_version(settings, tmp_path):
    write_article(tmp_path, "nl", "prep", valid_front_matter("prep"))
    import_files(settings, tmp_path)
    edit_as_editor(settings)

    summary = import_files(settings, tmp_path)

    assert summary.kept == ["nl/prep.md"]
    assert summary.updated == []
    assert current(settings) == (EDITED_ANSWER, 2)
    assert "1 kept (edited by an editor)" in summary.describe()


def test_import_keeps_editor_version_when_file_changed(settings, tmp_path):
    write_article(tmp_path, "nl", "prep", valid_front_matter("prep"))
    import_files(settings, tmp_path)
    edit_as_editor(settings)
    write_article(tmp_path, "nl", "prep", valid_front_matter("prep", title="Een nieuwe titel uit het bestand"))

    summary = import_files(settings, tmp_path)

    assert summary.kept == ["nl/prep.md"]
    with session_scope(settings) as session:
        assert get_article(session, "prep", "nl").title == "Een titel"


def test_import_force_replaces_editor_version(settings, tmp_path):
    write_article(tmp_path, "nl", "prep", valid_front_matter("prep"))
    import_files(settings, tmp_path)
    edit_as_editor(settings)

    summary = import_files(settings, tmp_path, force=True)

    assert summary.updated == ["nl/prep.md"]
    assert current(settings) == ("Een kort antwoord.", 3)
    with session_scope(settings) as session:
        history = [version.short_answer for version in list_versions(session, get_article(session, "prep", "nl"))]
    assert history == ["Een kort antwoord.", EDITED_ANSWER, "Een kort antwoord."]


def test_import_updates_after_forced_import(settings, tmp_path):
    write_article(tmp_path, "nl", "prep", valid_front_matter("prep"))
    import_files(settings, tmp_path)
    edit_as_editor(settings)
    import_files(settings, tmp_path, force=True)
    write_article(tmp_path, "nl", "prep", valid_front_matter("prep", title="Een nieuwe titel uit het bestand"))

    summary = import_files(settings, tmp_path)

    assert summary.updated == ["nl/prep.md"]


def test_import_command_reports_kept_and_force(settings, tmp_path):
    write_article(tmp_path, "nl", "prep", valid_front_matter("prep"))
    import_files(settings, tmp_path)
    edit_as_editor(settings)
    runner = CliRunner()

    kept = runner.invoke(main, ["kb", "import", str(tmp_path)], obj=settings, catch_exceptions=False)
    assert kept.exit_code == 0
    assert "0 updated, 0 unchanged, 1 kept (edited by an editor)" in kept.stdout
    assert current(settings) == (EDITED_ANSWER, 2)

    forced = runner.invoke(main, ["kb", "import", "--force", str(tmp_path)], obj=settings, catch_exceptions=False)
    assert forced.exit_code == 0
    assert "1 updated, 0 unchanged, 0 kept (edited by an editor)" in forced.stdout
    assert current(settings) == ("Een kort antwoord.", 3)
