"""Article services and file import/export, on SQLite and PostgreSQL."""

import datetime as dt
import textwrap

import pytest
from sqlalchemy import select

from helpdesk.db import session_scope
from kb.articles import (
    ArticleError,
    create_draft,
    get_article,
    list_versions,
    restore_version,
    save_article,
    set_status,
)
from kb.files import read_article_file
from kb.models import Article, ArticleStatus
from kb.transfer import export_directory, import_directory


def write_article(directory, language, slug, front_matter, body="Tekst van het artikel.\n"):
    path = directory / language / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{textwrap.dedent(front_matter).strip()}\n---\n\n{body}", encoding="utf-8")
    return path


def valid_front_matter(slug, language="nl", title="Een titel", extra=""):
    return f"""
        slug: {slug}
        language: {language}
        theme: gezondheid
        title: {title}
        short_answer: Een kort antwoord.
        keywords: [condoom, PEP]
        sources:
          - title: Een bron
            url: https://example.org/bron
        last_checked: 2026-12-01
        status: published
        {extra}
    """


def test_create_draft_stores_first_version(settings):
    with session_scope(settings) as session:
        article = create_draft(session, "prep", "nl", "Wat is PrEP?", short_answer="Een pil tegen hiv.", keywords=["prep"])
        assert article.status == ArticleStatus.DRAFT
        assert article.version == 1
        versions = list_versions(session, article)
        assert [version.version for version in versions] == [1]
        assert versions[0].short_answer == "Een pil tegen hiv."


def test_save_makes_new_version_only_on_change(settings):
    with session_scope(settings) as session:
        article = create_draft(session, "prep", "nl", "Wat is PrEP?")
        assert save_article(session, article, title="Wat is PrEP?") is False
        assert save_article(session, article, short_answer="Nieuw antwoord.") is True
        assert article.version == 2
        assert [version.version for version in list_versions(session, article)] == [2, 1]


def test_restore_version_saves_old_content_as_new_version(settings):
    with session_scope(settings) as session:
        article = create_draft(session, "prep", "nl", "Eerste titel", body="oud")
        save_article(session, article, title="Tweede titel", body="nieuw")
        assert restore_version(session, article, 1) is True
        assert article.title == "Eerste titel"
        assert article.body == "oud"
        assert article.version == 3


def test_restore_unknown_version_names_the_range(settings):
    with session_scope(settings) as session:
        article = create_draft(session, "prep", "nl", "Titel")
        with pytest.raises(ArticleError, match="no version 7"):
            restore_version(session, article, 7)


def test_set_status_keeps_version(settings):
    with session_scope(settings) as session:
        article = create_draft(session, "prep", "nl", "Titel")
        set_status(session, article, "published")
        assert article.status == ArticleStatus.PUBLISHED
        assert article.version == 1
        with pytest.raises(ArticleError, match="status 'live' is invalid"):
            set_status(session, article, "live")


def test_translation_needs_dutch_original(settings):
    with session_scope(settings) as session:
        with pytest.raises(ArticleError, match="no Dutch original"):
            create_draft(session, "prep", "fr", "Qu'est-ce que la PrEP ?")
        create_draft(session, "prep", "nl", "Wat is PrEP?")
        french = create_draft(session, "prep", "fr", "Qu'est-ce que la PrEP ?")
        assert french.slug == "prep"


@pytest.mark.parametrize(
    ("slug", "language", "message"),
    [("Condoom Gescheurd", "nl", "slug 'Condoom Gescheurd' is invalid"), ("prep", "de", "language 'de' is not supported")],
)
def test_create_draft_rejects_bad_values(settings, slug, language, message):
    with session_scope(settings) as session:
        with pytest.raises(ArticleError, match=message):
            create_draft(session, slug, language, "Titel")


def test_import_creates_then_skips_unchanged(settings, tmp_path):
    write_article(tmp_path, "nl", "prep", valid_front_matter("prep"))
    write_article(tmp_path, "fr", "prep", valid_front_matter("prep", "fr", "La PrEP"))

    with session_scope(settings) as session:
        first = import_directory(session, tmp_path)
    with session_scope(settings) as session:
        second = import_directory(session, tmp_path)
        article = get_article(session, "prep", "fr")
        assert article.last_checked == dt.date(2026, 12, 1)
        assert article.sources == [{"title": "Een bron", "url": "https://example.org/bron"}]
        assert article.status == ArticleStatus.PUBLISHED

    assert first.created == ["nl/prep.md", "fr/prep.md"]
    assert second.unchanged == ["nl/prep.md", "fr/prep.md"]
    assert second.errors == []


