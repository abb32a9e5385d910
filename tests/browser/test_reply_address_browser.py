"""The reply address of a mailbox in Chromium: an administrator sets it on the teams page."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.accounts.models import Role
from helpdesk.db import session_scope
from helpdesk.teams.models import MailboxRoute
from tests.admin_fixtures import PASSWORD, make_user


def test_admin_sets_reply_address_in_browser(live_server, page, page_events):
    make_user(live_server.settings, "admin@helpdesk.test", Role.ADMIN, display_name="Beheerder Bart")
    page.goto(f"{live_server.url}/admin/login")
    page.get_by_label("E-mailadres").fill("admin@helpdesk.test")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_url(f"{live_server.url}/admin/queue/")

    page.get_by_role("link", name="Teams en mailboxen").click()
    page.get_by_label("Antwoordadres").first.fill("gent@helpdesk.example.org")
    page.get_by_label("Afzendernaam").first.fill("Helpdesk Gent")
    page.get_by_role("button", name="Route bewaren").first.click()

    assert "Route bewaard" in page.content()
    assert page.get_by_label("Antwoordadres").first.input_value() == "gent@helpdesk.example.org"
    assert page.get_by_label("Afzendernaam").first.input_value() == "Helpdesk Gent"
    with session_scope(live_server.settings) as session:
        route = session.scalars(select(MailboxRoute)).one()
        assert route.reply_address == "gent@helpdesk.example.org"
        assert route.reply_name == "Helpdesk Gent"
        assert route.team_id is None
    assert page_events.csp_violations() == []
