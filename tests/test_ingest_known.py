import hashlib

from helpdesk.db import session_scope
from helpdesk.ingest import known as known_module
from helpdesk.ingest.known import find_known_mail

RAW = b"From: client@example.net\r\nSubject: Vraag\r\nMessage-ID: <known-1@example.net>\r\n\r\nWaar kan ik me laten testen?\r\n"


def test_batch_hash_reused_for_same_raw(settings, monkeypatch):
    with session_scope(settings) as session:
        known = find_known_mail(session, settings, [RAW])

    def fail(raw):
        raise AssertionError("hashed again")

    monkeypatch.setattr(known_module, "raw_hash", fail)
    assert known.raw_sha256(RAW) == hashlib.sha256(RAW).hexdigest()


def test_other_raw_object_hashed_itself(settings):
    with session_scope(settings) as session:
        known = find_known_mail(session, settings, [RAW])
    other = bytes(bytearray(RAW)) + b"\r\n"

    assert known.raw_sha256(other) == hashlib.sha256(other).hexdigest()
