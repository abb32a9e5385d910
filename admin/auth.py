"""Signing staff in and out: Flask-Login, the login form and its rate limit."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user

from admin.db import current_settings, db
from admin.forms import EmptyForm, LoginForm
from admin.security import PUBLIC_BLUEPRINT, trust_proxies
from helpdesk.accounts.models import Role, User
from helpdesk.accounts.services import (
    LOCKOUT_MINUTES,
    LoginFailure,
    audit,
    authenticate,
    end_sessions,
    needs_totp_setup,
    totp_required_roles,
)
from helpdesk.config import Settings

# Per client address, on top of the per-account lockout in accounts.services.
# Behind a reverse proxy the client address comes from X-Forwarded-For, but
# only when HELPDESK_TRUSTED_PROXIES sets how many proxies to trust.
LOGIN_RATE_LIMIT = "20 per 10 minutes"
RATE_LIMIT_KEY_PREFIX = "helpdesk-login"
REDIS_SCHEMES = ("redis", "rediss", "redis+unix")
# Seconds a sign-in waits for an unreachable Redis before counting in memory.
REDIS_TIMEOUT_SECONDS = 2

blueprint = Blueprint("auth", __name__, url_prefix="/admin")

# Pages a user whose role requires TOTP may open before setting it up.
TOTP_SETUP_ENDPOINTS = frozenset({"account.totp_setup", "account.totp", "auth.logout", "static", "admin.static"})


def init_auth(app: Flask) -> None:
    login_manager = LoginManager(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load_user(session_id: str) -> StaffUser | None:
        return _load_staff_user(session_id)

    # The rate limit counts per client address, which ProxyFix restores.
    settings: Settings = app.extensions["helpdesk_settings"]
    trust_proxies(app, settings)
    storage_uri = rate_limit_storage_uri(settings)
    storage_options = {} if storage_uri == "memory://" else {
        "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
        "socket_timeout": REDIS_TIMEOUT_SECONDS,
    }
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=storage_uri,
        storage_options=storage_options,
        key_prefix=RATE_LIMIT_KEY_PREFIX,
        default_limits=[],
        # When Redis is unreachable each process counts for itself, so that
        # staff can still sign in.
        in_memory_fallback_enabled=True,
    )
    # Only refused sign-ins (401) count, so staff who sign in often from one
    # address (an office behind one NAT) do not use up the budget.
    limiter.limit(LOGIN_RATE_LIMIT, methods=["POST"], deduct_when=lambda response: response.status_code == 401)(blueprint)
    app.register_blueprint(blueprint)

    # Fail at start-up, not at the first sign-in, when the setting names an unknown role.
    totp_required_roles(settings)
    app.before_request(_require_totp_setup)


def rate_limit_storage_uri(settings: Settings) -> str:
    """Return where the login rate limit counts: the Redis broker when there is one, else this process.

    With Redis every worker process and machine shares one count per client.
    """
    scheme = settings.broker_url.split("://", 1)[0].lower()
    return settings.broker_url if scheme in REDIS_SCHEMES else "memory://"


def _load_staff_user(session_id: str) -> StaffUser | None:
    """Return the account of a session id "<user id>:<session version>", or None once that version has ended."""
    user_id, _separator, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db().get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return StaffUser(user)


def _require_totp_setup():
    """Send a signed-in user who must use TOTP but has not set it up to the set-up page, whatever they asked for."""
    # Public pages come first: they must not even read the session cookie.
    if request.blueprint == PUBLIC_BLUEPRINT or request.endpoint is None or request.endpoint in TOTP_SETUP_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return None
    if needs_totp_setup(current_settings(), current_user.user):
        return redirect(url_for("account.totp_setup"))
    return None


class StaffUser(UserMixin):
    """The signed-in account wrapped for Flask-Login. Other attributes are read from the User row."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        # The version makes cookies issued before end_sessions() unusable.
        return f"{self.user.id}:{self.user.session_version}"

    @property
    def is_active(self) -> bool:
        return bool(self.user.active)

    def __getattr__(self, name: str):
        return getattr(self.user, name)


def staff() -> User:
    """Return the User row of the signed-in account."""
    return current_user.user


def has_role(*roles: Role) -> bool:
    return bool(current_user.is_authenticated and current_user.role in roles)


def safe_next_url(target: str | None) -> str:
    """Return `target` when it is a path on this site, else the queue (no open redirects)."""
    fallback = url_for("queue.index_view")
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    return target


def _invalid_or_locked() -> str:
    # One text for an unknown address, a wrong password and a locked account,
    # so that the reply does not tell whether an account exists.
    return _(
        "Het e-mailadres of het wachtwoord klopt niet, of het account is geblokkeerd na te veel mislukte pogingen. "
        "Een blokkering duurt %(minutes)s minuten, tenzij een beheerder ze eerder opheft.",
        minutes=LOCKOUT_MINUTES,
    )


_FAILURE_MESSAGES = {
    LoginFailure.INVALID: _invalid_or_locked,
    LoginFailure.LOCKED: _invalid_or_locked,
    # A deactivated account reads like a wrong password, so that the reply does
    # not confirm a correct password. The audit log keeps the real reason.
    LoginFailure.INACTIVE: _invalid_or_locked,
    LoginFailure.TOTP_REQUIRED: lambda: _("Vul ook de verificatiecode uit je app in."),
    LoginFailure.TOTP_INVALID: lambda: _("De verificatiecode klopt niet. Controleer de tijd op je telefoon."),
    LoginFailure.TOTP_REPLAYED: lambda: _("Deze code is al gebruikt. Wacht op de volgende code."),
}


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next_url(request.args.get("next")))

    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        session_ = db()
        result = authenticate(session_, current_settings(), form.email.data, form.password.data, form.code.data)
        session_.commit()
        if result.ok:
            session.clear()
            login_user(StaffUser(result.user))
            session.permanent = True
            return redirect(safe_next_url(request.args.get("next")))
        flash(_FAILURE_MESSAGES[result.failure](), "error")
        status = 401
    return render_template("admin/login.html", form=form), status


@blueprint.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out on every device: a copy of this session cookie stops working too."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    session_ = db()
    end_sessions(staff())
    audit(session_, staff(), "logout", "user", current_user.id)
    session_.commit()
    logout_user()
    session.clear()
    flash(_("Je bent afgemeld."), "info")
    return redirect(url_for("auth.login"))
