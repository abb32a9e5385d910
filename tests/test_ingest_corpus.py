"""Every third-party sample mail ingests into a readable ticket, a quarantined one, or a recorded skip."""

from __future__ import annotations

import email
import email.policy
import hashlib
import html
import re

import nh3
import pytest
from sqlalchemy import or_, select

from helpdesk.crypto import decrypt_bytes
from helpdesk.db import session_scope
from helpdesk.ingest.models import IngestRecord
from helpdesk.ingest.outcomes import IngestStatus
from helpdesk.ingest.pipeline import ingest_raw, message_key
from helpdesk.ingest.prepare import PreparedMail, text_pool
from helpdesk.mail import parse_message
from helpdesk.tickets.models import Message, Ticket, TicketStatus
from tests.conftest import shared_path

pytestmark = pytest.mark.slow

ENCODED_WORD = re.compile(r"=\?[\w.-]+\?[qQbB]\?[^?\s]+\?=")


def stdlib_body_text(raw: bytes) -> str:
    """Return the text body as the standard library's modern API reads it, or '' when it fails."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain", "html"))
        if body is None:
            return ""
        content = body.get_content()
        if body.get_content_subtype() == "html":
            content = html.unescape(nh3.clean(content, tags=set(), clean_content_tags={"script", "style", "title"}))
        return content.strip()
    except Exception:  # noqa: BLE001 - the oracle is only consulted where the stdlib copes
        return ""


def sample_files():
    root = shared_path("mail-samples")
    return sorted(path for path in root.rglob("*") if path.is_file() and not path.name.startswith(".") and path.suffix != ".md")


def check_ingested(session, settings, raw: bytes, outcome, problems: list[str], name: str) -> None:
    message = session.get(Message, outcome.message_id)
    ticket = session.get(Ticket, outcome.ticket_id)
    if message is None or ticket is None:
        problems.append(f"{name}: outcome points to a missing ticket or message")
        return
    if decrypt_bytes(settings, message.raw_encrypted) != raw:
        problems.append(f"{name}: raw copy differs from the input")
    if ENCODED_WORD.search(message.subject):
        problems.append(f"{name}: subject still has encoded words: {message.subject[:80]!r}")
    if stdlib_body_text(raw) and not (message.body.strip() or message.attachments):
        problems.append(f"{name}: body empty although the standard library finds text")


def check_quarantined(session, settings, raw: bytes, outcome, problems: list[str], name: str) -> None:
    ticket = session.get(Ticket, outcome.ticket_id)
    message = session.get(Message, outcome.message_id)
    if ticket is None or ticket.status != TicketStatus.QUARANTINED or not ticket.quarantine_reason:
        problems.append(f"{name}: quarantined without a ticket and reason")
        return
    if decrypt_bytes(settings, message.raw_encrypted) != raw:
        problems.append(f"{name}: quarantined without its raw copy")


def check_accounted(session, settings, raw: bytes, outcome, problems: list[str], name: str) -> None:
    digest = hashlib.sha256(raw).hexdigest()
    key = message_key(settings, parse_message(raw, settings.max_message_bytes).message_id)
    record = session.scalars(
        select(IngestRecord).where(or_(IngestRecord.raw_sha256 == digest, IngestRecord.message_key == key))
    ).first()
    if outcome.status == IngestStatus.IGNORED and (record is None or record.raw_sha256 != digest or not record.reason):
        problems.append(f"{name}: ignored without a record and reason")
    if outcome.status == IngestStatus.DUPLICATE and outcome.ticket_id is None and record is None:
        problems.append(f"{name}: duplicate of nothing stored")


def test_sample_corpus_ingests(settings):
    files = sample_files()
    problems: list[str] = []
    statuses: dict[str, int] = {}

    for path in files:
        raw = path.read_bytes()
        name = str(path.relative_to(path.parents[1]))
        with session_scope(settings) as session:
            outcome = ingest_raw(session, settings, raw)
        statuses[outcome.status.value] = statuses.get(outcome.status.value, 0) + 1

        with session_scope(settings) as session:
            if outcome.status == IngestStatus.INGESTED:
                check_ingested(session, settings, raw, outcome, problems, name)
            elif outcome.status == IngestStatus.QUARANTINED:
                check_quarantined(session, settings, raw, outcome, problems, name)
            else:
                check_accounted(session, settings, raw, outcome, problems, name)

    assert sum(statuses.values()) == len(files)
    assert statuses.get("ingested", 0) > len(files) // 2, statuses
    assert problems == [], "\n".join(problems)


def test_sample_corpus_prepares_in_pool(sqlite_settings):
    # Every sample must survive the trip to a pool process and back, or its batch loses the pool's help.
    settings = sqlite_settings.with_overrides(ingest_processes="2")
    raws = [path.read_bytes() for path in sample_files()]
    pool = text_pool(settings)
    prepared: dict[str, PreparedMail] = {}
    for start in range(0, len(raws), 100):
        prepared.update(pool.submit(settings, raws[start:start + 100]).results())

    missing = [index for index, raw in enumerate(raws) if hashlib.sha256(raw).hexdigest() not in prepared]
    assert missing == []
    differing = [
        index for index, raw in enumerate(raws)
        if prepared[hashlib.sha256(raw).hexdigest()].parsed != parse_message(raw, settings.max_message_bytes)
    ]
    assert differing == []
