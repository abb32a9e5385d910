"""Role checks shared by every staff view."""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_login import current_user

from helpdesk.accounts.models import Role

STAFF_ROLES = frozenset({Role.AGENT, Role.EDITOR, Role.ADMIN})
ADMIN_ROLES = frozenset({Role.ADMIN})


class RoleRequiredMixin:
    """Let only signed-in users with one of `allowed_roles` in; send others to the login page or a 403."""

    allowed_roles: frozenset[Role] = STAFF_ROLES

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and current_user.role in self.allowed_roles

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(403)
