"""Liveness and readiness endpoints for orchestrators and load balancers.

GET /healthz returns 200 while the process serves requests and touches no
server. GET /readyz returns 200 when the database is reachable and at the
newest migration and the broker responds, else 503. Both return JSON with
the status of each check and nothing else: no addresses, no error texts, no
client data. The failing check's message goes to the log instead.

The middleware answers before Flask sees the request, so these paths need
no login, pass no CSRF check or rate limit, and never read or set the
session cookie.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Callable

from werkzeug.wrappers import Request, Response

from helpdesk.checks.results import CheckResult, Status
from helpdesk.config import Settings
from helpdesk.health import readiness_checks

logger = logging.getLogger(__name__)

LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"
# Probes from several orchestrators or a flood of requests share one check
# run in this window, so /readyz costs at most one database connection and
# one Redis PING per process every two seconds.
READINESS_CACHE_SECONDS = 2.0
ALLOWED_METHODS = ("GET", "HEAD")


class HealthMiddleware:
    """WSGI middleware that serves /healthz and /readyz and passes every other request to `app`."""

    def __init__(
        self,
        app,
        settings: Settings,
        checks: Callable[[Settings], list[CheckResult]] = readiness_checks,
    ) -> None:
        self.app = app
        self.settings = settings
        self.checks = checks
        self._lock = threading.Lock()
        self._cached: tuple[float, list[CheckResult]] | None = None
        self._logged_failures: frozenset[str] = frozenset()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path not in (LIVENESS_PATH, READINESS_PATH):
            return self.app(environ, start_response)

        request = Request(environ)
        if request.method not in ALLOWED_METHODS:
            response = _json_response({"status": "failed", "error": "method not allowed"}, 405)
            response.headers["Allow"] = ", ".join(ALLOWED_METHODS)
        elif path == LIVENESS_PATH:
            response = _json_response({"status": "ok"}, 200)
        else:
            response = self._readiness_response()
        return response(environ, start_response)

    def _readiness_response(self) -> Response:
        results = self._current_results()
        ready = not any(result.failed for result in results)
        body = {
            "status": "ok" if ready else "failed",
            "checks": {result.name: result.status.value for result in results},
        }
        return _json_response(body, 200 if ready else 503)

    def _current_results(self) -> list[CheckResult]:
        with self._lock:
            now = time.monotonic()
            if self._cached is not None and now - self._cached[0] < READINESS_CACHE_SECONDS:
                return self._cached[1]
            results = self.checks(self.settings)
            self._cached = (now, results)
            self._log_changes(results)
            return results

    def _log_changes(self, results: list[CheckResult]) -> None:
        # Probes repeat every few seconds: log when the set of failing checks
        # changes, not on every probe.
        failures = frozenset(result.name for result in results if result.status is Status.FAILED)
        if failures == self._logged_failures:
            return
        for result in results:
            if result.name in failures and result.name not in self._logged_failures:
                logger.warning("readiness check failed", extra={"check": result.name, "error": result.message})
        if not failures:
            logger.info("readiness checks pass again")
        self._logged_failures = failures


def _json_response(body: dict, status: int) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
