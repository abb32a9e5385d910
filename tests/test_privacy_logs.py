"""Logs never contain a client's subject, text or address, at any level."""

import logging

from helpdesk.db import session_scope
from helpdesk.ingest.pipeline import ingest_raw
from helpdesk.outbound.services import deliver, queue_reply
from helpdesk.tickets.models import Ticket

SENDER = "verborgen.klant@example.test"
SUBJECT_WORD = "Zwaluwstaart"
BODY_WORD = "Kwartelkoning"
NAME = "Ferdinand Vandermeersch"

RAW = f"""From: {NAME} <{SENDER}>
To: vragen@helpdesk.test
Subject: {SUBJECT_WORD} condoom gescheurd
Message-ID: <privacy-log-test@example.test>
Date: Fri, 04 Dec 2026 10:00:00 +0100
Content-Type: text/plain; charset=utf-8

Gisteren is het condoom gescheurd bij {BODY_WORD}. Moet ik PEP nemen?
Bel me op 0478 12 34 56.

{NAME}
""".encode()


def test_ingest_and_reply_log_no_content(settings, caplog):
    caplog.set_level(logging.DEBUG)

    with session_scope(settings) as session:
        outcome = ingest_raw(session, settings, RAW)
    with session_scope(settings) as session:
        ticket = session.get(Ticket, outcome.ticket_id)
        message = queue_reply(session, settings, ticket, f"Beste, over {BODY_WORD}: ga naar een hiv-referentiecentrum.", None)
        message_id = message.id
    with session_scope(settings) as session:
        deliver(session, settings, message_id)

    assert outcome.status == "ingested"
    assert caplog.records, "expected the ingest and send steps to log something"
    logged = "\n".join(record.getMessage() + " " + repr(vars(record)) for record in caplog.records)
    for secret in (SENDER, SUBJECT_WORD, BODY_WORD, NAME, "Vandermeersch", "0478 12 34 56"):
        assert secret not in logged, f"log output contains {secret!r}"
