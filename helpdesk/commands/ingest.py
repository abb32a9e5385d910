"""`helpdesk ingest PATH...` and `helpdesk poll --once`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from helpdesk import schema
from helpdesk.cli import get_settings, main
from helpdesk.ingest.maildir import mail_files
from helpdesk.ingest.outcomes import Source
from helpdesk.ingest.polling import poll_all
from helpdesk.ingest.state import PollSummary, ingest_one


@main.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def ingest_command(paths: tuple[Path, ...]) -> None:
    """Ingest .eml files or Maildir folders through the normal pipeline and print a JSON summary."""
    settings = get_settings()
    schema.upgrade(settings)

    files = [file for path in paths for file in mail_files(path)]
    summary = PollSummary(mailbox="files", folder="")
    show_progress = sys.stderr.isatty()
    for number, file in enumerate(files, start=1):
        summary.count(ingest_one(settings, file.read_bytes(), Source()))
        if show_progress:
            click.echo(f"\r{number}/{len(files)}", err=True, nl=False)
    if show_progress:
        click.echo("", err=True)

    result = {
        "ingested": summary.ingested,
        "duplicates": summary.duplicates,
        "quarantined": summary.quarantined,
        "ignored": summary.ignored,
        "ticket_ids": summary.ticket_ids,
    }
    click.echo(json.dumps(result))


@main.command("poll")
@click.option("--once", is_flag=True, required=True, help="Poll every configured mailbox once, then exit.")
def poll_command(once: bool) -> None:
    """Fetch new mail from every mailbox in HELPDESK_MAILBOX_URL and print a JSON summary per mailbox."""
    settings = get_settings()
    schema.upgrade(settings)

    summaries = poll_all(settings)
    click.echo(json.dumps([summary.as_dict() for summary in summaries], indent=2))
    failed = [summary for summary in summaries if summary.error]
    for summary in failed:
        click.echo(f"Error: mailbox {summary.mailbox}: {summary.error}", err=True)
    if failed:
        raise SystemExit(1)
