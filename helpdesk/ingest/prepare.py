"""Text work of a fetch batch in worker processes, done while the polling process stores the batch before it.

Most of ingestion's time goes to work that needs no database transaction:
parsing, redaction and the analysis of the registered ingest preparers (the
knowledge base's language, urgency and article ranking). A poll hands each
fetched batch to a pool of settings.ingest_processes processes, in chunks,
and stores the previous batch meanwhile, so the backlog of one mailbox uses
more than one core. When the polling process needs a batch, it prepares the
chunks that no process has started yet itself. The results only fill
caches: the transaction calls the same functions, which take a prepared
result when their input matches and compute it otherwise. A missing, stale or failed preparation therefore changes the
speed and nothing else.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import logging
import multiprocessing
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from helpdesk.config import Settings
from helpdesk.db import utcnow
from helpdesk.ingest.store import prepared_filenames, prepared_html, redacted, redacted_filename, redacted_html
from helpdesk.mail import ParsedMessage, parse_message
from helpdesk.plugins import get_registry
from helpdesk.redaction import Redacted, api as redaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreparedText:
    """The redacted text of a client mail as the ingest steps will read it from its Message row."""

    subject: str
    new_text: str
    body: str
    received: dt.date  # the UTC day that Message.received_at will have


@dataclass
class PreparedMail:
    raw_sha256: str
    parsed: ParsedMessage | None  # None when parsing failed, so the transaction parses again and quarantines
    redactions: dict[str, Redacted] = field(default_factory=dict)  # by original text
    html: dict[str, str] = field(default_factory=dict)  # redacted HTML part by original HTML
    filenames: dict[str, str] = field(default_factory=dict)  # redacted attachment filename by original
    results: dict[str, object] = field(default_factory=dict)  # by preparer name


def prepare_mail(settings: Settings, raw: bytes) -> tuple[PreparedMail, PreparedText | None]:
    """Parse and redact one raw mail as ingestion will, and return the redacted text too when it is client mail."""
    raw_sha256 = hashlib.sha256(raw).hexdigest()
    try:
        parsed = parse_message(raw, settings.max_message_bytes)
    except Exception:  # noqa: BLE001 - the transaction parses this mail again and quarantines it
        logger.exception("parsing failed while preparing", extra={"raw_sha256": raw_sha256})
        return PreparedMail(raw_sha256, None), None

    # The same calls as helpdesk.ingest.store makes, so that their results are the ones it looks up.
    with redaction.recording() as redactions:
        subject = redacted(parsed.subject)
        body = redacted(parsed.text)
        new_text = redacted(parsed.new_text)
        html = redacted_html(parsed.html)
        if parsed.bounce is not None:
            redacted(parsed.bounce.reason)

    filenames = {attachment.filename: redacted_filename(attachment.filename) for attachment in parsed.attachments}
    prepared = PreparedMail(raw_sha256, parsed, redactions, {parsed.html: html} if html else {}, filenames)
    if parsed.too_large or parsed.unreadable or parsed.automatic is not None:
        return prepared, None
    return prepared, PreparedText(subject, new_text, body, utcnow().date())


def prepare_chunk(settings: Settings, raws: list[bytes]) -> list[PreparedMail]:
    """Prepare several raw mails, then run each registered preparer once over their client mail."""
    prepared: list[PreparedMail] = []
    texts: list[tuple[PreparedMail, PreparedText]] = []
    for raw in raws:
        mail, text = prepare_mail(settings, raw)
        prepared.append(mail)
        if text is not None:
            texts.append((mail, text))

    for preparer in get_registry().ingest_preparers:
        try:
            results = preparer.prepare(settings, [text for _, text in texts])
        except Exception:  # noqa: BLE001 - the ingest step computes what is missing in the transaction
            logger.exception("ingest preparer failed", extra={"preparer": preparer.name, "mails": len(texts)})
            continue
        for (mail, _), result in zip(texts, results):
            if result is not None:
                mail.results[preparer.name] = result
    return prepared


# Added to the niceness of each pool process, so that the polling process
# (which runs the transaction) and the web app keep their share of the CPU
# and the pool uses what is left. With as many pool processes as CPUs, the
# polling process would otherwise get about two thirds of one.
POOL_NICENESS = 10

# A short client mail that each new pool process prepares once, so that the
# preparers load their models and indexes before the first real batch.
WARM_UP_MAIL = (
    b"From: warm-up@helpdesk.invalid\r\nTo: warm-up@helpdesk.invalid\r\nSubject: Test\r\n"
    b"Message-ID: <warm-up@helpdesk.invalid>\r\n\r\nWaar kan ik me anoniem laten testen op soa?\r\n"
)


# Mails per task handed to the pool. With small tasks the polling process
# finds part of a late batch not started and prepares it itself. Each task
# also costs pickling and one article check, so tasks are not single mails.
CHUNK_MAILS = 10


def _warm_up(settings: Settings) -> None:
    os.nice(POOL_NICENESS)
    prepare_chunk(settings, [WARM_UP_MAIL])
    freeze_loaded_objects()


def freeze_loaded_objects() -> None:
    """Leave the objects that the process has now out of later garbage collections.

    After the warm-up a process has about 200,000 long-lived objects (word
    lists, article indexes, mappers), and each full collection walked all of
    them again. In the polling process that was about 0.1 s per collection,
    six or seven times per 5,000 mails, with the pool waiting meanwhile.
    Frozen objects are still freed when their last reference goes, but a
    reference cycle that contains one is never collected. So the process
    collects first, and callers freeze before they start other threads,
    whose objects of the moment would be frozen too.
    """
    gc.collect()
    gc.freeze()


def warm_up_polling_process(settings: Settings) -> None:
    """Load the preparers' models in this process, then freeze what it has loaded.

    The polling process prepares chunks too (see PreparedBatch.results).
    Call this before starting other threads (see freeze_loaded_objects).
    """
    _prepare_here(settings, [WARM_UP_MAIL])
    freeze_loaded_objects()


class PreparedBatch:
    """The pending preparation of one fetch batch, split into chunks for the pool's processes."""

    def __init__(self, pool: "TextPool", settings: Settings, chunks: list[list[bytes]], futures: list[Future]):
        self._pool = pool
        self._settings = settings
        self._chunks = chunks
        self._futures = futures

    def results(self) -> dict[str, PreparedMail]:
        """Wait for the preparation and return it by raw SHA-256, or what could be prepared when the pool failed.

        The chunks that no process has started yet are prepared here: the
        polling process would otherwise only wait for them.
        """
        local = [chunk for chunk, future in zip(self._chunks, self._futures) if future.cancel()]
        prepared: dict[str, PreparedMail] = {}
        for chunk in local:
            for mail in _prepare_here(self._settings, chunk):
                prepared[mail.raw_sha256] = mail

        try:
            for future in self._futures:
                if future.cancelled():
                    continue
                for mail in future.result():
                    prepared[mail.raw_sha256] = mail
        except BrokenProcessPool:
            logger.warning("ingest process pool failed, so the transaction prepares the rest of this batch itself")
            self._pool.close()
        except Exception as error:  # noqa: BLE001 - for example a result that could not be pickled
            logger.warning(
                "preparing a batch failed, so the transaction prepares the rest itself", extra={"error": type(error).__name__}
            )
        return prepared

    def cancel(self) -> None:
        for future in self._futures:
            future.cancel()


