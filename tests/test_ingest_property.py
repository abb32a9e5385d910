"""Mangled MIME fed to the pipeline: it never raises and never loses the raw message."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from sqlalchemy import select

from helpdesk.crypto import decrypt_bytes
from helpdesk.db import session_scope
from helpdesk.ingest.models import IngestRecord
from helpdesk.ingest.outcomes import IngestStatus
from helpdesk.ingest.pipeline import ingest_raw
from helpdesk.tickets.models import Message

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "mail").glob("*.eml"))
SEEDS = [path.read_bytes() for path in FIXTURES]

MIME_NOISE = [
    b"\r\n",
    b"\n\n",
    b"--",
    b"=?utf-8?b?",
    b"?=",
    b"Content-Type: multipart/mixed; boundary=",
    b"Content-Transfer-Encoding: base64\r\n",
    b'charset="x-unknown"',
    b"\x00",
    b"\xff\xfe",
    b"\xc3",
    b"=\r\n",
    b"Content-Type: message/rfc822\r\n\r\n",
    b"Content-Type: application/ms-tnef\r\n\r\nx\x9f>\"",
]


@st.composite
def mangled_mail(draw) -> bytes:
    raw = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        position = draw(st.integers(min_value=0, max_value=len(raw)))
        action = draw(st.sampled_from(["insert", "delete", "flip", "truncate"]))
        if action == "insert":
            noise = draw(st.one_of(st.sampled_from(MIME_NOISE), st.binary(min_size=1, max_size=40)))
            raw[position:position] = noise
        elif action == "delete":
            del raw[position:position + draw(st.integers(min_value=1, max_value=80))]
        elif action == "flip" and position < len(raw):
            raw[position] = draw(st.integers(min_value=0, max_value=255))
        elif action == "truncate":
            del raw[position:]
    return bytes(raw)


@hypothesis_settings(
    max_examples=int(os.environ.get("HELPDESK_PROPERTY_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=mangled_mail())
def test_mangled_mime_never_lost(sqlite_settings, raw):
    with session_scope(sqlite_settings) as session:
        outcome = ingest_raw(session, sqlite_settings, raw)

    digest = hashlib.sha256(raw).hexdigest()
    with session_scope(sqlite_settings) as session:
        if outcome.status in (IngestStatus.INGESTED, IngestStatus.QUARANTINED):
            message = session.get(Message, outcome.message_id)
            assert message is not None
            assert decrypt_bytes(sqlite_settings, message.raw_encrypted) == raw
        elif outcome.status == IngestStatus.IGNORED:
            record = session.scalars(select(IngestRecord).where(IngestRecord.raw_sha256 == digest)).one()
            assert record.reason
        else:
            assert outcome.status == IngestStatus.DUPLICATE
            assert outcome.reason
