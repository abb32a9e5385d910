"""Cookie settings, the idle timeout, security headers and the cookie-free public pages."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from helpdesk.config import Settings

PUBLIC_BLUEPRINT = "public"

# Everything comes from this app: no inline script, no third-party host. Inline
# style attributes stay blocked too, so a sanitised mail cannot restyle a page.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}

csrf = CSRFProtect()


class StaffSessionInterface(SecureCookieSessionInterface):
    """The signed-cookie session, never written on public pages.

    Visitors of the FAQ must not receive a cookie at all, not even a refreshed
    staff session, so saving is skipped for the public blueprint whatever a
    view or extension did to the session.
    """

    def save_session(self, app: Flask, session, response: Response) -> None:
        if request.blueprint == PUBLIC_BLUEPRINT:
            return
        super().save_session(app, session, response)


def is_local_http(public_url: str) -> bool:
    parts = urlsplit(public_url)
    return parts.scheme == "http" and parts.hostname in {"127.0.0.1", "localhost", "::1"}


def configure_sessions(app: Flask, settings: Settings) -> None:
    """Set cookie flags and the idle timeout.

    The session is permanent and refreshed on every request, so its lifetime
    is an idle timeout. Flask signs the cookie with a timestamp and rejects it
    server-side once it is older than PERMANENT_SESSION_LIFETIME.
    """
    app.session_interface = StaffSessionInterface()
    # Browsers drop Secure cookies on plain http, so only a local development
    # address served over http gets cookies without the Secure flag.
    secure = not is_local_http(settings.public_url)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="helpdesk_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        SESSION_REFRESH_EACH_REQUEST=True,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=settings.session_idle_minutes),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_SAMESITE="Lax",
        # A CSRF token stays valid as long as the session that contains it.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=secure,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    csrf.init_app(app)


def trust_proxies(app: Flask, settings: Settings) -> None:
    """Take the client address and scheme from X-Forwarded-For and -Proto, set by HELPDESK_TRUSTED_PROXIES proxies.

    Without trusted proxies the headers are ignored, because a client could
    otherwise send its own X-Forwarded-For and escape the login rate limit.
    """
    hops = settings.trusted_proxies
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def add_security_headers(app: Flask) -> None:
    @app.after_request
    def _set_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        is_asset = (request.endpoint or "").rsplit(".", 1)[-1] == "static"
        if request.blueprint != PUBLIC_BLUEPRINT and not is_asset:
            # Staff pages show client mail: keep them out of every cache.
            response.headers["Cache-Control"] = "no-store"
            # Over HTTPS, Flask-WTF rejects a form post without a same-origin
            # Referer (WTF_CSRF_SSL_STRICT). `same-origin` sends it to our own
            # site only, so nothing leaks to other hosts.
            response.headers["Referrer-Policy"] = "same-origin"
        return response
