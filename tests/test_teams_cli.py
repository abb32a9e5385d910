"""`helpdesk team` and `helpdesk tickets export --team`: set-up from the command line."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from helpdesk.accounts import services as accounts
from helpdesk.cli import main
from helpdesk.db import session_scope
from helpdesk.teams.models import MailboxRoute, Team
from tests.admin_fixtures import make_ticket


def run_cli(settings, *arguments: str):
    env = {
        "HELPDESK_DATA_DIR": str(settings.data_dir),
        "HELPDESK_DATABASE_URL": settings.database_url,
        "HELPDESK_SECRET_KEY": settings.secret_key,
        "HELPDESK_FROM_ADDRESS": settings.from_address,
        "HELPDESK_MAILBOX_URL": ",".join(settings.mailbox_urls),
    }
    return CliRunner().invoke(main, list(arguments), env=env, catch_exceptions=False)


def test_team_set_up_from_cli(settings):
    with session_scope(settings) as session:
        accounts.create_user(session, "anna@helpdesk.test", "correct horse battery staple")
    url = "imaps://gent%40example.org:geheim@mail.example.org/INBOX"

    created = run_cli(settings, "team", "create", "Gent")
    again = run_cli(settings, "team", "create", "Gent", "--if-missing")
    member = run_cli(settings, "team", "add-member", "Gent", "anna@helpdesk.test")
    routed = run_cli(settings, "team", "route", url, "Gent")

    for result in (created, again, member, routed):
        assert result.exit_code == 0, result.output
    assert "geheim" not in routed.output
    with session_scope(settings) as session:
        team = session.scalars(select(Team)).one()
        assert [user.email for user in team.members] == ["anna@helpdesk.test"]
        route = session.scalars(select(MailboxRoute)).one()
        assert route.mailbox == "imaps://gent@example.org@mail.example.org:993"
        assert route.team_id == team.id


def test_team_create_twice_fails(settings):
    run_cli(settings, "team", "create", "Gent")

    result = run_cli(settings, "team", "create", "gent")

    assert result.exit_code == 1
    assert "Er bestaat al een team" in result.output


def test_unknown_member_named(settings):
    run_cli(settings, "team", "create", "Gent")

    result = run_cli(settings, "team", "add-member", "Gent", "niemand@helpdesk.test")

    assert result.exit_code == 1
    assert "niemand@helpdesk.test" in result.output


def test_route_cleared_without_team(settings):
    run_cli(settings, "team", "create", "Gent")
    run_cli(settings, "team", "route", "maildir:/srv/gent", "Gent")

    result = run_cli(settings, "team", "route", "maildir:/srv/gent")

    assert result.exit_code == 0, result.output
    with session_scope(settings) as session:
        assert session.scalars(select(MailboxRoute)).all() == []


def test_team_list_shows_routes(settings):
    run_cli(settings, "team", "create", "Gent")
    run_cli(settings, "team", "route", settings.mailbox_urls[0], "Gent")

    result = run_cli(settings, "team", "list")

    assert result.exit_code == 0, result.output
    assert "team Gent: -" in result.output
    assert f"mailbox {settings.mailbox_urls[0]} -> Gent" in result.output


def test_export_limited_to_team(settings):
    run_cli(settings, "team", "create", "Gent")
    with session_scope(settings) as session:
        team_id = session.scalars(select(Team.id)).one()
    in_team = make_ticket(settings, "Vraag uit Gent", team_id=team_id, message_id="g@client.example.net")
    make_ticket(settings, "Vraag zonder team", message_id="n@client.example.net")

    result = run_cli(settings, "tickets", "export", "--json", "--team", "Gent")

    assert result.exit_code == 0, result.output
    exported = json.loads(result.stdout)
    assert [ticket["id"] for ticket in exported] == [in_team]
    assert exported[0]["team_id"] == team_id


def test_export_unknown_team_fails(settings):
    result = run_cli(settings, "tickets", "export", "--json", "--team", "Nergens")

    assert result.exit_code == 1
    assert "Nergens" in result.output
