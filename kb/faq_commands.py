"""The `helpdesk faq mine` and `helpdesk faq export` commands."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from helpdesk.cli import get_settings
from helpdesk.db import session_scope

MISSING_TABLES = "the database has no FAQ tables: run `helpdesk db upgrade` first"


@click.group("faq")
def faq_group() -> None:
    """Find frequent questions and export the public FAQ."""


@faq_group.command("mine")
def faq_mine() -> None:
    """Group the client questions of the last HELPDESK_FAQ_WINDOW_DAYS days and store the ranked groups."""
    from kb.mining import run_mining

    settings = get_settings()
    try:
        with session_scope(settings) as session:
            result = run_mining(session, settings)
    except (OperationalError, ProgrammingError):
        raise click.ClickException(MISSING_TABLES) from None
    click.echo(
        f"Mining run {result.run_id}: {result.question_count} questions in {settings.faq_window_days} days, "
        f"{result.group_count} groups, {result.uncovered_count} not covered by a published article."
    )
    if result.clustered_count < result.question_count:
        click.echo(f"Grouped a sample of {result.clustered_count} questions.")


@faq_group.command("export")
@click.option(
    "--format",
    "export_format",
    type=click.Choice(["html", "json"]),
    required=True,
    help="html: static pages with relative links and the stylesheet; json: one feed of all published articles.",
)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def faq_export(export_format: str, directory: Path) -> None:
    """Write the published FAQ to DIRECTORY for hosting on another website."""
    from kb.faq_export import export_html, export_json

    settings = get_settings()
    try:
        with session_scope(settings) as session:
            if export_format == "html":
                written = export_html(session, settings, directory)
            else:
                written = export_json(session, settings, directory)
    except (OperationalError, ProgrammingError):
        raise click.ClickException(MISSING_TABLES) from None
    except OSError as error:
        raise click.ClickException(f"{directory}: cannot be written ({error.strerror}); check the path and its permissions.") from None
    click.echo(f"Exported {len(written)} files to {directory}.")
