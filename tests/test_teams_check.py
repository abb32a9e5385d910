"""`helpdesk check` on teams: routes of mailboxes no longer fetched, and teams without members."""

from __future__ import annotations

from helpdesk.accounts import services as accounts
from helpdesk.checks.results import CheckContext, Status
from helpdesk.checks.teams import check_teams
from helpdesk.db import session_scope
from helpdesk.teams import services


def dutch(settings) -> CheckContext:
    return CheckContext(settings=settings, gettext=lambda text: text, timeout=5)


def test_no_teams_ok(settings):
    result = check_teams(dutch(settings), database_ready=True)

    assert result.status is Status.OK
    assert "geen teams" in result.message


def test_routed_team_with_members_ok(settings):
    with session_scope(settings) as session:
        user = accounts.create_user(session, "anna@helpdesk.test", "correct horse battery staple")
        team = services.create_team(session, "Gent", None)
        services.set_members(session, team, [user.id], None)
        services.route_mailbox(session, settings.mailbox_urls[0], team, None)

    result = check_teams(dutch(settings), database_ready=True)

    assert result.status is Status.OK
    assert result.message == "1 teams met leden, 1 mailboxen met een route naar een team."


def test_route_of_removed_mailbox_warns(settings):
    with session_scope(settings) as session:
        user = accounts.create_user(session, "anna@helpdesk.test", "correct horse battery staple")
        team = services.create_team(session, "Gent", None)
        services.set_members(session, team, [user.id], None)
        services.route_mailbox(session, "maildir:/srv/oud", team, None)

    result = check_teams(dutch(settings), database_ready=True)

    assert result.status is Status.WARNING
    assert "maildir:/srv/oud" in result.message


def test_team_without_members_warns(settings):
    with session_scope(settings) as session:
        services.create_team(session, "Gent", None)

    result = check_teams(dutch(settings), database_ready=True)

    assert result.status is Status.WARNING
    assert "Team Gent heeft geen leden" in result.message


def test_skipped_without_database(settings):
    assert check_teams(dutch(settings), database_ready=False).status is Status.SKIPPED