def _prepare_here(settings: Settings, raws: list[bytes]) -> list[PreparedMail]:
    try:
        return prepare_chunk(settings, raws)
    except Exception:  # noqa: BLE001 - the transaction prepares what is missing
        logger.exception("preparing a chunk in the polling process failed", extra={"mails": len(raws)})
        return []


class TextPool:
    """A pool of processes that prepare fetch batches (see prepare_chunk)."""

    def __init__(self, processes: int, settings: Settings):
        self.processes = processes
        # forkserver, because a forked copy of a process that runs threads (IDLE
        # watchers, Celery) may inherit held locks and open database connections.
        self._executor: ProcessPoolExecutor | None = ProcessPoolExecutor(
            max_workers=processes,
            mp_context=multiprocessing.get_context("forkserver"),
            initializer=_warm_up,
            initargs=(settings,),
        )

    @property
    def broken(self) -> bool:
        return self._executor is None

    def submit(self, settings: Settings, raws: list[bytes]) -> PreparedBatch | None:
        """Start preparing `raws` in chunks of CHUNK_MAILS. Return None when the pool is closed."""
        if self._executor is None or not raws:
            return None
        chunks = [raws[start:start + CHUNK_MAILS] for start in range(0, len(raws), CHUNK_MAILS)]
        futures: list[Future] = []
        try:
            for chunk in chunks:
                futures.append(self._executor.submit(prepare_chunk, settings, chunk))
        except (BrokenProcessPool, RuntimeError):
            logger.warning("ingest process pool is not usable, so the transaction prepares this batch itself")
            for future in futures:
                future.cancel()
            self.close()
            return None
        return PreparedBatch(self, settings, chunks, futures)

    def wait_until_started(self, settings: Settings) -> None:
        """Start every process and wait until each has prepared a mail (see _warm_up)."""
        if self._executor is None:
            return
        try:
            futures = [self._executor.submit(prepare_chunk, settings, [WARM_UP_MAIL]) for _ in range(self.processes)]
            for future in futures:
                future.result()
        except Exception as error:  # noqa: BLE001 - a pool that cannot start leaves the work to the polling process
            logger.warning("ingest process pool did not start", extra={"error": type(error).__name__})
            self.close()

    def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)


