"""Teams: routing mail from two mailboxes, visibility, moving tickets and team administration."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from sqlalchemy import select

from helpdesk.accounts import services as accounts
from helpdesk.accounts.models import AuditEntry, Role, User
from helpdesk.db import session_scope, utcnow
from helpdesk.ingest.polling import poll_all
from helpdesk.ingest.sources import mailbox_key
from helpdesk.teams import access, services
from helpdesk.teams.models import MailboxRoute, Team
from helpdesk.tickets.models import Ticket, TicketEvent
from helpdesk.tickets.queue import QueueQuery, queue_page
from helpdesk.tickets.services import TicketActionError, assign

PASSWORD = "correct horse battery staple"


def mail(sender: str, subject: str, message_id: str, in_reply_to: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "vragen@helpdesk.test"
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        message["In-Reply-To"] = f"<{in_reply_to}>"
        message["References"] = f"<{in_reply_to}>"
    message.set_content("Hallo, ik heb een vraag over een test.")
    return message.as_bytes()


def deliver(maildir, name: str, raw: bytes) -> None:
    for folder in ("new", "cur", "tmp"):
        (maildir / folder).mkdir(parents=True, exist_ok=True)
    (maildir / "new" / name).write_bytes(raw)


@pytest.fixture
def two_mailboxes(settings, tmp_path):
    """Settings with the mailboxes of Antwerpen and Gent, each routed to its own team."""
    antwerpen, gent = tmp_path / "antwerpen", tmp_path / "gent"
    urls = (f"maildir:{antwerpen}", f"maildir:{gent}")
    routed = settings.with_overrides(mailbox_urls=urls)
    with session_scope(routed) as session:
        team_a = services.create_team(session, "Antwerpen", None)
        team_b = services.create_team(session, "Gent", None)
        services.route_mailbox(session, urls[0], team_a, None)
        services.route_mailbox(session, urls[1], team_b, None)
        ids = (team_a.id, team_b.id)
    return routed, antwerpen, gent, ids


def make_user(settings, email: str, role: Role = Role.AGENT) -> int:
    with session_scope(settings) as session:
        return accounts.create_user(session, email, PASSWORD, role).id


def ticket_teams(settings) -> dict[str, int | None]:
    with session_scope(settings) as session:
        return {ticket.subject: ticket.team_id for ticket in session.scalars(select(Ticket))}


def test_two_mailboxes_route_to_two_teams(two_mailboxes):
    settings, antwerpen, gent, (team_a, team_b) = two_mailboxes
    deliver(antwerpen, "1.eml", mail("een@example.net", "Vraag uit Antwerpen", "a-1@example.net"))
    deliver(gent, "1.eml", mail("twee@example.net", "Vraag uit Gent", "b-1@example.net"))

    poll_all(settings)

    teams = ticket_teams(settings)
    assert teams["Vraag uit Antwerpen"] == team_a
    assert teams["Vraag uit Gent"] == team_b


def test_unrouted_mailbox_ticket_has_no_team(two_mailboxes, tmp_path):
    settings, _antwerpen, _gent, _ids = two_mailboxes
    other = tmp_path / "overig"
    settings = settings.with_overrides(mailbox_urls=(*settings.mailbox_urls, f"maildir:{other}"))
    deliver(other, "1.eml", mail("drie@example.net", "Vraag zonder team", "c-1@example.net"))

    poll_all(settings)

    assert ticket_teams(settings)["Vraag zonder team"] is None


def test_reply_through_other_mailbox_stays_in_team(two_mailboxes):
    settings, antwerpen, gent, (_team_a, team_b) = two_mailboxes
    deliver(gent, "1.eml", mail("twee@example.net", "Vraag uit Gent", "b-1@example.net"))
    poll_all(settings)
    deliver(antwerpen, "2.eml", mail("twee@example.net", "Re: Vraag uit Gent", "b-2@example.net", in_reply_to="b-1@example.net"))

    poll_all(settings)

    with session_scope(settings) as session:
        tickets = session.scalars(select(Ticket)).all()
        assert len(tickets) == 1
        assert len(tickets[0].messages) == 2
        assert tickets[0].team_id == team_b


def test_agent_queue_shows_own_team_and_unrouted(two_mailboxes):
    settings, antwerpen, gent, (team_a, _team_b) = two_mailboxes
    deliver(antwerpen, "1.eml", mail("een@example.net", "Vraag uit Antwerpen", "a-1@example.net"))
    deliver(gent, "1.eml", mail("twee@example.net", "Vraag uit Gent", "b-1@example.net"))
    poll_all(settings)
    agent_id = make_user(settings, "anna@helpdesk.test")
    with session_scope(settings) as session:
        session.add(Ticket(subject="Vraag zonder team"))
        services.set_members(session, session.get(Team, team_a), [agent_id], None)

    with session_scope(settings) as session:
        agent = session.get(User, agent_id)
        for team_filter in (access.TEAM_ALL, access.TEAM_MINE):
            page = queue_page(session, QueueQuery(), scope=access.queue_scope(session, agent, team_filter))
            assert sorted(row.subject for row in page.rows) == ["Vraag uit Antwerpen", "Vraag zonder team"]
        searched = queue_page(session, QueueQuery(search="Gent"), scope=access.queue_scope(session, agent, access.TEAM_ALL))
        assert searched.total == 0
        gent_ticket = session.scalars(select(Ticket).where(Ticket.subject == "Vraag uit Gent")).one()
        assert not access.can_open(session, agent, gent_ticket.team_id)


def test_admin_sees_every_team(two_mailboxes):
    settings, antwerpen, gent, (_team_a, team_b) = two_mailboxes
    deliver(antwerpen, "1.eml", mail("een@example.net", "Vraag uit Antwerpen", "a-1@example.net"))
    deliver(gent, "1.eml", mail("twee@example.net", "Vraag uit Gent", "b-1@example.net"))
    poll_all(settings)
    admin_id = make_user(settings, "bart@helpdesk.test", Role.ADMIN)

    with session_scope(settings) as session:
        admin = session.get(User, admin_id)
        assert access.default_team_filter(session, admin) == access.TEAM_ALL
        everything = queue_page(session, QueueQuery(), scope=access.queue_scope(session, admin, access.TEAM_ALL))
        assert everything.total == 2
        only_gent = queue_page(session, QueueQuery(), scope=access.queue_scope(session, admin, str(team_b)))
        assert [row.subject for row in only_gent.rows] == ["Vraag uit Gent"]


def test_admin_moves_ticket_with_audit(two_mailboxes):
    settings, _antwerpen, gent, (team_a, team_b) = two_mailboxes
    deliver(gent, "1.eml", mail("twee@example.net", "Vraag uit Gent", "b-1@example.net"))
    poll_all(settings)
    admin_id = make_user(settings, "bart@helpdesk.test", Role.ADMIN)

    with session_scope(settings) as session:
        ticket = session.scalars(select(Ticket)).one()
        services.move_ticket(session, ticket, session.get(Team, team_a), session.get(User, admin_id))

    with session_scope(settings) as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.team_id == team_a
        event = session.scalars(select(TicketEvent).where(TicketEvent.kind == "team_changed")).one()
        assert event.detail == {"from": team_b, "to": team_a}
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "move")).one()
        assert entry.user_id == admin_id
        assert entry.object_id == str(ticket.id)


def test_agent_cannot_move_ticket(settings):
    agent_id = make_user(settings, "anna@helpdesk.test")
    with session_scope(settings) as session:
        team = services.create_team(session, "Gent", None)
        ticket = Ticket(subject="Vraag")
        session.add(ticket)
        session.flush()
        with pytest.raises(services.TeamError, match="Alleen beheerders"):
            services.move_ticket(session, ticket, team, session.get(User, agent_id))
        assert ticket.team_id is None


def test_team_names_unique_and_checked(settings):
    with session_scope(settings) as session:
        services.create_team(session, "Antwerpen", None)
        with pytest.raises(services.TeamError, match="bestaat al"):
            services.create_team(session, "  antwerpen ", None)
        with pytest.raises(services.TeamError, match="leeg"):
            services.create_team(session, "   ", None)
        with pytest.raises(services.TeamError, match="tekens lang"):
            services.create_team(session, "x" * 101, None)


def test_team_with_tickets_not_deleted(settings):
    with session_scope(settings) as session:
        team = services.create_team(session, "Gent", None)
        session.add(Ticket(subject="Vraag", team_id=team.id))
        session.flush()
        with pytest.raises(services.TeamError, match="verplaats ze eerst"):
            services.delete_team(session, team, None)


def test_deleted_team_takes_routes_and_members(settings):
    agent_id = make_user(settings, "anna@helpdesk.test")
    with session_scope(settings) as session:
        team = services.create_team(session, "Gent", None)
        services.set_members(session, team, [agent_id], None)
        services.route_mailbox(session, "maildir:/srv/gent", team, None)
        services.delete_team(session, team, None)

    with session_scope(settings) as session:
        assert session.scalars(select(MailboxRoute)).all() == []
        agent = session.get(User, agent_id)
        assert access.member_team_ids(session, agent) == []


def test_route_stores_key_without_password(settings):
    url = "imaps://vragen%40example.org:geheim@mail.example.org/INBOX"
    with session_scope(settings) as session:
        team = services.create_team(session, "Gent", None)
        services.route_mailbox(session, url, team, None)

    with session_scope(settings) as session:
        route = session.scalars(select(MailboxRoute)).one()
        assert route.mailbox == mailbox_key(url)
        assert "geheim" not in route.mailbox


def test_route_rejects_key_with_password(settings):
    with session_scope(settings) as session:
        team = services.create_team(session, "Gent", None)
        with pytest.raises(services.TeamError, match="zonder wachtwoord"):
            services.route_mailbox(session, "pop3://vragen:geheim@mail.example.org", team, None)


def test_unknown_member_rejected(settings):
    with session_scope(settings) as session:
        team = services.create_team(session, "Gent", None)
        with pytest.raises(services.TeamError, match="bestaat niet"):
            services.set_members(session, team, [9999], None)


def test_assign_outside_team_rejected(settings):
    agent_id = make_user(settings, "anna@helpdesk.test")
    with session_scope(settings) as session:
        team = services.create_team(session, "Gent", None)
        ticket = Ticket(subject="Vraag", team_id=team.id)
        session.add(ticket)
        session.flush()
        with pytest.raises(TicketActionError, match="geen lid van het team"):
            assign(session, ticket, session.get(User, agent_id), None)
        assert ticket.assignee_id is None


def test_move_unassigns_non_member(settings):
    agent_id = make_user(settings, "anna@helpdesk.test")
    admin_id = make_user(settings, "bart@helpdesk.test", Role.ADMIN)
    with session_scope(settings) as session:
        antwerpen = services.create_team(session, "Antwerpen", None)
        gent = services.create_team(session, "Gent", None)
        services.set_members(session, antwerpen, [agent_id], None)
        ticket = Ticket(subject="Vraag", team_id=antwerpen.id, assignee_id=agent_id)
        session.add(ticket)
        session.flush()
        services.move_ticket(session, ticket, gent, session.get(User, admin_id))
        assert ticket.assignee_id is None


def test_move_keeps_member_assignee(settings):
    agent_id = make_user(settings, "anna@helpdesk.test")
    admin_id = make_user(settings, "bart@helpdesk.test", Role.ADMIN)
    with session_scope(settings) as session:
        antwerpen = services.create_team(session, "Antwerpen", None)
        gent = services.create_team(session, "Gent", None)
        services.set_members(session, gent, [agent_id], None)
        ticket = Ticket(subject="Vraag", team_id=antwerpen.id, assignee_id=agent_id)
        session.add(ticket)
        session.flush()
        services.move_ticket(session, ticket, gent, session.get(User, admin_id))
        assert ticket.assignee_id == agent_id


def test_admin_my_teams_filter(two_mailboxes):
    settings, antwerpen, gent, (team_a, _team_b) = two_mailboxes
    deliver(antwerpen, "1.eml", mail("een@example.net", "Vraag uit Antwerpen", "a-1@example.net"))
    deliver(gent, "1.eml", mail("twee@example.net", "Vraag uit Gent", "b-1@example.net"))
    poll_all(settings)
    admin_id = make_user(settings, "bart@helpdesk.test", Role.ADMIN)
    with session_scope(settings) as session:
        services.set_members(session, session.get(Team, team_a), [admin_id], None)

    with session_scope(settings) as session:
        admin = session.get(User, admin_id)
        assert access.default_team_filter(session, admin) == access.TEAM_MINE
        page = queue_page(session, QueueQuery(), scope=access.queue_scope(session, admin, access.TEAM_MINE))
        assert [row.subject for row in page.rows] == ["Vraag uit Antwerpen"]
