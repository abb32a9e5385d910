"""`helpdesk ingest PATH...` and `helpdesk poll --once`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from helpdesk import schema
from helpdesk.cli import get_settings, main
from helpdesk.config import Settings
from helpdesk.db import session_scope
from helpdesk.ingest.maildir import mail_files
from helpdesk.ingest.outcomes import Source
from helpdesk.ingest.polling import poll_all
from helpdesk.ingest.state import PollSummary, ingest_one
from helpdesk.teams.services import TeamError, mailbox_choices, route_key


@main.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--mailbox",
    metavar="KEY",
    help="Mailbox the files came from (a key from `helpdesk team list` or an entry of HELPDESK_MAILBOX_URL): "
    "new tickets get its team and reply address.",
)
def ingest_command(paths: tuple[Path, ...], mailbox: str | None) -> None:
    """Ingest .eml files or Maildir folders through the normal pipeline and print a JSON summary."""
    settings = get_settings()
    schema.upgrade(settings)
    source = Source(mailbox=_known_mailbox(settings, mailbox)) if mailbox is not None else Source()

    files = [file for path in paths for file in mail_files(path)]
    summary = PollSummary(mailbox=source.mailbox or "files", folder="")
    show_progress = sys.stderr.isatty()
    for number, file in enumerate(files, start=1):
        summary.count(ingest_one(settings, file.read_bytes(), source))
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


def _known_mailbox(settings: Settings, value: str) -> str:
    """Return the mailbox key of `value`; raise a usage error unless it is configured, polled or routed."""
    try:
        key = route_key(value)
    except TeamError as error:
        raise click.BadParameter(str(error), param_hint="--mailbox") from None

    with session_scope(settings) as session:
        known = [choice.key for choice in mailbox_choices(session, settings)]
    if key not in known:
        listed = ", ".join(known) or "none yet"
        raise click.BadParameter(
            f"mailbox {key!r} is not configured, polled or routed: use one of: {listed}.", param_hint="--mailbox"
        )
    return key


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