_pool: TextPool | None = None
_pool_lock = threading.Lock()


def text_pool(settings: Settings) -> TextPool | None:
    """Return this process's pool for settings.ingest_processes, or None when the polling process does the work itself.

    A Celery prefork child is a daemonic process, which may not start
    processes, so a poll there prepares nothing ahead. `helpdesk watch`,
    `helpdesk poll` and workers started with `--pool solo` or `--pool threads`
    use the pool.
    """
    global _pool
    processes = settings.ingest_process_count
    if processes == 0:
        return None
    if multiprocessing.current_process().daemon:
        logger.debug("daemonic process, ingest text work stays in the transaction")
        return None

    with _pool_lock:
        if _pool is not None and (_pool.broken or _pool.processes != processes):
            _pool.close()
            _pool = None
        if _pool is None:
            _pool = TextPool(processes, settings)
            logger.info("ingest process pool started", extra={"processes": processes})
        return _pool


def start_pool(settings: Settings, warm_up_here: bool = True) -> TextPool | None:
    """Start this process's pool now and wait until it has prepared a first mail.

    A long-running poller calls this at start-up, so that the first poll
    with a backlog does not wait for the processes to load. With
    `warm_up_here`, this process warms up and freezes too. A caller that runs
    other threads passes False and calls warm_up_polling_process before
    starting them.
    """
    pool = text_pool(settings)
    if pool is None:
        return None
    pool.wait_until_started(settings)
    if warm_up_here:
        warm_up_polling_process(settings)
    return pool


@contextmanager
def prepared_results(prepared: dict[str, PreparedMail]) -> Iterator[None]:
    """Let redaction and the registered ingest steps use the batch's prepared results inside the block."""
    with ExitStack() as stack:
        if prepared:
            redactions: dict[str, Redacted] = {}
            html: dict[str, str] = {}
            filenames: dict[str, str] = {}
            for mail in prepared.values():
                redactions.update(mail.redactions)
                html.update(mail.html)
                filenames.update(mail.filenames)
            stack.enter_context(redaction.prepared(redactions))
            stack.enter_context(prepared_html(html))
            stack.enter_context(prepared_filenames(filenames))
            for preparer in get_registry().ingest_preparers:
                results = [mail.results[preparer.name] for mail in prepared.values() if preparer.name in mail.results]
                stack.enter_context(preparer.use(results))
        yield
