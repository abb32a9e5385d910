"""Prometheus metrics of the helpdesk, and the text that a /metrics endpoint serves.

Two kinds of numbers:

- Events (mail ingested, replies sent, poll errors, task run times) are
  counters and a histogram. The process that does the work increments them
  through the `record_*` functions; `observe_celery_tasks` times every
  Celery task, and `time_task` times any other block of work.
- State (open tickets by status, outgoing mail waiting, mailbox health) is
  read from the database by `DatabaseCollector` at every scrape, so it is
  right whichever process serves /metrics.

Web, worker and beat are separate processes, and gunicorn and Celery fork
more. prometheus_client's multiprocess mode adds their counters up: every
process started with PROMETHEUS_MULTIPROC_DIR set writes its values to files
in that folder, and `render_metrics` sums all files. The folder must exist
before the processes start and must be emptied only while all of them are
stopped (docs/deployment.md shows a systemd set-up). Without the variable,
`render_metrics` shows the numbers of the calling process only.

Every metric has labels, so that importing this module creates no files in
the multiprocess folder; a process writes there only once it counts
something. Labels carry ids and fixed words only, never addresses or
message text.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from celery.exceptions import Retry
from celery.signals import task_postrun, task_prerun
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from helpdesk.config import Settings
from helpdesk.db import as_utc, session_scope, utcnow
from helpdesk.ingest.models import MailboxState
from helpdesk.tickets.models import DeliveryState, Direction, Message, Suggestion, Ticket, TicketStatus

logger = logging.getLogger(__name__)

# The variable name is fixed by prometheus_client, which reads it when it is
# first imported to decide where values are kept.
MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

INBOUND_STATUSES = ("ingested", "duplicate", "quarantined", "ignored")
UNANSWERED_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN)
WAITING_DELIVERY_STATES = (DeliveryState.QUEUED, DeliveryState.FAILED)

# From a quick delivery (well under a second) to a slow IMAP poll of a large batch.
TASK_DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)

INBOUND_MESSAGES = Counter(
    "helpdesk_inbound_messages",
    "Inbound mails handled by ingestion, by mailbox key and outcome "
    "(ingested, duplicate, quarantined, or ignored automatic mail).",
    ["mailbox", "status"],
)
SUGGESTIONS = Counter(
    "helpdesk_suggestions",
    "FAQ articles suggested for tickets, by whether the knowledge base was confident of the match.",
    ["confident"],
)
REPLIES_SENT = Counter(
    "helpdesk_replies_sent",
    "Outbound mails accepted by the SMTP server, by kind (reply or acknowledgement).",
    ["kind"],
)
REPLIES_FAILED = Counter(
    "helpdesk_replies_failed",
    "Failed delivery attempts of outbound mail, by kind and by whether another attempt follows.",
    ["kind", "will_retry"],
)
POLL_ERRORS = Counter("helpdesk_poll_errors", "Polls of a mailbox that failed, by mailbox key.", ["mailbox"])
TASK_DURATION = Histogram(
    "helpdesk_task_duration_seconds",
    "Run time of background tasks in seconds, by task name and outcome (success, retry or failure).",
    ["task", "outcome"],
    buckets=TASK_DURATION_BUCKETS,
)


def record_inbound(mailbox: str | None, status: str) -> None:
    """Count one inbound mail with its ingest outcome (an IngestStatus value)."""
    status = str(getattr(status, "value", status))
    if status not in INBOUND_STATUSES:
        raise ValueError(f"unknown ingest status {status!r}: use one of {', '.join(INBOUND_STATUSES)}")
    INBOUND_MESSAGES.labels(mailbox=mailbox or "", status=status).inc()


def record_suggestions(suggestions: Iterable[Suggestion]) -> None:
    """Count the FAQ articles suggested for one ticket."""
    suggestions = list(suggestions)
    confident = sum(1 for suggestion in suggestions if suggestion.confident)
    # One increment per label instead of one per suggestion, because ingestion records up to five per mail.
    for label, count in (("true", confident), ("false", len(suggestions) - confident)):
        if count:
            SUGGESTIONS.labels(confident=label).inc(count)


def record_reply_sent(acknowledgement: bool = False) -> None:
    """Count one outbound mail that the SMTP server accepted."""
    REPLIES_SENT.labels(kind=_kind(acknowledgement)).inc()


def record_reply_failed(acknowledgement: bool = False, will_retry: bool = True) -> None:
    """Count one failed delivery attempt of an outbound mail."""
    REPLIES_FAILED.labels(kind=_kind(acknowledgement), will_retry="true" if will_retry else "false").inc()


def record_poll_error(mailbox: str) -> None:
    """Count one failed poll of the mailbox with this key (the key has no password)."""
    POLL_ERRORS.labels(mailbox=mailbox).inc()


def _kind(acknowledgement: bool) -> str:
    return "acknowledgement" if acknowledgement else "reply"


@contextmanager
def time_task(task: str) -> Iterator[None]:
    """Observe the run time of the enclosed task body with its outcome; exceptions pass through.

    Celery's Retry exception counts as "retry", any other exception as "failure".
    """
    started = time.perf_counter()
    outcome = "failure"
    try:
        yield
        outcome = "success"
    except Retry:
        outcome = "retry"
        raise
    finally:
        TASK_DURATION.labels(task=task, outcome=outcome).observe(time.perf_counter() - started)


_CELERY_OUTCOMES = {"SUCCESS": "success", "RETRY": "retry"}
_task_starts: dict[str, float] = {}


def observe_celery_tasks() -> None:
    """Time every Celery task run in this process into helpdesk_task_duration_seconds.

    Call once where the Celery app is created. Celery sends task_prerun and
    task_postrun in the process that runs the task, also when the task
    raised or asked for a retry. The outcome label comes from the task's
    final state.
    """
    task_prerun.connect(_task_started, weak=False, dispatch_uid="helpdesk-metrics-prerun")
    task_postrun.connect(_task_finished, weak=False, dispatch_uid="helpdesk-metrics-postrun")


def _task_started(task_id: str | None = None, **_details) -> None:
    if task_id is not None:
        _task_starts[task_id] = time.perf_counter()


def _task_finished(task_id: str | None = None, task=None, state: str | None = None, **_details) -> None:
    started = _task_starts.pop(task_id, None) if task_id is not None else None
    if started is None or task is None:
        return
    outcome = _CELERY_OUTCOMES.get(state or "", "failure")
    TASK_DURATION.labels(task=task.name, outcome=outcome).observe(time.perf_counter() - started)


def collect_database_metrics(session: Session) -> list[Metric]:
    """Read the ticket backlog, waiting outbound mail and mailbox health from the database.

    Every ticket status and waiting delivery state gets a sample, zero
    included, so that a queue that empties shows 0 and not a gap.
    """
    tickets = GaugeMetricFamily("helpdesk_tickets", "Tickets by status.", labels=["status"])
    counts = dict(session.execute(select(Ticket.status, func.count()).group_by(Ticket.status)).all())
    for status in TicketStatus:
        tickets.add_metric([status.value], counts.get(status, 0))

    urgent = GaugeMetricFamily("helpdesk_urgent_unanswered_tickets", "New or open tickets marked urgent.")
    urgent.add_metric(
        [], session.scalar(select(func.count()).where(Ticket.urgent.is_(True), Ticket.status.in_(UNANSWERED_STATUSES)))
    )

    oldest = GaugeMetricFamily(
        "helpdesk_oldest_unanswered_ticket_age_seconds",
        "Age of the oldest new or open ticket without a first response; 0 when there is none.",
    )
    created = session.scalar(
        select(func.min(Ticket.created_at)).where(
            Ticket.status.in_(UNANSWERED_STATUSES), Ticket.first_response_at.is_(None)
        )
    )
    oldest.add_metric([], (utcnow() - as_utc(created)).total_seconds() if created else 0.0)

    outbound = GaugeMetricFamily(
        "helpdesk_outbound_messages_waiting", "Outbound mails not yet accepted by the SMTP server, by state.", labels=["state"]
    )
    waiting = dict(
        session.execute(
            select(Message.delivery_state, func.count())
            .where(Message.direction == Direction.OUTBOUND, Message.delivery_state.in_(WAITING_DELIVERY_STATES))
            .group_by(Message.delivery_state)
        ).all()
    )
    for state in WAITING_DELIVERY_STATES:
        outbound.add_metric([state.value], waiting.get(state, 0))

    return [tickets, urgent, oldest, outbound, *_mailbox_metrics(session)]


def _mailbox_metrics(session: Session) -> list[Metric]:
    failures = GaugeMetricFamily(
        "helpdesk_mailbox_consecutive_failures", "Polls that failed in a row, by mailbox key and folder.", labels=["mailbox", "folder"]
    )
    last_success = GaugeMetricFamily(
        "helpdesk_mailbox_last_success_timestamp_seconds",
        "Unix time of the last successful poll, by mailbox key and folder.",
        labels=["mailbox", "folder"],
    )
    for state in session.scalars(select(MailboxState).order_by(MailboxState.mailbox, MailboxState.folder)):
        labels = [state.mailbox, state.folder]
        failures.add_metric(labels, state.consecutive_failures)
        if state.last_success_at is not None:
            last_success.add_metric(labels, as_utc(state.last_success_at).timestamp())
    return [failures, last_success]


class DatabaseCollector:
    """A Prometheus collector that reads state from the database at each scrape.

    When the database cannot be read, it reports helpdesk_database_up 0 and
    logs the error, so that /metrics still responds.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("helpdesk_database_up", "1 when the database could be read for these metrics, else 0.")
        try:
            with session_scope(self.settings) as session:
                families = collect_database_metrics(session)
        except SQLAlchemyError as error:
            # The driver's error names the server and the failure; the
            # statement and its parameters are left out.
            cause = getattr(error, "orig", None) or error
            logger.error("metrics could not read the database", extra={"error": " ".join(str(cause).split())})
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families


def multiprocess_directory() -> str | None:
    """Return the folder of prometheus_client's multiprocess mode, or None when it is off."""
    return os.environ.get(MULTIPROCESS_DIR_VARIABLE) or None


def metrics_registry(settings: Settings) -> CollectorRegistry:
    """Return a registry with the counters and the database state, for rendering or serving.

    In multiprocess mode the counters are summed over the files of all
    processes; otherwise they are this process's own.
    """
    registry = CollectorRegistry()
    directory = multiprocess_directory()
    if directory:
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(REGISTRY)
    registry.register(DatabaseCollector(settings))
    return registry


def render_metrics(settings: Settings) -> tuple[bytes, str]:
    """Return the body and content type of a /metrics response."""
    return generate_latest(metrics_registry(settings)), CONTENT_TYPE_LATEST
