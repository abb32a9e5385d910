"""Celery configuration built from the helpdesk settings.

The broker is HELPDESK_BROKER_URL: Redis in production, or kombu's file-system
transport under the data folder (the default), which lets the web process,
the worker and beat share a queue on one machine without a server.

This module has no import-time side effects: workers.app builds the worker's
application, and workers.dispatch builds publishers for other processes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

from celery import Celery

from helpdesk.config import ConfigError, Settings

# Redis broker: kombu's blocking pop waits brpop_timeout (1 s by default), so
# these socket timeouts are far above it. Without them, redis-py waits forever
# on a connection that a failover or a NAT table dropped silently.
REDIS_SOCKET_TIMEOUT_SECONDS = 30
REDIS_CONNECT_TIMEOUT_SECONDS = 10
# A task that is not acknowledged within this time goes to another worker.
# It must exceed the longest countdown of a retry (one hour, see
# helpdesk.outbound.services.RETRY_MAX_DELAY_SECONDS), because Redis hands an
# unacknowledged task waiting for its countdown to a second worker after it.
REDIS_VISIBILITY_TIMEOUT_SECONDS = 2 * 3600

RETRY_FAILED_SENDS_SECONDS = 60.0
APPLY_RETENTION_SECONDS = 3600.0
MINE_QUESTIONS_SECONDS = 24 * 3600.0
PRUNE_BROKER_FILES_SECONDS = 24 * 3600.0


def broker_options(settings: Settings) -> dict:
    """Return the transport options for HELPDESK_BROKER_URL, creating the broker folders when needed."""
    scheme = urlsplit(settings.broker_url).scheme
    if scheme == "filesystem":
        return _filesystem_options(broker_folder(settings))
    if scheme in {"redis", "rediss"}:
        return {
            "visibility_timeout": REDIS_VISIBILITY_TIMEOUT_SECONDS,
            "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
            "socket_connect_timeout": REDIS_CONNECT_TIMEOUT_SECONDS,
            "socket_keepalive": True,
            "retry_on_timeout": True,
        }
    raise ConfigError(
        f"HELPDESK_BROKER_URL has the unsupported scheme {scheme!r}: "
        "use redis://host:6379/0 or filesystem:///path/to/folder."
    )


def broker_folder(settings: Settings) -> Path:
    """Return the folder of a filesystem:// broker URL (filesystem:///var/broker is /var/broker)."""
    parts = urlsplit(settings.broker_url)
    path = (parts.netloc + parts.path) if parts.netloc else parts.path
    if not path:
        raise ConfigError(
            f"HELPDESK_BROKER_URL={settings.broker_url!r} has no folder: use filesystem:///path/to/folder."
        )
    return Path(path).expanduser().resolve()


def _filesystem_options(folder: Path) -> dict:
    queue = folder / "queue"
    processed = folder / "processed"
    control = folder / "control"
    for path in (queue, processed, control):
        path.mkdir(parents=True, exist_ok=True)

    # Producers and consumers use the same folder. Processed messages are
    # moved within the data folder, because a rename there is atomic, and the
    # prune_broker_files task deletes them later.
    return {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "processed_folder": str(processed),
        "store_processed": True,
        "control_folder": str(control),
    }


def create_app(settings: Settings) -> Celery:
    """Build a Celery application for `settings`; tasks are in workers.tasks."""
    broker_url = settings.broker_url
    if urlsplit(broker_url).scheme == "filesystem":
        # The folders are in the transport options. kombu reads no path from
        # the URL and warns when it has no host name.
        broker_url = "filesystem://localhost/"

    # Beat keeps its schedule file there and fails at start when the folder is missing.
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    app = Celery("helpdesk", include=["workers.tasks"])
    app.conf.update(
        broker_url=broker_url,
        broker_transport_options=broker_options(settings),
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=REDIS_CONNECT_TIMEOUT_SECONDS,
        # A task is acknowledged after it ran, so a worker that dies mid-task
        # leaves it for another worker. The tasks are safe to run twice: polling
        # skips mail already stored, and sending claims each message first.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        result_backend=None,
        task_serializer="json",
        accept_content=["json"],
        enable_utc=True,
        timezone="UTC",
        task_default_queue="helpdesk",
        beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
        beat_schedule=beat_schedule(settings),
    )
    # Tasks read the settings from here (workers.app.current_settings).
    app.helpdesk_settings = settings
    return app


def beat_schedule(settings: Settings) -> dict:
    """Return the periodic tasks that beat starts."""
    schedule = {
        "poll-mailboxes": {
            "task": "workers.tasks.poll_mailboxes",
            "schedule": dt.timedelta(seconds=max(settings.poll_interval_seconds, 1.0)),
        },
        "retry-failed-sends": {
            "task": "workers.tasks.retry_failed_sends",
            "schedule": dt.timedelta(seconds=RETRY_FAILED_SENDS_SECONDS),
        },
        "apply-retention": {
            "task": "workers.tasks.apply_retention",
            "schedule": dt.timedelta(seconds=APPLY_RETENTION_SECONDS),
        },
        "mine-questions": {
            "task": "workers.tasks.mine_questions",
            "schedule": dt.timedelta(seconds=MINE_QUESTIONS_SECONDS),
        },
    }
    if urlsplit(settings.broker_url).scheme == "filesystem":
        schedule["prune-broker-files"] = {
            "task": "workers.tasks.prune_broker_files",
            "schedule": dt.timedelta(seconds=PRUNE_BROKER_FILES_SECONDS),
        }
    return schedule
