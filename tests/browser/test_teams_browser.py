"""The team screens in Chromium: an administrator creates a team, picks members and routes a mailbox."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.accounts.models import Role
from helpdesk.db import session_scope
from helpdesk.teams.models import Team
from tests.admin_fixtures import PASSWORD, make_ticket, make_user


def test_admin_sets_up_team_in_browser(live_server, page, page_events):
    make_user(live_server.settings, "admin@helpdesk.test", Role.ADMIN, display_name="Beheerder Bart")
    make_user(live_server.settings, "anna@helpdesk.test", display_name="Agent Anna")
    page.goto(f"{live_server.url}/admin/login")
    page.get_by_label("E-mailadres").fill("admin@helpdesk.test")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_url(f"{live_server.url}/admin/queue/")

    page.get_by_role("link", name="Teams en mailboxen").click()
    page.get_by_label("Naam van het team").fill("Antwerpen")
    page.get_by_role("button", name="Team aanmaken").click()
    page.get_by_label("Agent Anna").check()
    page.get_by_role("button", name="Team bewaren").click()
    page.locator("select[id^=route-]").first.select_option(label="Antwerpen")
    page.get_by_role("button", name="Route bewaren").first.click()

    assert "Nieuwe tickets van deze mailbox gaan naar het gekozen team" in page.content()
    with session_scope(live_server.settings) as session:
        team = session.scalars(select(Team)).one()
        assert team.name == "Antwerpen"
        assert [member.email for member in team.members] == ["anna@helpdesk.test"]
        assert len(team.routes) == 1
    assert page_events.csp_violations() == []


def test_admin_moves_ticket_in_browser(live_server, page, page_events):
    make_user(live_server.settings, "admin@helpdesk.test", Role.ADMIN, display_name="Beheerder Bart")
    with session_scope(live_server.settings) as session:
        session.add_all([Team(name="Antwerpen"), Team(name="Gent")])
    ticket_id = make_ticket(live_server.settings, "Vraag over een test")
    page.goto(f"{live_server.url}/admin/login")
    page.get_by_label("E-mailadres").fill("admin@helpdesk.test")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_url(f"{live_server.url}/admin/queue/")

    page.goto(f"{live_server.url}/admin/ticket/{ticket_id}")
    page.get_by_label("Team", exact=True).select_option(label="Gent")
    page.get_by_role("button", name="Naar dit team verplaatsen").click()

    assert "Het ticket is verplaatst." in page.content()
    assert "Team: Gent" in page.content()
    assert page_events.csp_violations() == []
