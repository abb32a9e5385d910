"""Role checks shared by every staff view, and the team check on every ticket URL."""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from admin.db import db
from helpdesk.accounts.models import Role
from helpdesk.teams import access as team_access
from helpdesk.tickets.models import Ticket

STAFF_ROLES = frozenset({Role.AGENT, Role.EDITOR, Role.ADMIN})
ADMIN_ROLES = frozenset({Role.ADMIN})


class RoleRequiredMixin:
    """Let only signed-in users with one of `allowed_roles` in; send others to the login page or a 403.

    A view route with a `ticket_id` argument also returns 404 when the ticket
    belongs to a team the user is not a member of. So no route of the ticket
    page (reading, replying, notes, downloads) can reach it by URL.
    """

    allowed_roles: frozenset[Role] = STAFF_ROLES

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and current_user.role in self.allowed_roles

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(403)

    def _handle_view(self, name, **kwargs):
        denied = super()._handle_view(name, **kwargs)
        if denied is not None:
            return denied
        ticket_id = kwargs.get("ticket_id")
        if ticket_id is not None and not ticket_visible(ticket_id):
            abort(404)
        return None


def ticket_visible(ticket_id: int) -> bool:
    """Return whether the signed-in user may open the ticket.

    A missing ticket counts as visible, because the view itself then responds with 404.
    """
    team_id = db().scalar(select(Ticket.team_id).where(Ticket.id == ticket_id))
    return team_access.can_open(db(), current_user.user, team_id)
