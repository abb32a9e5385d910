"""Attachment filenames stored by ingestion stay readable and lose only identifying details."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import select

from helpdesk.db import session_scope
from helpdesk.ingest.pipeline import ingest_raw
from helpdesk.tickets.models import Attachment


def mail_with_attachments(*filenames: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Client <client.bijlage@example.net>"
    message["To"] = "vragen@helpdesk.test"
    message["Subject"] = "Mijn uitslag"
    message["Message-ID"] = "<bijlage-1@example.net>"
    message.set_content("Hallo, kunnen jullie deze uitslag bekijken?")
    for filename in filenames:
        message.add_attachment(b"%PDF-1.4 test", maintype="application", subtype="pdf", filename=filename)
    return message.as_bytes()


def test_ingested_filenames_stay_readable(settings):
    raw = mail_with_attachments("uitslag_test.pdf", "IMG_2034.jpg", "scan_0470 12 34 56.pdf")

    with session_scope(settings) as session:
        ingest_raw(session, settings, raw)
    with session_scope(settings) as session:
        names = sorted(session.scalars(select(Attachment.filename)))

    assert names == ["IMG_2034.jpg", "scan_[telefoonnummer].pdf", "uitslag_test.pdf"]
