"""Admin-only views: staff accounts and the audit log."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import flash, request
from flask_admin import BaseView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.validators import Unique
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField
from wtforms.validators import Optional, ValidationError

from admin.auth import staff
from admin.db import db
from admin.i18n import LANGUAGE_NAMES, TIMEZONE
from admin.labels import AUDIT_ACTION_LABELS, AUDIT_OBJECT_LABELS
from admin.views.audit_details import describe_detail, team_names
from admin.views.model_forms import ModelForm
from admin.views.model_wording import StaffWordingMixin
from admin.views.access import ADMIN_ROLES, RoleRequiredMixin
from admin.views.queue import user_names
from helpdesk.accounts.models import Role, User
from helpdesk.accounts.services import (
    LANGUAGES,
    MIN_PASSWORD_LENGTH,
    AccountError,
    AuditQuery,
    audit,
    audit_choices,
    audit_page,
    disable_totp,
    hash_password,
    is_valid_email,
    normalize_email,
    reset_password,
    unlock,
)

ROLE_LABELS = {Role.AGENT.value: _l("medewerker"), Role.EDITOR.value: _l("redacteur"), Role.ADMIN.value: _l("beheerder")}


def _format_when(view, context, model, name: str) -> str:
    value = getattr(model, name)
    return format_datetime(value, "short") if value else ""


def _format_role(view, context, user: User, name: str) -> str:
    return str(ROLE_LABELS[user.role.value])


def _check_email(form, field) -> None:
    """Reject a login that is not an address, with the check that `helpdesk user create` uses."""
    email = normalize_email(field.data or "")
    if not is_valid_email(email):
        raise ValidationError(str(_l("%(value)r is geen geldig e-mailadres: gebruik de vorm naam@voorbeeld.be.", value=email)))


class UserAdminView(StaffWordingMixin, RoleRequiredMixin, ModelView):
    """Staff accounts. Passwords are set here or with `helpdesk user reset-password`; hashes are never shown."""

    allowed_roles = ADMIN_ROLES
    form_base_class = ModelForm
    can_delete = False  # deactivate instead, so the audit log keeps its users
    can_view_details = False
    list_template = "admin/model_list.html"
    create_template = "admin/model_create.html"
    edit_template = "admin/model_edit.html"
    column_list = ["email", "display_name", "role", "language", "active", "can_reveal", "totp_secret", "locked_until", "last_login_at"]
    column_labels = {
        "email": _l("E-mailadres"),
        "display_name": _l("Naam"),
        "role": _l("Rol"),
        "language": _l("Taal"),
        "active": _l("Actief"),
        "can_reveal": _l("Mag originelen bekijken"),
        "totp_secret": _l("Tweestapsverificatie"),
        "locked_until": _l("Geblokkeerd tot"),
        "last_login_at": _l("Laatst aangemeld"),
        "password": _l("Nieuw wachtwoord"),
    }
    column_formatters = {
        "role": _format_role,
        "language": lambda view, context, user, name: LANGUAGE_NAMES.get(user.language, user.language),
        "totp_secret": lambda view, context, user, name: _l("aan") if user.totp_secret else _l("uit"),
        "locked_until": _format_when,
        "last_login_at": _format_when,
    }
    column_searchable_list = ["email", "display_name"]
    form_columns = ["email", "display_name", "role", "language", "active", "can_reveal", "password", "reset_totp", "unlock"]
    form_args = {"email": {"validators": [_check_email]}}
    form_choices = {
        "role": [(role, label) for role, label in ROLE_LABELS.items()],
        "language": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
    }
    form_extra_fields = {
        "password": PasswordField(_l("Nieuw wachtwoord (leeg laten om het te houden)"), validators=[Optional()]),
        "reset_totp": BooleanField(_l("Tweestapsverificatie resetten (bij een verloren telefoon)")),
        "unlock": BooleanField(_l("Deblokkeren na te veel mislukte aanmeldingen")),
    }

    def __init__(self, session, **kwargs) -> None:
        super().__init__(User, session, name=_l("Gebruikers"), endpoint="users", url="users", **kwargs)

    def create_form(self, obj=None):
        # Resetting TOTP and unlocking apply to an existing account only.
        form = _with_own_unique_message(super().create_form(obj))
        del form.reset_totp
        del form.unlock
        form.password.label.text = str(_l("Wachtwoord (minstens %(minimum)s tekens)", minimum=MIN_PASSWORD_LENGTH))
        return form

    def edit_form(self, obj=None):
        return _with_own_unique_message(super().edit_form(obj))

    def on_model_change(self, form, user: User, is_created: bool) -> None:
        user.email = normalize_email(user.email or "")
        if isinstance(user.role, str):
            user.role = Role(user.role)
        password = form.password.data or ""
        if is_created and not password:
            raise ValidationError(str(_l("Een nieuw account heeft een wachtwoord nodig.")))
        if password and len(password) < MIN_PASSWORD_LENGTH:
            message = _l("Het wachtwoord heeft %(length)s tekens: gebruik er minstens %(minimum)s.", length=len(password), minimum=MIN_PASSWORD_LENGTH)
            raise ValidationError(str(message))
        try:
            if is_created:
                user.password_hash = hash_password(password)
            elif password:
                reset_password(self.session, user, password, staff())
        except AccountError as error:
            raise ValidationError(str(error)) from None
        if not is_created and form.reset_totp.data and user.totp_secret:
            disable_totp(self.session, user, staff())
        if not is_created and form.unlock.data:
            unlock(self.session, user, staff())

    def after_model_change(self, form, user: User, is_created: bool) -> None:
        change = "user_created" if is_created else "user_changed"
        audit(self.session, staff(), "settings", "user", user.id, detail={"change": change, "role": user.role.value})
        self.session.commit()


def _with_own_unique_message(form):
    for validator in form.email.validators:
        if isinstance(validator, Unique):
            validator.message = _l("Er bestaat al een account met dit e-mailadres.")
    return form


class AuditLogView(RoleRequiredMixin, BaseView):
    """The audit log for administrators, filtered by action, user, object and date range (Brussels dates)."""

    allowed_roles = ADMIN_ROLES

    def __init__(self, **kwargs) -> None:
        super().__init__(name=_l("Auditlogboek"), endpoint="audit", url="audit", **kwargs)

    @expose("/")
    def index_view(self):
        status = 200
        try:
            query = parse_audit_query(request.args)
        except ValueError as error:
            flash(str(error), "error")
            query, status = AuditQuery(), 400

        session = db()
        page = audit_page(session, query)
        actions, object_types = audit_choices(session)
        args = {name: value for name, value in request.args.items() if name != "page" and value}
        html = self.render(
            "admin/audit.html",
            page=page,
            args=args,
            actions=actions,
            object_types=object_types,
            action_labels=AUDIT_ACTION_LABELS,
            object_labels=AUDIT_OBJECT_LABELS,
            users=sorted(user_names().items(), key=lambda item: item[1].lower()),
            user_names=user_names(),
            describe_detail=describe_detail,
            teams=team_names(),
        )
        return html, status


def _local_day_start(raw: str, label: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise ValueError(str(_l("%(label)s %(value)r is geen datum: gebruik de vorm 2026-12-31.", label=label, value=raw))) from None
    # In UTC, because SQLite compares stored times as text without their zone.
    return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(TIMEZONE)).astimezone(dt.timezone.utc)


def parse_audit_query(args) -> AuditQuery:
    """Build an AuditQuery from URL parameters; raise ValueError with a message for staff on a bad value."""
    user = (args.get("user") or "").strip()
    if user and not user.isdigit():
        raise ValueError(str(_l("Gebruiker %(value)r is geen gebruikersnummer: kies een naam uit de lijst.", value=user)))
    page = (args.get("page") or "1").strip()
    since = _local_day_start(args["since"], str(_l("Vanaf"))) if args.get("since") else None
    until = _local_day_start(args["until"], str(_l("Tot en met"))) + dt.timedelta(days=1) if args.get("until") else None
    return AuditQuery(
        action=(args.get("action") or "").strip() or None,
        user_id=int(user) if user else None,
        object_type=(args.get("object_type") or "").strip() or None,
        object_id=(args.get("object_id") or "").strip() or None,
        since=since,
        until=until,
        page=int(page) if page.isdigit() else 1,
    )
