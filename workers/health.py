"""Health checks of the worker, beat, the watcher and the mailbox polls: `helpdesk health worker|beat|watch|mailboxes`.

Each command prints one line per check, in Dutch unless --lang or the locale
asks for English as with `helpdesk check`, and exits with 1 when a check
failed, so an orchestrator can run it as a health check:

- worker: the worker's main process replies to a Celery ping over the broker.
- beat: the heartbeat that beat records at every wake-up (workers.heartbeat) is recent.
- watch: every IMAP mailbox that `helpdesk watch` watches has a recent
  heartbeat of its IDLE watcher (workers.watch_heartbeat).
- mailboxes: every configured mailbox had a successful poll recently.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import click
import redis
from kombu.exceptions import OperationalError

from helpdesk.checks.results import CheckResult, Status, one_line
from helpdesk.checks.i18n import translations
from helpdesk.cli import get_settings
from helpdesk.commands.check import echo_results, language_from_locale, language_option
from helpdesk.config import Settings
from helpdesk.health import broker_check, default_poll_max_age, mailbox_poll_checks
from workers.heartbeat import HEARTBEAT_INTERVAL_SECONDS, HEARTBEAT_STALE_INTERVALS, read_beat_heartbeat
from workers.watch import idle_mailboxes
from workers.watch_heartbeat import DEFAULT_MAX_AGE_SECONDS as DEFAULT_WATCH_MAX_AGE_SECONDS
from workers.watch_heartbeat import read_watch_heartbeat

DEFAULT_PING_TIMEOUT_SECONDS = 10.0


def default_node_name() -> str:
    """Return the node name that `helpdesk worker` gets on this host: Celery's default celery@HOSTNAME."""
    return f"celery@{socket.gethostname()}"


Gettext = Callable[[str], str]

def ping_worker(settings: Settings, node: str, timeout: float, gettext: Gettext = str) -> CheckResult:
    """Send a Celery ping to `node` over the broker of `settings` and wait up to `timeout` seconds for its reply."""
    from workers.dispatch import publisher

    _ = gettext
    # Celery retries a broker connection for several seconds before it gives
    # up, so an unreachable broker is found with the quicker check first.
    broker = broker_check(settings, timeout, gettext)
    if broker.failed:
        message = _("{node} is niet gepingd: {problem}")
        return CheckResult("worker", Status.FAILED, message.format(node=node, problem=broker.message), node)
    try:
        replies = publisher(settings).control.ping(destination=[node], timeout=timeout, limit=1)
    except (OperationalError, redis.RedisError, OSError) as error:
        message = _("De broker was niet bereikbaar om {node} te pingen ({error}).")
        return CheckResult("worker", Status.FAILED, message.format(node=node, error=one_line(error)), node)

    if any(node in reply for reply in replies):
        return CheckResult("worker", Status.OK, _("{node} heeft op de ping geantwoord.").format(node=node), node)
    message = _("{node} heeft niet binnen {timeout:g} s geantwoord: draait de worker, en is dat zijn node-naam (--node)?")
    return CheckResult("worker", Status.FAILED, message.format(node=node, timeout=timeout), node)


def beat_heartbeat_check(settings: Settings, max_age_seconds: float, now: float | None = None, gettext: Gettext = str) -> CheckResult:
    """Return a failed result when beat's latest heartbeat is missing or older than `max_age_seconds`."""
    _ = gettext
    now = time.time() if now is None else now
    try:
        heartbeat = read_beat_heartbeat(settings)
    except redis.RedisError as error:
        message = _("De hartslag van beat kon niet uit Redis gelezen worden ({error}).")
        return CheckResult("beat", Status.FAILED, message.format(error=one_line(error)))

    if heartbeat is None:
        return CheckResult("beat", Status.FAILED, _("Er is geen hartslag van beat bewaard: draait `celery -A workers.app beat`?"))
    age = now - heartbeat
    if age > max_age_seconds:
        message = _("De laatste hartslag van beat is {age:.0f} s oud, meer dan {max_age:.0f} s: beat is gestopt of hangt.")
        return CheckResult("beat", Status.FAILED, message.format(age=age, max_age=max_age_seconds))
    return CheckResult("beat", Status.OK, _("De laatste hartslag van beat is {age:.0f} s oud.").format(age=age))


