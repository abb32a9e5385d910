"""Two IMAP mailboxes on the private Dovecot, each routed to its own team by its URL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpdesk.db import session_scope
from helpdesk.ingest.polling import poll_all
from helpdesk.teams import services
from helpdesk.teams.models import MailboxRoute
from helpdesk.tickets.models import Ticket
from tests.test_teams_services import mail

pytestmark = pytest.mark.dovecot


def test_imap_mailboxes_route_to_teams(settings, dovecot, imap_account):
    gent_account = dovecot.add_user()
    settings = settings.with_overrides(
        mailbox_urls=(imap_account.imap_url, gent_account.imap_url), imap_after_processing="seen"
    )
    with session_scope(settings) as session:
        antwerpen = services.create_team(session, "Antwerpen", None)
        gent = services.create_team(session, "Gent", None)
        services.route_mailbox(session, imap_account.imap_url, antwerpen, None)
        services.route_mailbox(session, gent_account.imap_url, gent, None)
        team_ids = {"Antwerpen": antwerpen.id, "Gent": gent.id}
    imap_account.append(mail("een@example.net", "Vraag uit Antwerpen", "imap-a@example.net"))
    gent_account.append(mail("twee@example.net", "Vraag uit Gent", "imap-b@example.net"))

    summaries = poll_all(settings)

    assert [summary.error for summary in summaries] == [None, None]
    with session_scope(settings) as session:
        teams = {ticket.subject: ticket.team_id for ticket in session.scalars(select(Ticket))}
        stored_keys = session.scalars(select(MailboxRoute.mailbox)).all()
    assert teams == {"Vraag uit Antwerpen": team_ids["Antwerpen"], "Vraag uit Gent": team_ids["Gent"]}
    for key in stored_keys:
        assert imap_account.password not in key
        assert gent_account.password not in key
