"""Input that is no e-mail is quarantined with its reason and raw bytes; a bare minimal mail still becomes a ticket."""

from __future__ import annotations

import random

import pytest

from helpdesk.crypto import decrypt_bytes
from helpdesk.db import session_scope
from helpdesk.ingest.outcomes import IngestStatus
from helpdesk.ingest.pipeline import ingest_raw
from helpdesk.tickets.models import Message, Ticket, TicketStatus

GARBAGE = {
    "random bytes": bytes(random.Random(11).getrandbits(8) for _ in range(2048)),
    "zip file": b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 4,
    "plain text file": b"lijstje\nmelk\nbrood\n",
}


@pytest.mark.parametrize("raw", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_quarantined_with_raw_kept(settings, raw):
    with session_scope(settings) as session:
        outcome = ingest_raw(session, settings, raw)

    assert outcome.status == IngestStatus.QUARANTINED
    with session_scope(settings) as session:
        ticket = session.get(Ticket, outcome.ticket_id)
        message = session.get(Message, outcome.message_id)
        assert ticket.status == TicketStatus.QUARANTINED
        assert ticket.quarantine_reason == "no_headers"
        assert decrypt_bytes(settings, message.raw_encrypted) == raw


def test_minimal_mail_becomes_normal_ticket(settings):
    raw = b"From: client.minimaal@example.net\r\nSubject: Vraag\r\n\r\nWaar kan ik me laten testen?\r\n"

    with session_scope(settings) as session:
        outcome = ingest_raw(session, settings, raw)

    assert outcome.status == IngestStatus.INGESTED
    with session_scope(settings) as session:
        ticket = session.get(Ticket, outcome.ticket_id)
        assert ticket.status == TicketStatus.NEW
        assert ticket.quarantine_reason is None
