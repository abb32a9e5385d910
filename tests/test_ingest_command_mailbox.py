"""`helpdesk ingest --mailbox KEY` gives new tickets the team route and reply address of that mailbox."""

import json

from click.testing import CliRunner

from helpdesk.cli import main
from helpdesk.db import session_scope
from helpdesk.teams import services as teams
from helpdesk.tickets.models import Ticket
from tests.test_ingest_pipeline import make_mail

MAILBOX = "maildir:/srv/mail/gezondheid"


def route_to_team(settings, mailbox: str = MAILBOX) -> int:
    with session_scope(settings) as session:
        team = teams.create_team(session, "Team Gezondheid", None)
        teams.route_mailbox(session, mailbox, team, None)
        return team.id


def ingest_file(settings, tmp_path, *options: str):
    path = tmp_path / "vraag.eml"
    path.write_bytes(make_mail())
    return CliRunner().invoke(main, ["ingest", *options, str(path)], obj=settings, catch_exceptions=False)


def ticket(settings, ticket_id: int) -> tuple[int | None, str | None]:
    with session_scope(settings) as session:
        row = session.get(Ticket, ticket_id)
        return row.team_id, row.mailbox


def test_ingest_mailbox_applies_team_route(settings, tmp_path):
    team_id = route_to_team(settings)

    result = ingest_file(settings, tmp_path, "--mailbox", MAILBOX)

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["ingested"] == 1
    assert ticket(settings, summary["ticket_ids"][0]) == (team_id, MAILBOX)


def test_ingest_without_mailbox_has_no_team(settings, tmp_path):
    route_to_team(settings)

    result = ingest_file(settings, tmp_path)

    assert ticket(settings, json.loads(result.stdout)["ticket_ids"][0]) == (None, None)


def test_ingest_configured_mailbox_without_route(settings, tmp_path):
    configured = settings.with_overrides(mailbox_urls=[f"maildir:{tmp_path / 'box'}"])

    result = ingest_file(configured, tmp_path, "--mailbox", f"maildir:{tmp_path / 'box'}")

    assert result.exit_code == 0, result.output
    assert ticket(configured, json.loads(result.stdout)["ticket_ids"][0]) == (None, f"maildir:{tmp_path / 'box'}")


def test_ingest_unknown_mailbox_rejected(settings, tmp_path):
    route_to_team(settings)

    result = ingest_file(settings, tmp_path, "--mailbox", "maildir:/srv/mail/typo")

    assert result.exit_code == 2
    assert "mailbox 'maildir:/srv/mail/typo' is not configured, polled or routed" in result.output
    assert MAILBOX in result.output
    with session_scope(settings) as session:
        assert session.query(Ticket).count() == 0
