"""Locks that keep two workers or two beats from doing the same periodic work at once.

With a Redis broker the lock is a Redis key with an expiry, shared by every
machine that uses that Redis. With the file-system broker it is an flock on a
file in the data folder, which covers the processes of one machine: that
broker only works when all of them share that folder anyway.
"""

from __future__ import annotations

import fcntl
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import redis

from helpdesk.config import Settings

logger = logging.getLogger(__name__)

# A Redis lock expires after this time even when its holder died without
# releasing it. One poll of all mailboxes must finish well within it.
LOCK_EXPIRY_SECONDS = 15 * 60
REDIS_TIMEOUT_SECONDS = 10


def lock_key(name: str) -> str:
    """Return a key that is safe as a Redis key and as a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


@contextmanager
def exclusive(settings: Settings, name: str) -> Iterator[bool]:
    """Hold the lock `name` while the block runs, without waiting for it.

    Yields True when this process holds the lock and False when another holds it.
    """
    if urlsplit(settings.broker_url).scheme in {"redis", "rediss"}:
        with _redis_lock(settings, lock_key(name)) as acquired:
            yield acquired
    else:
        with _file_lock(settings, lock_key(name)) as acquired:
            yield acquired


@contextmanager
def _redis_lock(settings: Settings, key: str) -> Iterator[bool]:
    client = redis.Redis.from_url(
        settings.broker_url,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
    lock = client.lock(f"helpdesk:lock:{key}", timeout=LOCK_EXPIRY_SECONDS, blocking=False)
    acquired = lock.acquire()
    try:
        yield acquired
    finally:
        if acquired:
            try:
                lock.release()
            except redis.exceptions.LockError:
                logger.warning("lock expired before release", extra={"lock": key})
        client.close()


@contextmanager
def _file_lock(settings: Settings, key: str) -> Iterator[bool]:
    folder = settings.data_dir / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{key}.lock", "a+b") as file:
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)