def test_import_changed_file_adds_version(settings, tmp_path):
    write_article(tmp_path, "nl", "prep", valid_front_matter("prep"))
    with session_scope(settings) as session:
        import_directory(session, tmp_path)
    write_article(tmp_path, "nl", "prep", valid_front_matter("prep", title="Een betere titel"))
    with session_scope(settings) as session:
        summary = import_directory(session, tmp_path)
        article = get_article(session, "prep", "nl")
        assert article.version == 2
        assert article.title == "Een betere titel"
    assert summary.updated == ["nl/prep.md"]


def test_import_reports_bad_files_and_imports_the_rest(settings, tmp_path):
    write_article(tmp_path, "nl", "prep", valid_front_matter("prep"))
    write_article(tmp_path, "nl", "zonder-slug", "language: nl\ntitle: Titel")
    write_article(tmp_path, "nl", "andere-naam", valid_front_matter("verkeerde-slug"))
    write_article(tmp_path, "nl", "kapot", "slug: kapot\nlanguage: nl\ntitle: [niet gesloten")
    write_article(tmp_path, "en", "wees", valid_front_matter("wees", "en", "An orphan"))

    with session_scope(settings) as session:
        summary = import_directory(session, tmp_path)
        slugs = session.scalars(select(Article.slug)).all()

    assert summary.created == ["nl/prep.md"]
    assert slugs == ["prep"]
    errors = "\n".join(summary.errors)
    assert len(summary.errors) == 4
    assert "zonder-slug.md: slug is missing from the front matter; add 'slug: ...'" in errors
    assert "andere-naam.md: slug 'verkeerde-slug' differs from the file name; rename the file to verkeerde-slug.md" in errors
    assert "kapot.md: the front matter is not valid YAML" in errors
    assert "wees.md: article en/wees has no Dutch original: create nl/wees first" in errors


def test_missing_language_names_the_file(tmp_path):
    path = write_article(tmp_path, "nl", "prep", "slug: prep\ntitle: Titel")
    with pytest.raises(ValueError, match=r"prep\.md: language is missing from the front matter"):
        read_article_file(path)


def test_export_writes_files_that_import_reads_back(settings, tmp_path):
    source = tmp_path / "source"
    write_article(source, "nl", "prep", valid_front_matter("prep"), body="## Kop\n\nTekst met *nadruk*.\n")
    with session_scope(settings) as session:
        import_directory(session, source)
        written = export_directory(session, tmp_path / "export")

    assert [path.relative_to(tmp_path / "export").as_posix() for path in written] == ["nl/prep.md"]
    exported = read_article_file(written[0])
    original = read_article_file(source / "nl" / "prep.md")
    assert exported.content == original.content
    assert exported.status == original.status


def test_session_index_rebuilds_after_change(settings):
    from kb.catalog import index_for_session

    with session_scope(settings) as session:
        article = create_draft(session, "prep", "nl", "Wat is PrEP?", status="published", short_answer="Een pil tegen hiv.")
    with session_scope(settings) as session:
        first = index_for_session(session)
        assert index_for_session(session) is first
        assert first.slugs == ["prep"]
    with session_scope(settings) as session:
        article = get_article(session, "prep", "nl")
        save_article(session, article, short_answer="Een pil die hiv voorkomt.")
    with session_scope(settings) as session:
        second = index_for_session(session)
        assert second is not first
        assert second.by_slug_language[("prep", "nl")].short_answer == "Een pil die hiv voorkomt."
    with session_scope(settings) as session:
        set_status(session, get_article(session, "prep", "nl"), "archived")
    with session_scope(settings) as session:
        assert len(index_for_session(session)) == 0


# Ghapro (Antwerp) and Pasop (Ghent) now work together as Violett: articles use
# the current name and mention the old names only next to it.
OLD_ORGANISATION_NAMES = ("Ghapro", "Pasop")


def published_content_files():
    from kb.transfer import CONTENT_DIR

    return sorted(CONTENT_DIR.glob("*/*.md"))


@pytest.mark.parametrize("path", published_content_files(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_article_names_organisation_as_violett(path):
    article = read_article_file(path)
    body = article.content.get("body", "")
    paragraphs = [part for part in body.split("\n\n") if any(name in part for name in OLD_ORGANISATION_NAMES)]
    source_texts = [f"{source.get('title', '')} {source.get('url', '')}" for source in article.content.get("sources", [])]

    for paragraph in paragraphs:
        assert "Violett" in paragraph, paragraph
    for text in source_texts:
        assert not any(name.lower() in text.lower() for name in OLD_ORGANISATION_NAMES), text
