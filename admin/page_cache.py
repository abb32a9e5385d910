"""An in-process cache of rendered public pages, emptied when the published FAQ changes.

Each web process keeps its own copy. The process that publishes empties its
cache at once (`clear`). Other processes notice the change through a database
fingerprint that they read at most once per `check_seconds`, so they serve the
old page for at most that long. Entries also expire after `max_age_seconds`.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Hashable


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    etag: str
    mimetype: str
    created: float


class PageCache:
    def __init__(self, max_entries: int, max_age_seconds: float, check_seconds: float) -> None:
        self.max_entries = max_entries
        self.max_age_seconds = max_age_seconds
        self.check_seconds = check_seconds
        self._entries: OrderedDict[Hashable, CachedPage] = OrderedDict()
        self._lock = threading.Lock()
        self._fingerprint: object = None
        self._checked_at = float("-inf")

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._checked_at = float("-inf")

    def follow(self, fingerprint: Callable[[], object]) -> None:
        """Read `fingerprint()` when the last read is older than check_seconds, and clear on a change."""
        now = time.monotonic()
        with self._lock:
            if now - self._checked_at < self.check_seconds:
                return
            self._checked_at = now
        current = fingerprint()
        with self._lock:
            if current != self._fingerprint:
                self._entries.clear()
                self._fingerprint = current

    def get_or_render(self, key: Hashable, render: Callable[[], str], mimetype: str) -> CachedPage:
        """Return the cached page for `key`, rendering and storing it when missing or expired."""
        now = time.monotonic()
        with self._lock:
            page = self._entries.get(key)
            if page is not None and now - page.created < self.max_age_seconds:
                self._entries.move_to_end(key)
                return page

        body = render().encode("utf-8")
        page = CachedPage(body, hashlib.sha256(body).hexdigest()[:32], mimetype, now)
        with self._lock:
            self._entries[key] = page
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return page

    def __len__(self) -> int:
        return len(self._entries)
