"""The automatic acknowledgement: language, links, urgency, loops and the rate limit."""

from __future__ import annotations

import email
import email.policy

import pytest
from sqlalchemy import select

from helpdesk.db import session_scope
from helpdesk.outbound.acknowledgement import acknowledge_new_question, skip_reason
from helpdesk.outbound.services import deliver
from helpdesk.tickets.models import Direction, Message, Suggestion, Ticket
from tests.test_outbound_services import make_ticket


@pytest.fixture
def enabled(settings):
    return settings.with_overrides(autoreply_enabled=True)


def first_inbound(session, ticket) -> Message:
    return session.scalars(
        select(Message).where(Message.ticket_id == ticket.id, Message.direction == Direction.INBOUND)
    ).one()


def suggest(session, ticket, *slugs_and_titles, confident=True) -> None:
    for rank, (slug, title) in enumerate(slugs_and_titles):
        session.add(Suggestion(ticket=ticket, slug=slug, title=title, rank=rank, score=1.0, confident=confident))
    session.flush()


def test_disabled_by_default(settings):
    with session_scope(settings) as session:
        ticket = make_ticket(session, settings)

        assert acknowledge_new_question(session, settings, ticket, first_inbound(session, ticket)) is None
        assert skip_reason(session, settings, ticket, first_inbound(session, ticket)) == "disabled"


def test_dutch_acknowledgement_lists_suggestions(enabled):
    with session_scope(enabled) as session:
        ticket = make_ticket(session, enabled, language="nl")
        suggest(session, ticket, ("condoom-gescheurd", "Het condoom scheurde. Wat nu?"), ("pep", "Wat is PEP?"))
        suggest(session, ticket, ("onzeker", "Niet zeker"), confident=False)

        reply = acknowledge_new_question(session, enabled, ticket, first_inbound(session, ticket))

        assert reply is not None
        assert reply.is_acknowledgement is True
        assert reply.subject == f"Re: Condoom gescheurd [#{ticket.id}]"
        assert f"goed ontvangen, met nummer [#{ticket.id}]" in reply.body
        assert "binnen 3 werkdagen" in reply.body
        assert f"- Het condoom scheurde. Wat nu?: {enabled.public_url}/faq/nl/condoom-gescheurd" in reply.body
        assert f"- Wat is PEP?: {enabled.public_url}/faq/nl/pep" in reply.body
        assert "onzeker" not in reply.body
        assert "112" not in reply.body
        assert reply.article_slugs == ["condoom-gescheurd", "pep"]
        assert reply.in_reply_to == "vraag-2@client.example"


def test_urgent_ticket_carries_emergency_facts(enabled):
    with session_scope(enabled) as session:
        ticket = make_ticket(session, enabled, urgent=True, urgent_reason="pep")

        reply = acknowledge_new_question(session, enabled, ticket, first_inbound(session, ticket))

        assert "PEP" in reply.body
        assert "72 uur" in reply.body
        assert "Bel 112" in reply.body


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", "Nous avons bien reçu votre question"),
        ("en", "We have received your question"),
        ("nl", "We hebben je vraag goed ontvangen"),
        (None, "We hebben je vraag goed ontvangen"),
        ("de", "We hebben je vraag goed ontvangen"),
    ],
)
def test_language_follows_question(enabled, language, expected):
    with session_scope(enabled) as session:
        ticket = make_ticket(session, enabled, language=language)

        reply = acknowledge_new_question(session, enabled, ticket, first_inbound(session, ticket))

        assert expected in reply.body


def test_default_language_setting_applies(enabled):
    settings = enabled.with_overrides(default_language="fr")
    with session_scope(settings) as session:
        ticket = make_ticket(session, settings, language=None)

        reply = acknowledge_new_question(session, settings, ticket, first_inbound(session, ticket))

        assert "Bonjour" in reply.body


def test_urgent_french_and_english(enabled):
    with session_scope(enabled) as session:
        french = make_ticket(session, enabled, language="fr", urgent=True)
        english = make_ticket(session, enabled, language="en", urgent=True)

        french_reply = acknowledge_new_question(session, enabled, french, first_inbound(session, french))
        english_reply = acknowledge_new_question(session, enabled, english, first_inbound(session, english))

        assert "Appelez le 112" in french_reply.body
        assert "Call 112" in english_reply.body


def test_no_acknowledgement_for_automatic_mail(enabled):
    with session_scope(enabled) as session:
        ticket = make_ticket(session, enabled)
        inbound = first_inbound(session, ticket)
        inbound.is_automatic = True
        inbound.automatic_reason = "auto-submitted"

        assert acknowledge_new_question(session, enabled, ticket, inbound) is None
        assert skip_reason(session, enabled, ticket, inbound) == "automatic_mail"


def test_no_acknowledgement_for_follow_up(enabled):
    with session_scope(enabled) as session:
        ticket = make_ticket(session, enabled)
        follow_up = Message(
            ticket=ticket,
            direction=Direction.INBOUND,
            message_id="vraag-3@client.example",
            subject="Re: Condoom gescheurd",
            body="Nog een vraag",
        )
        session.add(follow_up)
        session.flush()

        assert acknowledge_new_question(session, enabled, ticket, follow_up) is None
        assert skip_reason(session, enabled, ticket, follow_up) == "follow_up"


def test_no_acknowledgement_to_own_address(enabled):
    with session_scope(enabled) as session:
        ticket = make_ticket(session, enabled, sender=enabled.from_address)

        assert skip_reason(session, enabled, ticket, first_inbound(session, ticket)) == "invalid_or_own_address"


def test_rate_limited_per_sender(enabled):
    settings = enabled.with_overrides(autoreply_per_sender_per_day=2)
    with session_scope(settings) as session:
        tickets = [make_ticket(session, settings) for _ in range(3)]
        other = make_ticket(session, settings, sender="iemand.anders@example.org")

        replies = [acknowledge_new_question(session, settings, ticket, first_inbound(session, ticket)) for ticket in tickets]
        other_reply = acknowledge_new_question(session, settings, other, first_inbound(session, other))

        assert replies[0] is not None
        assert replies[1] is not None
        assert replies[2] is None
        assert skip_reason(session, settings, tickets[2], first_inbound(session, tickets[2])) == "rate_limited"
        assert other_reply is not None


def test_sent_acknowledgement_is_marked_automatic(enabled):
    with session_scope(enabled) as session:
        ticket = make_ticket(session, enabled)
        reply = acknowledge_new_question(session, enabled, ticket, first_inbound(session, ticket))
        ticket_id, message_id = ticket.id, reply.id

    with session_scope(enabled) as session:
        assert deliver(session, enabled, message_id).state == "sent"

    [path] = list(enabled.outbox_dir.iterdir())
    mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["X-Auto-Response-Suppress"] == "All"
    assert mail["Content-Language"] == "nl"
    with session_scope(enabled) as session:
        assert session.get(Ticket, ticket_id).first_response_at is None
