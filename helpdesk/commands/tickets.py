"""`helpdesk tickets export --json`: tickets with redacted messages, never addresses.

Inbound text is stored redacted. Outbound staff replies are stored as sent,
and they often name the client, so the export redacts them here.
"""

from __future__ import annotations

import json

import click
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from helpdesk import schema
from helpdesk.cli import get_settings, main
from helpdesk.db import session_scope
from helpdesk.mail.problems import stored_problems
from helpdesk.redaction import redact
from helpdesk.teams.services import find_team
from helpdesk.tickets.models import Direction, Message, Ticket


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _redacted_outbound(message: Message, text: str) -> str:
    if message.direction == Direction.OUTBOUND and text:
        return redact(text).text
    return text


def _message_record(message: Message) -> dict:
    return {
        "id": message.id,
        "direction": message.direction.value,
        "subject": _redacted_outbound(message, message.subject),
        "body": _redacted_outbound(message, message.body),
        "new_text": _redacted_outbound(message, message.new_text),
        "language": message.language,
        "automatic": message.is_automatic,
        "automatic_reason": message.automatic_reason,
        "parse_problems": stored_problems(message.parse_problem),
        "delivery_state": message.delivery_state.value if message.delivery_state else None,
        "received_at": _iso(message.received_at),
        "attachments": [
            {"filename": attachment.filename, "content_type": attachment.content_type, "size": attachment.size}
            for attachment in message.attachments
        ],
    }


def ticket_record(ticket: Ticket) -> dict:
    """Return the export of one ticket: redacted text, states and suggestions only."""
    return {
        "id": ticket.id,
        "status": ticket.status.value,
        "subject": ticket.subject,
        "language": ticket.language,
        "theme": ticket.theme,
        "urgent": ticket.urgent,
        "urgent_reason": ticket.urgent_reason,
        "quarantine_reason": stored_problems(ticket.quarantine_reason),
        "team_id": ticket.team_id,
        "created_at": _iso(ticket.created_at),
        "last_message_at": _iso(ticket.last_message_at),
        "suggested_slugs": [suggestion.slug for suggestion in ticket.suggestions],
        "draft_slugs": list(ticket.draft_slugs or []),
        "messages": [_message_record(message) for message in ticket.messages],
    }


@main.group("tickets")
def tickets_group() -> None:
    """Inspect and export tickets."""


@tickets_group.command("export")
@click.option("--json", "as_json", is_flag=True, required=True, help="Write the tickets as one JSON array to stdout.")
@click.option("--team", "team_name", default=None, help="Export only the tickets of this team (see `helpdesk team list`).")
def export_command(as_json: bool, team_name: str | None) -> None:
    """Export every ticket with status, language, urgency, redacted messages and suggested articles."""
    settings = get_settings()
    schema.upgrade(settings)

    with session_scope(settings) as session:
        conditions = []
        if team_name is not None:
            team = find_team(session, team_name)
            if team is None:
                raise click.ClickException(f"Team {team_name!r} does not exist: `helpdesk team list` shows the teams.")
            conditions.append(Ticket.team_id == team.id)
        tickets = session.scalars(
            select(Ticket)
            .where(*conditions)
            .options(
                selectinload(Ticket.messages).selectinload(Message.attachments),
                selectinload(Ticket.suggestions),
            )
            .order_by(Ticket.id)
        ).all()
        records = [ticket_record(ticket) for ticket in tickets]
    click.echo(json.dumps(records, ensure_ascii=False, indent=2))
