"""Admin-only views: staff accounts and the audit log."""

from __future__ import annotations

from flask import has_app_context
from flask_admin import expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla import filters
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import Optional, ValidationError

from admin.auth import staff
from admin.views.access import ADMIN_ROLES, RoleRequiredMixin
from admin.views.queue import user_names
from helpdesk.accounts.models import AuditEntry, Role, User
from helpdesk.accounts.services import LANGUAGES, AccountError, audit, hash_password, normalize_email

ROLE_LABELS = {Role.AGENT.value: _l("medewerker"), Role.EDITOR.value: _l("redacteur"), Role.ADMIN.value: _l("beheerder")}


def _format_when(view, context, model, name: str) -> str:
    value = getattr(model, name)
    return format_datetime(value, "short") if value else ""


def _format_role(view, context, user: User, name: str) -> str:
    return str(ROLE_LABELS[user.role.value])


def _format_audit_user(view, context, entry: AuditEntry, name: str) -> str:
    if entry.user_id is None:
        return ""
    return user_names().get(entry.user_id, f"#{entry.user_id}")


def _user_options() -> list[tuple[str, str]]:
    if not has_app_context():  # flask-admin reads options once while the app is built
        return []
    return [(str(user_id), name) for user_id, name in user_names().items()]


class UserAdminView(RoleRequiredMixin, ModelView):
    """Staff accounts. Passwords are set here or with `helpdesk user reset-password`; hashes are never shown."""

    allowed_roles = ADMIN_ROLES
    form_base_class = FlaskForm
    can_delete = False  # deactivate instead, so the audit log keeps its users
    can_view_details = False
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
        "totp_secret": lambda view, context, user, name: _l("aan") if user.totp_secret else _l("uit"),
        "locked_until": _format_when,
        "last_login_at": _format_when,
    }
    column_searchable_list = ["email", "display_name"]
    form_columns = ["email", "display_name", "role", "language", "active", "can_reveal", "password"]
    form_choices = {
        "role": [(role, label) for role, label in ROLE_LABELS.items()],
        "language": [(code, code) for code in LANGUAGES],
    }
    form_extra_fields = {
        "password": PasswordField(_l("Nieuw wachtwoord (leeg laten om het te houden)"), validators=[Optional()]),
    }

    def __init__(self, session, **kwargs) -> None:
        super().__init__(User, session, name=_l("Gebruikers"), endpoint="users", url="users", **kwargs)

    def on_model_change(self, form, user: User, is_created: bool) -> None:
        user.email = normalize_email(user.email or "")
        if isinstance(user.role, str):
            user.role = Role(user.role)
        password = form.password.data or ""
        if is_created and not password:
            raise ValidationError(str(_l("Een nieuw account heeft een wachtwoord nodig.")))
        if password:
            try:
                user.password_hash = hash_password(password)
            except AccountError as error:
                raise ValidationError(str(error)) from None
            user.failed_logins = 0
            user.locked_until = None

    def after_model_change(self, form, user: User, is_created: bool) -> None:
        change = "user_created" if is_created else "user_changed"
        audit(self.session, staff(), "settings", "user", user.id, detail={"change": change, "role": user.role.value})
        self.session.commit()


class AuditLogView(RoleRequiredMixin, ModelView):
    allowed_roles = ADMIN_ROLES
    can_create = False
    can_edit = False
    can_delete = False
    can_view_details = False
    page_size = 50
    column_list = ["created_at", "user_id", "action", "object_type", "object_id", "reason"]
    column_labels = {
        "created_at": _l("Tijdstip"),
        "user_id": _l("Gebruiker"),
        "action": _l("Handeling"),
        "object_type": _l("Soort object"),
        "object_id": _l("Object"),
        "reason": _l("Reden"),
    }
    column_default_sort = ("created_at", True)
    column_formatters = {"created_at": _format_when, "user_id": _format_audit_user}
    column_filters = [
        filters.FilterEqual(AuditEntry.action, _l("Handeling")),
        filters.FilterEqual(AuditEntry.object_type, _l("Soort object")),
        filters.IntEqualFilter(AuditEntry.user_id, _l("Gebruiker"), options=_user_options),
    ]
    named_filter_urls = False

    @expose("/")
    def index_view(self):
        self._refresh_filters_cache()  # new users appear in the user filter
        return super().index_view()

    def __init__(self, session, **kwargs) -> None:
        super().__init__(AuditEntry, session, name=_l("Auditlogboek"), endpoint="audit", url="audit", **kwargs)
