"""Prometheus metrics: counters, the database collector, rendering and multiprocess mode."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
import time
import urllib.request

import pytest
from celery import Celery
from celery.exceptions import Retry
from click.testing import CliRunner
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from helpdesk import metrics
from helpdesk.cli import main
from helpdesk.db import session_scope, utcnow
from helpdesk.ingest.models import MailboxState
from helpdesk.ingest.outcomes import IngestStatus
from helpdesk.tickets.models import DeliveryState, Direction, Message, Suggestion, Ticket, TicketStatus
from tests.conftest import make_settings
from tests.services.ports import free_port

HELPDESK_COMMAND = os.path.join(os.path.dirname(sys.executable), "helpdesk")


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def parse(body: bytes) -> dict[tuple[str, tuple], float]:
    """Return every sample of an exposition text keyed by name and sorted labels."""
    return {
        (item.name, tuple(sorted(item.labels.items()))): item.value
        for family in text_string_to_metric_families(body.decode())
        for item in family.samples
    }


def test_record_inbound_counts_by_status():
    before = sample("helpdesk_inbound_messages_total", mailbox="imap://count-test", status="duplicate")

    metrics.record_inbound("imap://count-test", "duplicate")
    metrics.record_inbound("imap://count-test", IngestStatus.DUPLICATE)

    after = sample("helpdesk_inbound_messages_total", mailbox="imap://count-test", status="duplicate")
    assert after - before == 2


def test_record_inbound_rejects_unknown_status():
    with pytest.raises(ValueError, match="unknown ingest status 'lost'"):
        metrics.record_inbound("imap://count-test", "lost")


def test_reply_counters_by_kind():
    sent_before = sample("helpdesk_replies_sent_total", kind="acknowledgement")
    failed_before = sample("helpdesk_replies_failed_total", kind="reply", will_retry="false")

    metrics.record_reply_sent(acknowledgement=True)
    metrics.record_reply_failed(acknowledgement=False, will_retry=False)

    assert sample("helpdesk_replies_sent_total", kind="acknowledgement") - sent_before == 1
    assert sample("helpdesk_replies_failed_total", kind="reply", will_retry="false") - failed_before == 1


def test_suggestions_counted_by_confidence():
    confident_before = sample("helpdesk_suggestions_total", confident="true")
    unsure_before = sample("helpdesk_suggestions_total", confident="false")

    metrics.record_suggestions(
        [Suggestion(slug="a", confident=True), Suggestion(slug="b", confident=True), Suggestion(slug="c", confident=False)]
    )

    assert sample("helpdesk_suggestions_total", confident="true") - confident_before == 2
    assert sample("helpdesk_suggestions_total", confident="false") - unsure_before == 1


def test_poll_errors_by_mailbox():
    before = sample("helpdesk_poll_errors_total", mailbox="imaps://vragen@mail.example.org:993")

    metrics.record_poll_error("imaps://vragen@mail.example.org:993")

    assert sample("helpdesk_poll_errors_total", mailbox="imaps://vragen@mail.example.org:993") - before == 1


@pytest.mark.parametrize(
    ("error", "outcome"),
    [(None, "success"), (RuntimeError("boom"), "failure"), (Retry(), "retry")],
)
def test_time_task_records_outcome(error, outcome):
    before = sample("helpdesk_task_duration_seconds_count", task="timing-test", outcome=outcome)

    if error is None:
        with metrics.time_task("timing-test"):
            pass
    else:
        with pytest.raises(type(error)):
            with metrics.time_task("timing-test"):
                raise error

    assert sample("helpdesk_task_duration_seconds_count", task="timing-test", outcome=outcome) - before == 1


def _store_backlog(settings) -> None:
    now = utcnow()
    with session_scope(settings) as session:
        for status, urgent in [
            (TicketStatus.NEW, True),
            (TicketStatus.NEW, False),
            (TicketStatus.OPEN, False),
            (TicketStatus.CLOSED, True),
        ]:
            session.add(Ticket(status=status, urgent=urgent, created_at=now - dt.timedelta(hours=2)))
        answered = Ticket(status=TicketStatus.WAITING, created_at=now - dt.timedelta(days=9))
        answered.messages.append(
            Message(direction=Direction.OUTBOUND, message_id="m1@helpdesk.test", delivery_state=DeliveryState.FAILED)
        )
        session.add(answered)
        session.add(
            MailboxState(
                mailbox="imaps://vragen@mail.example.org:993",
                folder="INBOX",
                consecutive_failures=3,
                last_success_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
            )
        )


def test_render_reads_backlog_from_database(settings):
    _store_backlog(settings)

    body, content_type = metrics.render_metrics(settings)

    samples = parse(body)
    assert content_type.startswith("text/plain")
    assert samples[("helpdesk_database_up", ())] == 1
    assert samples[("helpdesk_tickets", (("status", "new"),))] == 2
    assert samples[("helpdesk_tickets", (("status", "open"),))] == 1
    assert samples[("helpdesk_tickets", (("status", "waiting"),))] == 1
    assert samples[("helpdesk_tickets", (("status", "closed"),))] == 1
    assert samples[("helpdesk_tickets", (("status", "quarantined"),))] == 0
    assert samples[("helpdesk_urgent_unanswered_tickets", ())] == 1
    assert 7000 < samples[("helpdesk_oldest_unanswered_ticket_age_seconds", ())] < 8000
    assert samples[("helpdesk_outbound_messages_waiting", (("state", "failed"),))] == 1
    assert samples[("helpdesk_outbound_messages_waiting", (("state", "queued"),))] == 0
    mailbox = (("folder", "INBOX"), ("mailbox", "imaps://vragen@mail.example.org:993"))
    assert samples[("helpdesk_mailbox_consecutive_failures", mailbox)] == 3
    assert samples[("helpdesk_mailbox_last_success_timestamp_seconds", mailbox)] == 1767323045


def test_render_includes_process_counters(sqlite_settings):
    metrics.record_inbound("imap://render-test", "ingested")

    samples = parse(metrics.render_metrics(sqlite_settings)[0])

    assert samples[("helpdesk_inbound_messages_total", (("mailbox", "imap://render-test"), ("status", "ingested")))] >= 1


def test_render_without_database_reports_down(tmp_path):
    settings = make_settings(tmp_path / "var", f"postgresql://helpdesk:pw@127.0.0.1:{free_port()}/helpdesk")

    samples = parse(metrics.render_metrics(settings)[0])

    assert samples[("helpdesk_database_up", ())] == 0
    assert not any(name == "helpdesk_tickets" for name, _labels in samples)


def test_empty_database_reports_zero_age(sqlite_settings):
    samples = parse(metrics.render_metrics(sqlite_settings)[0])

    assert samples[("helpdesk_oldest_unanswered_ticket_age_seconds", ())] == 0
    assert samples[("helpdesk_tickets", (("status", "new"),))] == 0


def test_metrics_command_prints_exposition(sqlite_settings):
    result = CliRunner().invoke(main, ["metrics"], obj=sqlite_settings)

    assert result.exit_code == 0, result.output
    assert ("helpdesk_database_up", ()) in parse(result.stdout.encode())


WORKER_SCRIPT = textwrap.dedent(
    """
    from helpdesk import metrics

    metrics.record_inbound("imap://multi", "ingested")
    with metrics.time_task("poll_mailboxes"):
        pass
    """
)


def test_multiprocess_counters_are_summed(sqlite_settings, tmp_path):
    folder = tmp_path / "metrics"
    folder.mkdir()
    environment = {
        **os.environ,
        metrics.MULTIPROCESS_DIR_VARIABLE: str(folder),
        "HELPDESK_DATABASE_URL": sqlite_settings.database_url,
        "HELPDESK_DATA_DIR": str(sqlite_settings.data_dir),
    }

    for _ in range(2):
        subprocess.run([sys.executable, "-c", WORKER_SCRIPT], env=environment, check=True, timeout=120)
    rendered = subprocess.run(
        [HELPDESK_COMMAND, "metrics"], env=environment, check=True, capture_output=True, timeout=120
    )

    samples = parse(rendered.stdout)
    assert samples[("helpdesk_inbound_messages_total", (("mailbox", "imap://multi"), ("status", "ingested")))] == 2
    assert samples[("helpdesk_task_duration_seconds_count", (("outcome", "success"), ("task", "poll_mailboxes")))] == 2
    assert samples[("helpdesk_database_up", ())] == 1


def test_metrics_command_serves_http(sqlite_settings):
    port = free_port()
    environment = {
        **os.environ,
        "HELPDESK_DATABASE_URL": sqlite_settings.database_url,
        "HELPDESK_DATA_DIR": str(sqlite_settings.data_dir),
    }
    server = subprocess.Popen(
        [HELPDESK_COMMAND, "metrics", "--port", str(port)], env=environment, stderr=subprocess.DEVNULL
    )
    try:
        body = _get_when_listening(f"http://127.0.0.1:{port}/metrics", server)
    finally:
        server.terminate()
        server.wait(timeout=30)

    samples = parse(body)
    assert samples[("helpdesk_database_up", ())] == 1
    assert ("helpdesk_tickets", (("status", "new"),)) in samples


def _get_when_listening(url: str, server: subprocess.Popen) -> bytes:
    """Fetch `url` once the server process listens; fail when it exits or never listens."""
    for _ in range(600):
        if server.poll() is not None:
            pytest.fail(f"helpdesk metrics --port exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"helpdesk metrics did not listen at {url}")


def test_celery_tasks_are_timed():
    app = Celery("metrics-test", broker="memory://")
    app.conf.task_always_eager = True

    @app.task(name="metrics_test.succeed")
    def succeed():
        return "done"

    @app.task(name="metrics_test.fail")
    def fail():
        raise RuntimeError("boom")

    metrics.observe_celery_tasks()
    success_before = sample("helpdesk_task_duration_seconds_count", task="metrics_test.succeed", outcome="success")
    failure_before = sample("helpdesk_task_duration_seconds_count", task="metrics_test.fail", outcome="failure")

    succeed.apply()
    fail.apply()

    assert sample("helpdesk_task_duration_seconds_count", task="metrics_test.succeed", outcome="success") - success_before == 1
    assert sample("helpdesk_task_duration_seconds_count", task="metrics_test.fail", outcome="failure") - failure_before == 1
