"""Staff actions in helpdesk.tickets.services, which the ticket page calls."""

import pytest
from sqlalchemy import select

from helpdesk.accounts.models import AuditEntry, Role, User
from helpdesk.crypto import encrypt
from helpdesk.db import session_scope
from helpdesk.privacy.reveal import RevealRefused
from helpdesk.tickets import services
from helpdesk.tickets.models import DeliveryState, Direction, Message, Ticket, TicketStatus
from helpdesk.tickets.services import TicketActionError
from tests.admin_fixtures import make_ticket, make_user


@pytest.fixture
def staff_id(settings) -> int:
    return make_user(settings, "agent@helpdesk.test", Role.AGENT)


def test_set_status_records_event_once(settings, staff_id):
    ticket_id = make_ticket(settings)
    with session_scope(settings) as session:
        ticket, user = session.get(Ticket, ticket_id), session.get(User, staff_id)
        services.set_status(session, ticket, "open", user)
        services.set_status(session, ticket, TicketStatus.OPEN, user)
        with pytest.raises(TicketActionError, match="Onbekende status 'done'"):
            services.set_status(session, ticket, "done", user)
    with session_scope(settings) as session:
        events = session.get(Ticket, ticket_id).events
        assert [(event.kind, event.detail) for event in events] == [("status_changed", {"from": "new", "to": "open"})]


def test_assign_rejects_inactive_user(settings, staff_id):
    ticket_id = make_ticket(settings)
    inactive_id = make_user(settings, "gone@helpdesk.test", Role.AGENT, active=False)
    with session_scope(settings) as session:
        ticket, user = session.get(Ticket, ticket_id), session.get(User, staff_id)
        with pytest.raises(TicketActionError, match="niet actief"):
            services.assign(session, ticket, session.get(User, inactive_id), user)
        services.assign(session, ticket, user, user)
        services.assign(session, ticket, None, user)
        assert ticket.assignee_id is None
        assert [event.detail for event in ticket.events] == [{"from": None, "to": staff_id}, {"from": staff_id, "to": None}]


def test_add_note_rejects_empty_and_long_text(settings, staff_id):
    ticket_id = make_ticket(settings)
    with session_scope(settings) as session:
        ticket, user = session.get(Ticket, ticket_id), session.get(User, staff_id)
        with pytest.raises(TicketActionError, match="leeg"):
            services.add_note(session, ticket, user, "  \n ")
        with pytest.raises(TicketActionError, match="tekens lang"):
            services.add_note(session, ticket, user, "x" * (services.MAX_NOTE_LENGTH + 1))
        note = services.add_note(session, ticket, user, " Bellen morgen ")
        assert note.body == "Bellen morgen"


def test_merge_moves_messages_and_needs_same_sender(settings, staff_id):
    target_id = make_ticket(settings, "Eerste")
    source_id = make_ticket(settings, "Tweede", urgent=True, urgent_reason="pep")
    stranger_id = make_ticket(settings, "Ander", sender="other@example.net")
    with session_scope(settings) as session:
        user = session.get(User, staff_id)
        target, source, stranger = (session.get(Ticket, i) for i in (target_id, source_id, stranger_id))
        with pytest.raises(TicketActionError, match="niet van dezelfde afzender"):
            services.merge_tickets(session, stranger, target, user)
        with pytest.raises(TicketActionError, match="met zichzelf"):
            services.merge_tickets(session, target, target, user)
        services.merge_tickets(session, source, target, user)
        with pytest.raises(TicketActionError, match="al samengevoegd"):
            services.merge_tickets(session, source, target, user)

    with session_scope(settings) as session:
        target, source = session.get(Ticket, target_id), session.get(Ticket, source_id)
        assert len(target.messages) == 2
        assert source.messages == []
        assert target.urgent and target.urgent_reason == "pep"
        assert source.status == TicketStatus.CLOSED
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "merge")).object_id == str(target_id)


def test_tickets_of_same_client_leaves_out_others(settings):
    first = make_ticket(settings)
    second = make_ticket(settings)
    make_ticket(settings, sender="other@example.net")
    with session_scope(settings) as session:
        others = services.tickets_of_same_client(session, session.get(Ticket, first))
        assert [ticket.id for ticket in others] == [second]


def test_raw_download_needs_right_reason_and_copy(settings, staff_id):
    ticket_id = make_ticket(settings)
    revealer_id = make_user(settings, "reveal@helpdesk.test", Role.AGENT, can_reveal=True)
    with session_scope(settings) as session:
        message = session.scalar(select(Message).where(Message.ticket_id == ticket_id))
        agent, revealer = session.get(User, staff_id), session.get(User, revealer_id)
        with pytest.raises(RevealRefused, match="geen recht"):
            services.raw_message_for_download(session, settings, message, agent, "een geldige reden hier")
        with pytest.raises(RevealRefused, match="minstens 10"):
            services.raw_message_for_download(session, settings, message, revealer, "kort")
        with pytest.raises(RevealRefused, match="niet bewaard"):
            services.raw_message_for_download(session, settings, message, revealer, "een geldige reden hier")
        message.raw_encrypted = encrypt(settings, b"raw bytes")
        assert services.raw_message_for_download(session, settings, message, revealer, "een geldige reden hier") == b"raw bytes"


def test_retry_only_for_failed_outbound(settings, staff_id):
    ticket_id = make_ticket(settings)
    with session_scope(settings) as session:
        ticket, user = session.get(Ticket, ticket_id), session.get(User, staff_id)
        inbound = ticket.messages[0]
        with pytest.raises(TicketActionError, match="niet mislukt"):
            services.retry_delivery(session, inbound, user)
        message = services.queue_ticket_reply(session, settings, ticket, "Antwoord", user)
        message.delivery_state = DeliveryState.FAILED
        message.next_attempt_at = None
        services.retry_delivery(session, message, user)
        assert message.delivery_state == DeliveryState.QUEUED
        assert message.next_attempt_at is not None


def test_queue_reply_needs_text_and_sender(settings, staff_id):
    ticket_id = make_ticket(settings)
    with session_scope(settings) as session:
        ticket, user = session.get(Ticket, ticket_id), session.get(User, staff_id)
        with pytest.raises(TicketActionError, match="leeg"):
            services.queue_ticket_reply(session, settings, ticket, "   ", user)
        ticket.sender_encrypted = None
        with pytest.raises(TicketActionError, match="geen afzenderadres"):
            services.queue_ticket_reply(session, settings, ticket, "Antwoord", user)
        assert [m for m in ticket.messages if m.direction == Direction.OUTBOUND] == []
