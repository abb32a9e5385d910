"""The watcher's heartbeats: per mailbox, the time at which its IDLE watcher last proved alive.

Each IdleWatcher thread of `helpdesk watch` records one when it enters
IDLE and at least every HEARTBEAT_INTERVAL_SECONDS while it stays in IDLE
(helpdesk.ingest.idle). A mailbox whose server lacks IDLE gets one heartbeat
with idle=False. The store is the one of beat's heartbeat (workers.heartbeat):
Redis with a Redis broker, else one file per mailbox in the data folder.
`helpdesk health watch` reads them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from helpdesk.checks.results import one_line
from helpdesk.config import Settings
from helpdesk.ingest.idle import HEARTBEAT_INTERVAL_SECONDS
from workers.heartbeat import HEARTBEAT_EXPIRY_SECONDS, _redis_client, _uses_redis

logger = logging.getLogger(__name__)

KEY_PREFIX = "helpdesk:heartbeat:watch:"
FOLDER_NAME = "watch-heartbeats"
# A watcher counts as stopped after this many missed heartbeats.
# NOTE: a poll of a large backlog runs in the watcher's thread and writes no
# heartbeat, so a first poll longer than this limit fails the check once.
HEARTBEAT_STALE_INTERVALS = 6
DEFAULT_MAX_AGE_SECONDS = HEARTBEAT_STALE_INTERVALS * HEARTBEAT_INTERVAL_SECONDS


@dataclass(frozen=True)
class WatchHeartbeat:
    time: float  # Unix time
    idle: bool  # false when the server does not support IDLE, so the mailbox is not watched


def heartbeat_file(settings: Settings, mailbox_key: str) -> Path:
    # A mailbox key contains "/" and ":", so the file is named by its hash.
    digest = hashlib.sha256(mailbox_key.encode()).hexdigest()[:32]
    return settings.data_dir / FOLDER_NAME / digest


def record_watch_heartbeat(settings: Settings, mailbox_key: str, idle: bool = True, now: float | None = None) -> None:
    """Store `now` (Unix time, default the current time) as the latest heartbeat of the watcher of `mailbox_key`."""
    now = time.time() if now is None else now
    value = json.dumps({"time": now, "idle": idle})
    if _uses_redis(settings):
        client = _redis_client(settings)
        try:
            client.set(KEY_PREFIX + mailbox_key, value, ex=HEARTBEAT_EXPIRY_SECONDS)
        finally:
            client.close()
        return

    path = heartbeat_file(settings, mailbox_key)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed, so a health check never reads half a file.
    partial = path.with_suffix(".tmp")
    partial.write_text(value)
    os.replace(partial, path)


def read_watch_heartbeat(settings: Settings, mailbox_key: str) -> WatchHeartbeat | None:
    """Return the latest heartbeat of the watcher of `mailbox_key`, or None when none is recorded.

    Raises redis.RedisError when the Redis broker cannot be read.
    """
    if _uses_redis(settings):
        client = _redis_client(settings)
        try:
            value = client.get(KEY_PREFIX + mailbox_key)
        finally:
            client.close()
    else:
        try:
            value = heartbeat_file(settings, mailbox_key).read_text()
        except FileNotFoundError:
            value = None
    if value is None:
        return None

    fields = json.loads(value)
    return WatchHeartbeat(time=float(fields["time"]), idle=bool(fields["idle"]))


class HeartbeatRecorder:
    """Record the heartbeats of one mailbox's watcher; log a failing store once, not at every heartbeat.

    The watcher goes on when the store fails: the stale heartbeat is the signal.
    """

    def __init__(self, settings: Settings, mailbox_key: str) -> None:
        self.settings = settings
        self.mailbox_key = mailbox_key
        self.failing = False

    def __call__(self, idle: bool) -> None:
        try:
            record_watch_heartbeat(self.settings, self.mailbox_key, idle)
        except (redis.RedisError, OSError) as error:
            if not self.failing:
                logger.warning("watch heartbeat could not be recorded", extra={"mailbox": self.mailbox_key, "error": one_line(error)})
            self.failing = True
            return
        if self.failing:
            logger.info("watch heartbeat recorded again", extra={"mailbox": self.mailbox_key})
        self.failing = False
