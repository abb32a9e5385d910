"""Locks that keep two workers or two beats from doing the same periodic work at once.

With a Redis broker the lock is a Redis key with a short expiry, shared by
every machine that uses that Redis. A background thread extends the expiry
while the holder works, so a holder that is killed frees the lock within
LOCK_EXPIRY_SECONDS. With the file-system broker it is an flock on a file in
the data folder, which covers the processes of one machine: that broker only
works when all of them share that folder anyway. The kernel releases an flock
when its holder dies, so it needs no expiry.
"""

from __future__ import annotations

import fcntl
import logging
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import redis
from redis.lock import Lock

from helpdesk.config import Settings

logger = logging.getLogger(__name__)

# A Redis lock whose holder died frees after this time. The holder extends it
# every third of this time, so one failed renewal does not lose it.
LOCK_EXPIRY_SECONDS = 60.0
REDIS_TIMEOUT_SECONDS = 10


def lock_key(name: str) -> str:
    """Return a key that is safe as a Redis key and as a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


class Lease:
    """A held lock. `lost()` turns true once a Redis lock could not be renewed before it expired.

    After that another process may hold the lock, so long work checks
    `lost()` between steps and stops.
    """

    def __init__(self) -> None:
        self._lost = threading.Event()

    def lost(self) -> bool:
        return self._lost.is_set()


class _RenewedLease(Lease):
    """A lease on a redis-py Lock that a daemon thread extends every `expiry / 3` seconds."""

    def __init__(self, lock: Lock, key: str, expiry_seconds: float) -> None:
        super().__init__()
        self.lock = lock
        self.key = key
        self.expiry_seconds = expiry_seconds
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._renew, name=f"lock-renewal-{key}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def _renew(self) -> None:
        renewed_at = time.monotonic()
        while not self._stopped.wait(self.expiry_seconds / 3):
            try:
                # Sets the expiry back to expiry_seconds, but only while this
                # lease's token is still the key's value.
                self.lock.reacquire()
                renewed_at = time.monotonic()
            except redis.exceptions.LockNotOwnedError:
                logger.warning("lock lost to expiry or to a Redis restart", extra={"lock": self.key})
                self._lost.set()
                return
            except redis.exceptions.RedisError as error:
                if time.monotonic() - renewed_at < self.expiry_seconds:
                    logger.warning("lock renewal failed, retrying", extra={"lock": self.key, "error": type(error).__name__})
                    continue
                logger.warning("lock expired while Redis was unreachable", extra={"lock": self.key})
                self._lost.set()
                return


@contextmanager
def exclusive(settings: Settings, name: str, expiry_seconds: float = LOCK_EXPIRY_SECONDS) -> Iterator[Lease | None]:
    """Hold the lock `name` while the block runs, without waiting for it.

    Yields a Lease when this process holds the lock and None when another holds it.
    `expiry_seconds` applies to the Redis lock only.
    """
    if urlsplit(settings.broker_url).scheme in {"redis", "rediss"}:
        with _redis_lock(settings, lock_key(name), expiry_seconds) as lease:
            yield lease
    else:
        with _file_lock(settings, lock_key(name)) as lease:
            yield lease


@contextmanager
def _redis_lock(settings: Settings, key: str, expiry_seconds: float) -> Iterator[Lease | None]:
    client = redis.Redis.from_url(
        settings.broker_url,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
    # thread_local=False because the renewal thread uses the token that this thread stored.
    lock = client.lock(f"helpdesk:lock:{key}", timeout=expiry_seconds, blocking=False, thread_local=False)
    try:
        if not lock.acquire():
            yield None
            return
        lease = _RenewedLease(lock, key, expiry_seconds)
        lease.start()
        try:
            yield lease
        finally:
            lease.stop()
            _release(lock, key)
    finally:
        client.close()


def _release(lock: Lock, key: str) -> None:
    try:
        lock.release()
    except redis.exceptions.LockError:
        logger.warning("lock expired before release", extra={"lock": key})
    except redis.exceptions.RedisError as error:
        # The key expires on its own within the expiry.
        logger.warning("lock release failed", extra={"lock": key, "error": type(error).__name__})


@contextmanager
def _file_lock(settings: Settings, key: str) -> Iterator[Lease | None]:
    folder = settings.data_dir / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{key}.lock", "a+b") as file:
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        try:
            yield Lease()
        finally:
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)
