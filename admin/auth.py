"""Signing staff in and out: Flask-Login, the login form and its rate limit."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user

from admin.db import current_settings, db
from admin.forms import EmptyForm, LoginForm
from admin.security import PUBLIC_BLUEPRINT
from helpdesk.accounts.models import Role, User
from helpdesk.accounts.services import LoginFailure, audit, authenticate, needs_totp_setup, totp_required_roles

# Per client address, on top of the per-account lockout in accounts.services.
# NOTE: behind a reverse proxy every request comes from the proxy's address,
# so this limit then applies to all users together.
LOGIN_RATE_LIMIT = "20 per 10 minutes"

blueprint = Blueprint("auth", __name__, url_prefix="/admin")

# Pages a user whose role requires TOTP may open before setting it up.
TOTP_SETUP_ENDPOINTS = frozenset({"account.totp_setup", "account.totp", "auth.logout", "static", "admin.static"})


def init_auth(app: Flask) -> None:
    login_manager = LoginManager(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load_user(user_id: str) -> User | None:
        user = db().get(User, int(user_id))
        return StaffUser(user) if user is not None and user.active else None

    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://", default_limits=[])
    limiter.limit(LOGIN_RATE_LIMIT, methods=["POST"])(blueprint)
    app.register_blueprint(blueprint)

    # Fail at start-up, not at the first sign-in, when the setting names an unknown role.
    totp_required_roles(app.extensions["helpdesk_settings"])
    app.before_request(_require_totp_setup)


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
        return str(self.user.id)

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


_FAILURE_MESSAGES = {
    LoginFailure.INVALID: lambda result: _("Het e-mailadres of het wachtwoord klopt niet."),
    LoginFailure.INACTIVE: lambda result: _("Dit account is uitgeschakeld. Vraag een beheerder om het te activeren."),
    LoginFailure.TOTP_REQUIRED: lambda result: _("Vul ook de verificatiecode uit je app in."),
    LoginFailure.TOTP_INVALID: lambda result: _("De verificatiecode klopt niet. Controleer de tijd op je telefoon."),
    LoginFailure.LOCKED: lambda result: _(
        "Te veel mislukte pogingen: dit account is geblokkeerd tot %(time)s. "
        "Probeer later opnieuw of vraag een beheerder om het te deblokkeren.",
        time=format_datetime(result.locked_until, "short"),
    ),
}


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next_url(request.args.get("next")))

    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        session_ = db()
        result = authenticate(session_, form.email.data, form.password.data, form.code.data)
        session_.commit()
        if result.ok:
            session.clear()
            login_user(StaffUser(result.user))
            session.permanent = True
            return redirect(safe_next_url(request.args.get("next")))
        flash(_FAILURE_MESSAGES[result.failure](result), "error")
        status = 401
    return render_template("admin/login.html", form=form), status


@blueprint.route("/logout", methods=["POST"])
@login_required
def logout():
    if not EmptyForm().validate_on_submit():
        abort(400)
    session_ = db()
    audit(session_, staff(), "logout", "user", current_user.id)
    session_.commit()
    logout_user()
    session.clear()
    flash(_("Je bent afgemeld."), "info")
    return redirect(url_for("auth.login"))
