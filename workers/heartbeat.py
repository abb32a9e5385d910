"""Beat's heartbeat: the time at which Celery beat last woke up.

`HeartbeatScheduler`, the scheduler of workers.app, records it at every
wake-up of beat's loop: in Redis with a Redis broker, else in a file in the
data folder (the file-system broker requires beat and the worker on one
machine anyway). `helpdesk health beat` reads it.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from urllib.parse import urlsplit

import redis
from celery.beat import PersistentScheduler

from helpdesk.checks.results import one_line
from helpdesk.config import Settings

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "helpdesk:heartbeat:beat"
HEARTBEAT_FILE_NAME = "beat-heartbeat"
# Beat wakes up at least this often, whatever its schedule, and records a heartbeat each time.
HEARTBEAT_INTERVAL_SECONDS = 30.0
# Beat counts as stopped after this many missed wake-ups.
HEARTBEAT_STALE_INTERVALS = 3
# A heartbeat of a beat that stopped long ago disappears from Redis.
HEARTBEAT_EXPIRY_SECONDS = 24 * 3600
REDIS_TIMEOUT_SECONDS = 5


def _uses_redis(settings: Settings) -> bool:
    return urlsplit(settings.broker_url).scheme in {"redis", "rediss"}


def _redis_client(settings: Settings) -> redis.Redis:
    return redis.Redis.from_url(
        settings.broker_url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
    )


def heartbeat_path(settings: Settings) -> Path:
    return settings.data_dir / HEARTBEAT_FILE_NAME


def record_beat_heartbeat(settings: Settings, now: float | None = None) -> None:
    """Store `now` (Unix time, default the current time) as beat's latest heartbeat."""
    now = time.time() if now is None else now
    if _uses_redis(settings):
        client = _redis_client(settings)
        try:
            client.set(HEARTBEAT_KEY, f"{now:.3f}", ex=HEARTBEAT_EXPIRY_SECONDS)
        finally:
            client.close()
        return

    path = heartbeat_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    os.utime(path, (now, now))


def read_beat_heartbeat(settings: Settings) -> float | None:
    """Return the Unix time of beat's latest heartbeat, or None when none is recorded.

    Raises redis.RedisError when the Redis broker cannot be read.
    """
    if _uses_redis(settings):
        client = _redis_client(settings)
        try:
            value = client.get(HEARTBEAT_KEY)
        finally:
            client.close()
        return float(value) if value is not None else None

    try:
        return heartbeat_path(settings).stat().st_mtime
    except FileNotFoundError:
        return None


class HeartbeatScheduler(PersistentScheduler):
    """Celery beat's default scheduler, which also records a heartbeat each time beat wakes up.

    The heartbeat comes from beat's own loop, after the due tasks were sent,
    so it stops when that loop hangs, not only when the process exits.
    """

    max_interval = HEARTBEAT_INTERVAL_SECONDS

    def tick(self, *args, **kwargs):
        interval = super().tick(*args, **kwargs)
        self._record_heartbeat()
        return interval

    def _record_heartbeat(self) -> None:
        try:
            record_beat_heartbeat(self.app.helpdesk_settings)
        except (redis.RedisError, OSError) as error:
            # Beat goes on: the broker outage that causes this also shows in
            # the failed task sends, and the stale heartbeat is the signal.
            if not getattr(self, "_heartbeat_failing", False):
                logger.warning("beat heartbeat could not be recorded", extra={"error": one_line(error)})
            self._heartbeat_failing = True
            return
        if getattr(self, "_heartbeat_failing", False):
            logger.info("beat heartbeat recorded again")
        self._heartbeat_failing = False
