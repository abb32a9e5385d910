"""Health checks of the worker, beat and the mailbox polls: `helpdesk health worker|beat|mailboxes`.

Each command prints one line per check and exits with 1 when a check
failed, so an orchestrator can run it as a health check:

- worker: the worker's main process replies to a Celery ping over the broker.
- beat: the heartbeat that beat records at every wake-up (workers.heartbeat) is recent.
- mailboxes: every configured mailbox had a successful poll recently.
"""

from __future__ import annotations

import socket
import time

import click
import redis
from kombu.exceptions import OperationalError

from helpdesk.checks.results import CheckResult, Status, one_line
from helpdesk.cli import get_settings
from helpdesk.config import Settings
from helpdesk.health import broker_check, default_poll_max_age, mailbox_poll_checks
from workers.heartbeat import HEARTBEAT_INTERVAL_SECONDS, HEARTBEAT_STALE_INTERVALS, read_beat_heartbeat

DEFAULT_PING_TIMEOUT_SECONDS = 10.0


def default_node_name() -> str:
    """Return the node name that `helpdesk worker` gets on this host: Celery's default celery@HOSTNAME."""
    return f"celery@{socket.gethostname()}"


def ping_worker(settings: Settings, node: str, timeout: float) -> CheckResult:
    """Send a Celery ping to `node` over the broker of `settings` and wait up to `timeout` seconds for its reply."""
    from workers.dispatch import publisher

    # Celery retries a broker connection for several seconds before it gives
    # up, so an unreachable broker is found with the quicker check first.
    broker = broker_check(settings, timeout)
    if broker.failed:
        return CheckResult("worker", Status.FAILED, f"{node} was not pinged: {broker.message}", node)
    try:
        replies = publisher(settings).control.ping(destination=[node], timeout=timeout, limit=1)
    except (OperationalError, redis.RedisError, OSError) as error:
        return CheckResult("worker", Status.FAILED, f"The broker could not be reached to ping {node} ({one_line(error)}).", node)

    if any(node in reply for reply in replies):
        return CheckResult("worker", Status.OK, f"{node} replied to the ping.", node)
    message = f"{node} did not reply within {timeout:g} s: is the worker running, and is that its node name (--node)?"
    return CheckResult("worker", Status.FAILED, message, node)


def beat_heartbeat_check(settings: Settings, max_age_seconds: float, now: float | None = None) -> CheckResult:
    """Return a failed result when beat's latest heartbeat is missing or older than `max_age_seconds`."""
    now = time.time() if now is None else now
    try:
        heartbeat = read_beat_heartbeat(settings)
    except redis.RedisError as error:
        return CheckResult("beat", Status.FAILED, f"The beat heartbeat could not be read from Redis ({one_line(error)}).")

    if heartbeat is None:
        return CheckResult("beat", Status.FAILED, "No beat heartbeat is recorded: is `celery -A workers.app beat` running?")
    age = now - heartbeat
    if age > max_age_seconds:
        message = f"The latest beat heartbeat is {age:.0f} s old, more than {max_age_seconds:.0f} s: beat has stopped or hangs."
        return CheckResult("beat", Status.FAILED, message)
    return CheckResult("beat", Status.OK, f"The latest beat heartbeat is {age:.0f} s old.")


def _report(results: list[CheckResult]) -> None:
    for result in results:
        label = "OK" if result.status is Status.OK else "FAILED"
        click.echo(f"{label:<6}  {result.message}")
    if any(result.failed for result in results):
        raise SystemExit(1)


@click.group("health")
def health() -> None:
    """Check that the worker, beat and the mailbox polls work; exit code 1 when not."""


@health.command("worker")
@click.option("--node", default=None, help="Celery node name of the worker. Default: celery@HOSTNAME, the name `helpdesk worker` uses.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=DEFAULT_PING_TIMEOUT_SECONDS,
    show_default=True,
    help="Seconds to wait for the worker's reply.",
)
def worker_health(node: str | None, timeout: float) -> None:
    """Ping the worker on this host through the broker."""
    _report([ping_worker(get_settings(), node or default_node_name(), timeout)])


@health.command("beat")
@click.option(
    "--max-age",
    type=click.FloatRange(min=1),
    default=HEARTBEAT_STALE_INTERVALS * HEARTBEAT_INTERVAL_SECONDS,
    show_default=True,
    help="Seconds after which beat's latest heartbeat counts as stale.",
)
def beat_health(max_age: float) -> None:
    """Check that beat recorded a heartbeat recently."""
    _report([beat_heartbeat_check(get_settings(), max_age)])


@health.command("mailboxes")
@click.option(
    "--max-age",
    type=click.FloatRange(min=1),
    default=None,
    help="Seconds after which a mailbox without a successful poll counts as stale. "
    "Default: three poll intervals, at least 300.",
)
def mailboxes_health(max_age: float | None) -> None:
    """Check that every mailbox of HELPDESK_MAILBOX_URL had a successful poll recently."""
    settings = get_settings()
    _report(mailbox_poll_checks(settings, max_age or default_poll_max_age(settings)))
