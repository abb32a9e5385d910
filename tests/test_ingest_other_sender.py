"""Mail whose threading headers point at another client's ticket opens its own ticket."""

from __future__ import annotations

import re

from helpdesk.crypto import address_hash, decrypt
from helpdesk.ingest.outcomes import IngestStatus
from helpdesk.ingest.state import ingest_batch
from tests.admin_fixtures import agent, agent_client, app, client  # noqa: F401 (pytest fixtures)
from tests.test_ingest_pipeline import CLIENT, add_outbound, batch_sources, ingest, make_mail, ticket_of

STRANGER = "ander@example.net"


def stranger_reply(**headers: str) -> bytes:
    return make_mail(
        body="Mijn vriend stuurde me jullie antwoord door. Geldt dat ook voor mij?",
        subject="Re: Vraag over een test",
        sender=f"Iemand Anders <{STRANGER}>",
        message_id="stranger-1@example.net",
        **headers,
    )


def test_in_reply_to_from_stranger_opens_new_ticket(settings):
    first = ingest(settings, make_mail())
    add_outbound(settings, first.ticket_id)

    other = ingest(settings, stranger_reply(in_reply_to="<out-1@helpdesk.test>"))

    assert other.status == IngestStatus.INGESTED
    assert other.ticket_id != first.ticket_id
    client_ticket = ticket_of(settings, first.ticket_id)
    assert [message.message_id for message in client_ticket.messages] == ["first-1@example.net", "out-1@helpdesk.test"]
    new_ticket = ticket_of(settings, other.ticket_id)
    assert decrypt(settings, new_ticket.sender_encrypted) == STRANGER
    assert new_ticket.sender_hash == address_hash(settings, STRANGER)


def test_references_from_stranger_opens_new_ticket(settings):
    first = ingest(settings, make_mail())

    other = ingest(settings, stranger_reply(references="<first-1@example.net>"))

    assert other.ticket_id != first.ticket_id


def test_stranger_reply_links_both_tickets(settings):
    first = ingest(settings, make_mail())
    add_outbound(settings, first.ticket_id)

    other = ingest(settings, stranger_reply(in_reply_to="<out-1@helpdesk.test>"))

    new_events = [(event.kind, event.detail) for event in ticket_of(settings, other.ticket_id).events]
    link = {"message_id": other.message_id, "ticket_id": first.ticket_id}
    assert new_events == [("created", {"message_id": other.message_id}), ("reply_from_other_address", link)]
    old_events = [(event.kind, event.detail) for event in ticket_of(settings, first.ticket_id).events]
    back_link = {"message_id": other.message_id, "ticket_id": other.ticket_id}
    assert old_events == [("created", {"message_id": first.message_id}), ("other_address_replied", back_link)]


def test_link_events_hold_no_address(settings):
    first = ingest(settings, make_mail())

    other = ingest(settings, stranger_reply(references="<first-1@example.net>"))

    for ticket_id in (first.ticket_id, other.ticket_id):
        for event in ticket_of(settings, ticket_id).events:
            assert STRANGER not in repr(event.detail)
            assert CLIENT not in repr(event.detail)


def test_same_client_reply_still_threads(settings):
    first = ingest(settings, make_mail())
    add_outbound(settings, first.ticket_id)

    reply = ingest(
        settings,
        make_mail(sender=f"Client Een <{CLIENT.upper()}>", message_id="reply-1@example.net", in_reply_to="<out-1@helpdesk.test>"),
    )

    assert reply.ticket_id == first.ticket_id


def test_batch_stranger_reply_opens_new_ticket(settings):
    question = make_mail(message_id="first-1@example.net")
    other = stranger_reply(in_reply_to="<first-1@example.net>")

    outcomes = ingest_batch(settings, list(zip([question, other], batch_sources(2))))

    assert [outcome.status for outcome in outcomes] == [IngestStatus.INGESTED] * 2
    assert outcomes[1].ticket_id != outcomes[0].ticket_id
    kinds = [event.kind for event in ticket_of(settings, outcomes[0].ticket_id).events]
    assert kinds == ["created", "other_address_replied"]


def test_ticket_page_shows_link_label(settings, agent_client):
    first = ingest(settings, make_mail())
    other = ingest(settings, stranger_reply(references="<first-1@example.net>"))

    page = agent_client.get(f"/admin/ticket/{other.ticket_id}").get_data(as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))

    assert f"antwoord op ticket #{first.ticket_id} vanaf een ander adres" in text
    assert f'href="/admin/ticket/{first.ticket_id}"' in page
    assert STRANGER not in page
    assert CLIENT not in page
