"""Text work prepared in worker processes: the same rows as without it, the caches hit, and failures fall back."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import multiprocessing
import os
import signal
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

import helpdesk.ingest.imap as imap_module
import kb.pipeline
from helpdesk.config import ConfigError
from helpdesk.crypto import decrypt, decrypt_bytes
from helpdesk.db import session_scope
from helpdesk.ingest import prepare, store
from helpdesk.ingest.outcomes import IngestStatus, Source
from helpdesk.ingest.polling import poll_mailbox
from helpdesk.ingest.prepare import prepare_chunk, text_pool
from helpdesk.ingest.state import ingest_batch
from helpdesk.ingest.store import original_text, redacted, redacted_html
from helpdesk.mail import parse_message
from helpdesk.redaction import api as redaction_api
from helpdesk.redaction import redact_filename
from kb.catalog import index_for_session
from kb.drafts import render_draft
from kb.models import Article
from kb.suggest import suggest
from kb.transfer import CONTENT_DIR, import_directory
from helpdesk.tickets.models import Attachment, Message, Suggestion, Ticket
from tests.conftest import make_settings

FIXTURES = Path(__file__).parent / "fixtures" / "mail"
# Fixtures of each kind that ingestion treats differently: client mail, HTML, a quoted reply, automatic mail.
FIXTURE_NAMES = [
    "html-only-tracking.eml",
    "reply-dutch-quoted.eml",
    "reply-french-signature.eml",
    "forwarded-message.eml",
    "auto-submitted-out-of-office.eml",
    "attachment-only.eml",
]


def client_mail(number: int, body: str, subject: str = "Vraag") -> bytes:
    message = EmailMessage()
    message["From"] = f"Client {number} <client{number}@example.net>"
    message["To"] = "vragen@helpdesk.test"
    message["Subject"] = f"{subject} {number}"
    message["Message-ID"] = f"<prepare-{number}@example.net>"
    message.set_content(body)
    return message.as_bytes()


def varied_mails() -> list[bytes]:
    mails = [
        client_mail(1, "Hallo, ik ben Jan Peeters. Het condoom scheurde gisteren, moet ik PEP nemen? Bel 0470 12 34 56."),
        client_mail(2, "Bonjour, où puis-je me faire dépister gratuitement à Bruxelles ? Je m'appelle Marie Dubois."),
        client_mail(3, "Hi, is oral sex safe without a condom? I live at Kerkstraat 12, 9000 Gent."),
        client_mail(4, "Ik heb bloed gegeven, is dat ook een soa-test?"),
        b"dit is geen e-mail\nmaar een boodschappenlijst\n",
    ]
    mails += [(FIXTURES / name).read_bytes() for name in FIXTURE_NAMES]
    return mails


def sources(mails: list[bytes]) -> list[tuple[bytes, Source]]:
    return [(raw, Source("prepare-test", "INBOX", 1, uid)) for uid, raw in enumerate(mails, start=1)]


@pytest.fixture
def kb_settings(settings):
    with session_scope(settings) as session:
        import_directory(session, CONTENT_DIR)
    return settings


def by_hash(settings, mails: list[bytes]) -> dict[str, prepare.PreparedMail]:
    return {mail.raw_sha256: mail for mail in prepare_chunk(settings, mails)}


def test_prepared_batch_stores_what_transaction_computes(kb_settings):
    mails = varied_mails()
    prepared = by_hash(kb_settings, mails)
    raw_by_hash = {hashlib.sha256(raw).hexdigest(): raw for raw in mails}

    outcomes = ingest_batch(kb_settings, sources(mails), prepared)

    assert [outcome.status for outcome in outcomes].count(IngestStatus.QUARANTINED) == 1
    with session_scope(kb_settings) as session:
        index = index_for_session(session)
        messages = session.scalars(select(Message).order_by(Message.id)).all()
        assert len(messages) >= 9
        for message in messages:
            if prepared[message.raw_sha256].parsed is None:
                continue
            parsed = parse_message(raw_by_hash[message.raw_sha256])
            assert message.subject == redacted(parsed.subject)
            assert message.body == redacted(parsed.text)
            assert message.new_text == redacted(parsed.new_text)
            assert message.html_sanitized == redacted_html(parsed.html)
            assert decrypt_bytes(kb_settings, message.raw_encrypted) == raw_by_hash[message.raw_sha256]
            assert decrypt(kb_settings, message.original_encrypted) == original_text(parsed)
            stored = [decrypt_bytes(kb_settings, row.data_encrypted) for row in message.attachments]
            assert stored == [attachment.data for attachment in parsed.attachments]
            assert [row.filename for row in message.attachments] == [
                redact_filename(attachment.filename) for attachment in parsed.attachments
            ]

        for ticket in session.scalars(select(Ticket).where(Ticket.language.is_not(None))):
            message = ticket.messages[-1]
            expected = suggest(
                index, message.subject or "", message.new_text or message.body or "", received=message.received_at.date()
            )
            stored = session.scalars(select(Suggestion).where(Suggestion.ticket_id == ticket.id).order_by(Suggestion.rank))
            assert [(row.slug, row.score) for row in stored] == [(hit.slug, hit.score) for hit in expected.suggestions]
            assert ticket.language == expected.language
            assert ticket.urgent_reason == expected.urgency.reason
            assert ticket.draft == render_draft(
                kb_settings, index.by_slug_language, expected.confident_slugs, expected.language, expected.urgency.reason
            )


def mail_with_attachment(filename: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Client <client-attachment@example.net>"
    message["Subject"] = "Uitslag"
    message["Message-ID"] = "<attachment-1@example.net>"
    message.set_content("Kunnen jullie mijn uitslag lezen?")
    message.add_attachment(b"%PDF-1.4 scan", maintype="application", subtype="pdf", filename=filename)
    return message.as_bytes()


def test_prepared_results_replace_the_work(kb_settings, monkeypatch):
    mails = varied_mails()[:4] + [(FIXTURES / "html-only-tracking.eml").read_bytes()]
    mails.append(mail_with_attachment("uitslag_Jan_Peeters.pdf"))
    prepared = by_hash(kb_settings, mails)

    def fail(*args, **kwargs):
        raise AssertionError("computed again although a prepared result matched")

    monkeypatch.setattr(redaction_api, "_redact", fail)
    monkeypatch.setattr(kb.pipeline, "suggest", fail)
    monkeypatch.setattr(kb.pipeline, "render_draft", fail)
    monkeypatch.setattr(prepare, "parse_message", fail)
    monkeypatch.setattr(store, "sanitize_html", fail)
    monkeypatch.setattr(store, "redact_filename", fail)
    outcomes = ingest_batch(kb_settings, sources(mails), prepared)

    assert [outcome.status for outcome in outcomes] == [IngestStatus.INGESTED] * 6
    with session_scope(kb_settings) as session:
        assert session.scalar(select(Suggestion.id).limit(1)) is not None
        html = session.scalar(select(Message.html_sanitized).where(Message.id == outcomes[4].message_id))
        filenames = session.scalars(select(Attachment.filename).where(Attachment.message_id == outcomes[5].message_id)).all()
    assert html
    assert filenames == ["uitslag_[naam].pdf"]


def test_prepared_results_forgotten_after_batch(kb_settings):
    mails = varied_mails()[:2] + [(FIXTURES / "html-only-tracking.eml").read_bytes(), mail_with_attachment("scan.pdf")]

    ingest_batch(kb_settings, sources(mails), by_hash(kb_settings, mails))

    assert redaction_api._prepared == {}
    assert kb.pipeline._prepared == {}
    assert store._prepared_html == {}
    assert store._prepared_filenames == {}


def test_equal_plaintexts_get_own_tokens(kb_settings):
    attachment = b"%PDF-1.4 dezelfde scan"
    mails = []
    for number in (1, 2):
        message = EmailMessage()
        message["From"] = f"Client {number} <client{number}@example.net>"
        message["Subject"] = "Uitslag"
        message["Message-ID"] = f"<tokens-{number}@example.net>"
        message.set_content("Kunnen jullie mijn uitslag lezen?")
        message.add_attachment(attachment, maintype="application", subtype="pdf", filename="scan.pdf")
        mails.append(message.as_bytes())

    ingest_batch(kb_settings, sources(mails), by_hash(kb_settings, mails))

    with session_scope(kb_settings) as session:
        tokens = [row.data_encrypted for row in session.scalars(select(Attachment))]
    assert len(tokens) == 2
    assert tokens[0] != tokens[1]


def test_stale_suggestions_computed_again(kb_settings, monkeypatch):
    mails = varied_mails()[:1]
    prepared = by_hash(kb_settings, mails)
    with session_scope(kb_settings) as session:
        article = session.scalars(select(Article).where(Article.language == "nl").order_by(Article.id)).first()
        article.version += 1
    calls = []
    original = kb.pipeline.suggest

    def counted(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(kb.pipeline, "suggest", counted)
    ingest_batch(kb_settings, sources(mails), prepared)

    assert len(calls) == 1


def test_failed_preparation_parsed_in_transaction(kb_settings):
    mails = varied_mails()[:2]
    prepared = by_hash(kb_settings, mails)
    for mail in prepared.values():
        mail.parsed = None
        mail.redactions.clear()
        mail.results.clear()

    outcomes = ingest_batch(kb_settings, sources(mails), prepared)

    assert [outcome.status for outcome in outcomes] == [IngestStatus.INGESTED] * 2


def test_ingest_processes_setting_validated(tmp_path):
    with pytest.raises(ConfigError) as error:
        make_settings(tmp_path, "sqlite://", HELPDESK_INGEST_PROCESSES="veel")

    assert "HELPDESK_INGEST_PROCESSES='veel'" in str(error.value)
    assert make_settings(tmp_path, "sqlite://", HELPDESK_INGEST_PROCESSES="3").ingest_process_count == 3
    assert text_pool(make_settings(tmp_path, "sqlite://", HELPDESK_INGEST_PROCESSES="0")) is None


def _pool_in_daemon(settings, results) -> None:
    results.put(text_pool(settings) is None)


def test_daemonic_process_prepares_in_transaction(tmp_path):
    settings = make_settings(tmp_path, "sqlite://", HELPDESK_INGEST_PROCESSES="2")
    context = multiprocessing.get_context("forkserver")
    results = context.Queue()
    process = context.Process(target=_pool_in_daemon, args=(settings, results), daemon=True)
    process.start()
    process.join(timeout=120)

    assert results.get(timeout=5) is True


@pytest.mark.dovecot
def test_poll_prepares_batches_in_pool(kb_settings, imap_account, monkeypatch):
    settings = kb_settings.with_overrides(
        mailbox_urls=(imap_account.imap_url,), imap_after_processing="seen", imap_batch_size=10, ingest_processes="2"
    )
    count = imap_module.MIN_PREPARED_MAILS + 5
    for number in range(count):
        imap_account.append(client_mail(number, "Waar kan ik me anoniem laten testen op hiv en soa?"))
    prepared_sizes = []
    original = imap_module.ingest_batch

    def recorded(settings, mails, prepared=None):
        prepared_sizes.append(len(prepared or {}))
        return original(settings, mails, prepared)

    monkeypatch.setattr(imap_module, "ingest_batch", recorded)
    summary = poll_mailbox(settings, imap_account.imap_url)

    assert summary.error is None
    assert summary.ingested == count
    assert prepared_sizes == [10, 10, count - 20]
    with session_scope(settings) as session:
        assert len(session.scalars(select(Ticket)).all()) == count
        assert session.scalar(select(Suggestion.id).limit(1)) is not None


@pytest.fixture
def unfrozen():
    """Unfreeze, after the test, the objects that start_pool froze in the test process."""
    yield
    gc.unfreeze()


def test_started_pool_freezes_loaded_objects(sqlite_settings, unfrozen):
    gc.unfreeze()  # so that the count below is start_pool's own
    settings = sqlite_settings.with_overrides(ingest_processes="1")
    pool = prepare.start_pool(settings)

    assert gc.get_freeze_count() > 0
    assert pool._executor.submit(gc.get_freeze_count).result() > 0


def test_start_pool_without_local_freeze(sqlite_settings, unfrozen):
    gc.unfreeze()
    settings = sqlite_settings.with_overrides(ingest_processes="1")
    pool = prepare.start_pool(settings, warm_up_here=False)

    assert gc.get_freeze_count() == 0
    assert pool._executor.submit(gc.get_freeze_count).result() > 0


def test_pool_processes_run_nicer(sqlite_settings, unfrozen):
    settings = sqlite_settings.with_overrides(ingest_processes="2")
    pool = prepare.start_pool(settings)

    own = os.getpriority(os.PRIO_PROCESS, 0)
    pids = list(pool._executor._processes)
    assert pids
    for pid in pids:
        assert os.getpriority(os.PRIO_PROCESS, pid) == min(own + prepare.POOL_NICENESS, 19)


@pytest.mark.dovecot
def test_killed_pool_process_loses_no_mail(kb_settings, imap_account, unfrozen):
    settings = kb_settings.with_overrides(
        mailbox_urls=(imap_account.imap_url,), imap_after_processing="seen", imap_batch_size=10, ingest_processes="2"
    )
    pool = prepare.start_pool(settings)
    for pid in list(pool._executor._processes):
        os.kill(pid, signal.SIGKILL)
    count = imap_module.MIN_PREPARED_MAILS + 10
    for number in range(count):
        imap_account.append(client_mail(number, "Hoe lang na een risico kan ik me laten testen?"))

    summary = poll_mailbox(settings, imap_account.imap_url)

    assert summary.error is None
    assert summary.ingested == count
    assert pool.broken
    assert text_pool(settings) is not pool
    with session_scope(settings) as session:
        assert len(session.scalars(select(Ticket)).all()) == count


def test_unstarted_chunks_prepared_by_poller(kb_settings, unfrozen):
    settings = kb_settings.with_overrides(ingest_processes="1")
    pool = prepare.start_pool(settings)
    # The only process sleeps, so at most one chunk is queued behind the sleep when results() runs.
    busy = pool._executor.submit(time.sleep, 2)
    mails = [client_mail(number, "Is een bloedgift ook een soa-test?") for number in range(3 * prepare.CHUNK_MAILS)]

    batch = pool.submit(settings, mails)
    results = batch.results()
    busy.result()

    assert sum(future.cancelled() for future in batch._futures) >= 1
    expected = by_hash(settings, mails)
    assert set(results) == set(expected)
    for sha256, mail in results.items():
        assert mail.parsed.text == expected[sha256].parsed.text
        assert {text: result.text for text, result in mail.redactions.items()} == {
            text: result.text for text, result in expected[sha256].redactions.items()
        }
        assert mail.results.keys() == expected[sha256].results.keys()


def test_preparer_reads_index_once_per_interval(kb_settings, monkeypatch):
    preparer = kb.pipeline.SuggestionPreparer()
    reads = []
    original = kb.pipeline.fingerprinted_index

    def counted(session):
        reads.append(session)
        return original(session)

    monkeypatch.setattr(kb.pipeline, "fingerprinted_index", counted)
    text = prepare.PreparedText("Test", "Waar kan ik me laten testen?", "Waar kan ik me laten testen?", dt.date(2026, 3, 1))

    first = preparer.prepare(kb_settings, [text])
    second = preparer.prepare(kb_settings, [text])
    assert len(reads) == 1
    assert first[0][0] == second[0][0]

    monkeypatch.setattr(kb.pipeline, "INDEX_CHECK_SECONDS", 0.0)
    preparer.prepare(kb_settings, [text])
    assert len(reads) == 2
