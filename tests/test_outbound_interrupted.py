"""Delivery that stops between the claim and the recorded outcome: the state sending and its expiry."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from helpdesk.accounts.models import Role
from helpdesk.accounts.services import create_user
from helpdesk.db import session_scope, utcnow
from helpdesk.outbound.services import UNKNOWN_OUTCOME_ERROR, deliver, due_message_ids
from helpdesk.tickets.models import DeliveryState, Message, TicketEvent
from helpdesk.tickets.services import retry_delivery
from tests.services.mailflow import delivery_states, tickets_with_replies

STAFF_PASSWORD = "a long staff passphrase 2026"


def leave_in_sending(settings, message_id: int, claim_expires_in: float) -> None:
    """Put the message in the state that a worker killed after its claim leaves behind."""
    with session_scope(settings) as session:
        message = session.get(Message, message_id)
        message.delivery_state = DeliveryState.SENDING
        message.delivery_attempts = 1
        message.next_attempt_at = utcnow() + dt.timedelta(seconds=claim_expires_in)


def test_state_is_sending_while_server_talks(settings, smtp_server):
    settings = settings.with_overrides(smtp_url=smtp_server.url)
    [message_id] = tickets_with_replies(settings, 1)
    states_seen = []
    smtp_server.before_accept = lambda: states_seen.append(delivery_states(settings, [message_id])[message_id].delivery_state)

    with session_scope(settings) as session:
        outcome = deliver(session, settings, message_id)

    assert outcome.state == "sent"
    assert states_seen == [DeliveryState.SENDING]
    assert delivery_states(settings, [message_id])[message_id].delivery_state == DeliveryState.SENT


def test_sending_claim_not_due_before_expiry(settings, smtp_server):
    settings = settings.with_overrides(smtp_url=smtp_server.url)
    [message_id] = tickets_with_replies(settings, 1)
    leave_in_sending(settings, message_id, claim_expires_in=60)

    with session_scope(settings) as session:
        due = due_message_ids(session)
        outcome = deliver(session, settings, message_id)

    assert due == []
    assert outcome.state == "skipped"
    assert smtp_server.received == []
    assert delivery_states(settings, [message_id])[message_id].delivery_state == DeliveryState.SENDING


def test_expired_sending_claim_not_resent(settings, smtp_server):
    settings = settings.with_overrides(smtp_url=smtp_server.url)
    [message_id] = tickets_with_replies(settings, 1)
    leave_in_sending(settings, message_id, claim_expires_in=-1)

    with session_scope(settings) as session:
        due = due_message_ids(session)
        outcome = deliver(session, settings, message_id)
        due_after = due_message_ids(session)

    assert due == [message_id]
    assert outcome.state == "unknown"
    assert smtp_server.received == []
    assert due_after == []
    message = delivery_states(settings, [message_id])[message_id]
    assert message.delivery_state == DeliveryState.FAILED
    assert message.delivery_error == UNKNOWN_OUTCOME_ERROR
    assert message.next_attempt_at is None
    assert message.delivery_attempts == 1
    with session_scope(settings) as session:
        event = session.scalars(select(TicketEvent).where(TicketEvent.kind == "reply_failed")).one()
        assert event.detail["outcome_unknown"] is True
        assert event.detail["will_retry"] is False


def test_staff_resend_after_unknown_outcome(settings, smtp_server):
    settings = settings.with_overrides(smtp_url=smtp_server.url)
    [message_id] = tickets_with_replies(settings, 1)
    leave_in_sending(settings, message_id, claim_expires_in=-1)
    with session_scope(settings) as session:
        deliver(session, settings, message_id)

    with session_scope(settings) as session:
        agent = create_user(session, "agent@helpdesk.test", STAFF_PASSWORD, Role.AGENT)
        retry_delivery(session, session.get(Message, message_id), agent)
    with session_scope(settings) as session:
        outcome = deliver(session, settings, message_id)

    assert outcome.state == "sent"
    assert len(smtp_server.wait_for(1)) == 1
    assert delivery_states(settings, [message_id])[message_id].delivery_attempts == 2