def watch_heartbeat_checks(settings: Settings, max_age_seconds: float, now: float | None = None, gettext: Gettext = str) -> list[CheckResult]:
    """Return one result per IMAP mailbox, failed when its watcher's heartbeat is missing or older than `max_age_seconds`."""
    _ = gettext
    now = time.time() if now is None else now
    if not settings.imap_idle:
        return [CheckResult("watch", Status.WARNING, _("HELPDESK_IMAP_IDLE staat uit, dus `helpdesk watch` bewaakt geen mailbox."))]
    mailboxes = idle_mailboxes(settings)
    if not mailboxes:
        return [CheckResult("watch", Status.OK, _("Er is geen IMAP-mailbox om te bewaken."))]

    results = []
    for _url, mailbox in mailboxes:
        results.append(_watch_heartbeat_check(settings, mailbox.key, max_age_seconds, now, gettext))
    return results


def _watch_heartbeat_check(settings: Settings, key: str, max_age_seconds: float, now: float, gettext: Gettext) -> CheckResult:
    _ = gettext
    try:
        heartbeat = read_watch_heartbeat(settings, key)
    except redis.RedisError as error:
        message = _("De hartslag van de watcher van {mailbox} kon niet uit Redis gelezen worden ({error}).")
        return CheckResult("watch", Status.FAILED, message.format(mailbox=key, error=one_line(error)), key)

    if heartbeat is None:
        message = _("Er is geen hartslag van de watcher van {mailbox} bewaard: draait `helpdesk watch`?")
        return CheckResult("watch", Status.FAILED, message.format(mailbox=key), key)
    if not heartbeat.idle:
        message = _("{mailbox}: niet bewaakt (geen IDLE), de geplande polls halen de mail op.")
        return CheckResult("watch", Status.OK, message.format(mailbox=key), key)
    age = now - heartbeat.time
    if age > max_age_seconds:
        message = _("De laatste hartslag van de watcher van {mailbox} is {age:.0f} s oud, meer dan {max_age:.0f} s: "
                    "`helpdesk watch` is gestopt of hangt.")
        return CheckResult("watch", Status.FAILED, message.format(mailbox=key, age=age, max_age=max_age_seconds), key)
    message = _("{mailbox} wordt bewaakt: de laatste hartslag is {age:.0f} s oud.")
    return CheckResult("watch", Status.OK, message.format(mailbox=key, age=age), key)


def _gettext(language: str | None) -> Gettext:
    return translations(language or language_from_locale()).gettext


def _report(results: list[CheckResult], gettext: Gettext) -> None:
    echo_results(results, gettext)
    if any(result.failed for result in results):
        raise SystemExit(1)


@click.group("health")
def health() -> None:
    """Check that the worker, beat, the watcher and the mailbox polls work; exit code 1 when not."""


@health.command("worker")
@click.option("--node", default=None, help="Celery node name of the worker. Default: celery@HOSTNAME, the name `helpdesk worker` uses.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=DEFAULT_PING_TIMEOUT_SECONDS,
    show_default=True,
    help="Seconds to wait for the worker's reply.",
)
@language_option
def worker_health(node: str | None, timeout: float, language: str | None) -> None:
    """Ping the worker on this host through the broker."""
    gettext = _gettext(language)
    _report([ping_worker(get_settings(), node or default_node_name(), timeout, gettext)], gettext)


@health.command("beat")
@click.option(
    "--max-age",
    type=click.FloatRange(min=1),
    default=HEARTBEAT_STALE_INTERVALS * HEARTBEAT_INTERVAL_SECONDS,
    show_default=True,
    help="Seconds after which beat's latest heartbeat counts as stale.",
)
@language_option
def beat_health(max_age: float, language: str | None) -> None:
    """Check that beat recorded a heartbeat recently."""
    gettext = _gettext(language)
    _report([beat_heartbeat_check(get_settings(), max_age, gettext=gettext)], gettext)


@health.command("watch")
@click.option(
    "--max-age",
    type=click.FloatRange(min=1),
    default=DEFAULT_WATCH_MAX_AGE_SECONDS,
    show_default=True,
    help="Seconds after which the latest heartbeat of a mailbox's IDLE watcher counts as stale.",
)
@language_option
def watch_health(max_age: float, language: str | None) -> None:
    """Check that `helpdesk watch` recorded a heartbeat recently for every IMAP mailbox."""
    gettext = _gettext(language)
    _report(watch_heartbeat_checks(get_settings(), max_age, gettext=gettext), gettext)


@health.command("mailboxes")
@click.option(
    "--max-age",
    type=click.FloatRange(min=1),
    default=None,
    help="Seconds after which a mailbox without a successful poll counts as stale. "
    "Default: three poll intervals, at least 300.",
)
@language_option
def mailboxes_health(max_age: float | None, language: str | None) -> None:
    """Check that every mailbox of HELPDESK_MAILBOX_URL had a successful poll recently."""
    settings = get_settings()
    gettext = _gettext(language)
    _report(mailbox_poll_checks(settings, max_age or default_poll_max_age(settings), gettext=gettext), gettext)
