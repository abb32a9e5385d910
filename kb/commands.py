"""The `helpdesk kb import/export` and `helpdesk suggest` commands.

Heavy modules (language models, the search index) load inside the commands, so
that `helpdesk --help` stays fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Iterator

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from helpdesk.cli import get_settings
from helpdesk.config import Settings
from helpdesk.db import session_scope

MISSING_TABLES = "the database has no knowledge-base tables: run `helpdesk db upgrade` first"


@click.group("kb")
def kb_group() -> None:
    """Import and export knowledge-base articles."""


def _with_progress(paths: list[Path]) -> Iterator[Path]:
    """Yield `paths`, drawing a progress bar on stderr when it is a terminal."""
    if not sys.stderr.isatty():
        yield from paths
        return
    with click.progressbar(paths, label="Importing articles", file=sys.stderr) as bar:
        yield from bar


@kb_group.command("import")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--force",
    is_flag=True,
    help="Replace articles whose current version an editor wrote with the file's text (the editor's version stays in the history).",
)
def kb_import(directory: Path | None, force: bool) -> None:
    """Create or update articles from DIRECTORY/<language>/<slug>.md (default: kb/content).

    An article whose current version an editor wrote is kept and counted as
    kept, unless --force is given. A file that cannot be read is reported and
    skipped; the command then exits with status 1.
    """
    from kb.transfer import CONTENT_DIR, import_directory

    directory = directory or CONTENT_DIR
    try:
        with session_scope(get_settings()) as session:
            summary = import_directory(session, directory, progress=_with_progress, force=force)
    except FileNotFoundError as error:
        raise click.ClickException(str(error)) from None
    except (OperationalError, ProgrammingError):
        raise click.ClickException(MISSING_TABLES) from None

    for error in summary.errors:
        click.echo(f"error: {error}", err=True)
    click.echo(f"Imported {directory}: {summary.describe()}.")
    if summary.errors:
        sys.exit(1)


@kb_group.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def kb_export(directory: Path) -> None:
    """Write every article to DIRECTORY/<language>/<slug>.md, the layout that import reads."""
    from kb.transfer import export_directory

    try:
        with session_scope(get_settings()) as session:
            written = export_directory(session, directory)
    except (OperationalError, ProgrammingError):
        raise click.ClickException(MISSING_TABLES) from None
    click.echo(f"Exported {len(written)} articles to {directory}.")


def _database_exists(settings: Settings) -> bool:
    if settings.database_url.startswith("sqlite"):
        path = settings.database_url.split("///", 1)[-1]
        return path == ":memory:" or Path(path).exists()
    return True


def load_index(settings: Settings):
    """Return the index of the database's published articles, or of kb/content when the database has none."""
    from kb.catalog import index_for_directory, index_for_session
    from kb.transfer import CONTENT_DIR

    if _database_exists(settings):
        try:
            with session_scope(settings) as session:
                index = index_for_session(session)
            if len(index):
                return index
        except (OperationalError, ProgrammingError):
            pass  # no tables yet: fall back to the files
    return index_for_directory(CONTENT_DIR)


@click.command("suggest")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per message, one per line.")
def suggest_command(files: tuple[str, ...], as_json: bool) -> None:
    """Suggest FAQ articles and a reply draft for raw mail FILES ('-' reads one mail from stdin).

    Stores nothing. Uses the published articles in the database, or kb/content
    when the database has none.
    """
    from helpdesk.redaction import redact
    from kb.drafts import render_draft
    from kb.mailtext import parse_mail
    from kb.suggest import suggest

    settings = get_settings()
    index = load_index(settings)
    for name in files:
        try:
            raw = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
        except OSError as error:
            raise click.ClickException(f"{name}: cannot be read ({error.strerror}); check the path.") from None

        mail = parse_mail(raw)
        subject = redact(mail.subject).text
        text = redact(mail.new_text or mail.text).text
        result = suggest(index, subject, text, received=mail.date.date() if mail.date else None)
        draft = render_draft(
            settings, index.by_slug_language, result.confident_slugs, result.language, result.urgency.reason
        )
        output = {
            "file": name,
            "language": result.language,
            "confident": result.confident,
            "suggestions": [
                {"slug": item.slug, "title": item.title, "score": item.score, "confident": item.confident}
                for item in result.suggestions
            ],
            "draft": draft,
            "urgent": result.urgency.urgent,
            "urgent_reason": result.urgency.reason,
        }
        if as_json:
            click.echo(json.dumps(output, ensure_ascii=False))
        else:
            _echo_readable(output)


def _echo_readable(output: dict) -> None:
    urgency = f", urgent: {output['urgent_reason']}" if output["urgent"] else ""
    click.echo(f"== {output['file']} (language {output['language']}{urgency})")
    for rank, item in enumerate(output["suggestions"], start=1):
        mark = "" if item["confident"] else "  (not confident)"
        click.echo(f"{rank}. {item['slug']}  {item['score']:.1f}  {item['title']}{mark}")
    click.echo("")
    click.echo(output["draft"])
