"""An in-process cache of rendered public pages, emptied when the published FAQ changes.

Views render through `PageCache.get_or_render`. Complete responses of pages
without a query string are also kept by `PageCacheMiddleware`, which serves
them before Flask runs, so a cached page costs about as much as a bare WSGI
response. Each web process keeps its own copy. The process that publishes empties its
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
from typing import Callable, Hashable, Iterable

from werkzeug.http import parse_etags, unquote_etag

# The environ key through which a view marks its response as the same for every visitor.
CACHEABLE = "helpdesk.page_cache.cacheable"


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    etag: str
    mimetype: str
    created: float
    headers: tuple[tuple[str, str], ...] = ()  # the complete response headers, for the middleware


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

    def get(self, key: Hashable) -> CachedPage | None:
        """Return the page stored under `key`, or None when it is missing or expired."""
        with self._lock:
            page = self._entries.get(key)
            if page is None or time.monotonic() - page.created >= self.max_age_seconds:
                return None
            self._entries.move_to_end(key)
            return page

    def put(self, key: Hashable, page: CachedPage) -> None:
        with self._lock:
            self._entries[key] = page
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def get_or_render(self, key: Hashable, render: Callable[[], str], mimetype: str) -> CachedPage:
        """Return the cached page for `key`, rendering and storing it when missing or expired."""
        page = self.get(key)
        if page is None:
            body = render().encode("utf-8")
            page = CachedPage(body, hashlib.sha256(body).hexdigest()[:32], mimetype, time.monotonic())
            self.put(key, page)
        return page

    def __len__(self) -> int:
        return len(self._entries)


class PageCacheMiddleware:
    """Serve complete responses of cacheable pages from a PageCache, ahead of the wrapped WSGI app.

    Only GET and HEAD requests without a query string are served from the
    cache. A response is stored when its view set environ[CACHEABLE], its
    status is 200 and it sets no cookie.
    """

    def __init__(self, app, cache: PageCache, fingerprint: Callable[[], object], paths: tuple[str, ...]) -> None:
        self.app = app
        self.cache = cache
        self.fingerprint = fingerprint
        self.paths = paths  # path prefixes that may be served from the cache

    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        path = environ.get("PATH_INFO", "")
        if method not in {"GET", "HEAD"} or environ.get("QUERY_STRING") or not path.startswith(self.paths):
            return self.app(environ, start_response)

        key = ("response", path)
        self.cache.follow(self.fingerprint)
        page = self.cache.get(key)
        if page is not None:
            return self._serve(page, environ, start_response)
        if method == "HEAD":
            return self.app(environ, start_response)
        return self._store(key, environ, start_response)

    def _serve(self, page: CachedPage, environ: dict, start_response) -> Iterable[bytes]:
        if page.etag and parse_etags(environ.get("HTTP_IF_NONE_MATCH")).contains(page.etag):
            headers = [(name, value) for name, value in page.headers if name.lower() not in {"content-length", "content-type"}]
            start_response("304 NOT MODIFIED", headers)
            return []
        start_response("200 OK", list(page.headers))
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [page.body]

    def _store(self, key: Hashable, environ: dict, start_response) -> Iterable[bytes]:
        captured: dict = {}

        def capture(status, headers, exc_info=None):
            captured["status"] = status
            captured["headers"] = headers
            return start_response(status, headers, exc_info)

        chunks = self.app(environ, capture)
        cacheable = (
            environ.get(CACHEABLE)
            and captured.get("status", "").startswith("200")
            and not any(name.lower() == "set-cookie" for name, _ in captured.get("headers", []))
        )
        if not cacheable:
            return chunks
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        headers = tuple(captured["headers"])
        etag = next((unquote_etag(value)[0] for name, value in headers if name.lower() == "etag"), "")
        mimetype = next((value for name, value in headers if name.lower() == "content-type"), "")
        self.cache.put(key, CachedPage(body, etag, mimetype, time.monotonic(), headers))
        return [body]
