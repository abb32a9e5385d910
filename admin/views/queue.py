"""The ticket queue: urgent tickets first, then those waiting longest, with filters, search and pages.

The filter form is a plain GET form, so it works with the keyboard and
without JavaScript, and every filtered view is a link that can be shared.
"""

from __future__ import annotations

from flask import flash, g, request, url_for
from flask_admin import BaseView, expose
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from admin.auth import staff
from admin.db import db
from admin.forms import STATUS_LABELS
from admin.views.access import RoleRequiredMixin
from helpdesk.accounts.models import User
from helpdesk.teams.access import default_team_filter, queue_scope, team_choices
from helpdesk.tickets.models import TicketStatus
from helpdesk.tickets.queue import (
    ASSIGNED_TO_ME,
    SORT_COLUMNS,
    UNASSIGNED,
    QueueQuery,
    QueueQueryError,
    parse_query,
    queue_page,
    ticket_themes,
)

SORT_LABELS = {
    "id": _l("Ticket"),
    "urgent": _l("Dringend"),
    "status": _l("Status"),
    "subject": _l("Onderwerp"),
    "theme": _l("Thema"),
    "language": _l("Taal"),
    "created": _l("Aangemaakt"),
    "last_message": _l("Laatste bericht"),
}


def user_names() -> dict[int, str]:
    """Return display names of all staff, loaded once per request so list rows need no query each."""
    if "helpdesk_user_names" not in g:
        rows = db().execute(select(User.id, User.display_name, User.email)).all()
        g.helpdesk_user_names = {row.id: row.display_name or row.email for row in rows}
    return g.helpdesk_user_names


def active_staff_names() -> list[tuple[int, str]]:
    """Return (id, name) of active staff, sorted by name."""
    rows = db().execute(select(User.id, User.display_name, User.email).where(User.active.is_(True))).all()
    return sorted(((row.id, row.display_name or row.email) for row in rows), key=lambda item: item[1].lower())


def query_args(query: QueueQuery) -> dict[str, str]:
    """Return the URL parameters that reproduce `query`, leaving out defaults."""
    args: dict[str, str] = {}
    if query.status is not None:
        args["status"] = query.status.value
    for name in ("theme", "language", "search"):
        if getattr(query, name):
            args[name] = getattr(query, name)
    if query.assignee is not None:
        args["assignee"] = str(query.assignee)
    if query.older_than_days is not None:
        args["older_than"] = str(query.older_than_days)
    if query.urgent:
        args["urgent"] = "1"
    if query.delivery_problem:
        args["delivery_problem"] = "1"
    if query.team:
        args["team"] = query.team
    if query.sort:
        args["sort"] = query.sort
    if query.descending:
        args["desc"] = "1"
    if query.page > 1:
        args["page"] = str(query.page)
    return args


class TicketQueueView(RoleRequiredMixin, BaseView):
    def __init__(self, **kwargs) -> None:
        super().__init__(name=_l("Wachtrij"), endpoint="queue", url="queue", **kwargs)

    @expose("/")
    def index_view(self):
        status = 200
        try:
            query = parse_query(request.args)
        except QueueQueryError as error:
            flash(str(error), "error")
            query, status = QueueQuery(), 400

        session = db()
        # Without a choice in the URL the default applies, and links leave it out.
        team_filter = query.team or default_team_filter(session, staff())
        page = queue_page(session, query, scope=queue_scope(session, staff(), team_filter), user_id=staff().id)
        teams = team_choices(session, staff())
        html = self.render(
            "admin/queue.html",
            page=page,
            query=page.query,
            url_for_query=self.url_for_query,
            sort_link=self.sort_link,
            status_links=self.status_links(page.query),
            status_labels=STATUS_LABELS,
            themes=ticket_themes(session),
            staff=active_staff_names(),
            teams=teams,
            team_names=dict(teams),
            team_filter=team_filter,
            UNASSIGNED=UNASSIGNED,
            ASSIGNED_TO_ME=ASSIGNED_TO_ME,
            sort_labels=SORT_LABELS,
        )
        return html, status

    def url_for_query(self, query: QueueQuery, **changes) -> str:
        return url_for(".index_view", **query_args(query.with_changes(**changes)))

    def sort_link(self, query: QueueQuery, key: str) -> tuple[str, str | None]:
        """Return the URL that sorts on `key` (reversing the order when it is the current one) and the aria-sort value."""
        assert key in SORT_COLUMNS
        if query.sort == key:
            return self.url_for_query(query, descending=not query.descending, page=1), "descending" if query.descending else "ascending"
        return self.url_for_query(query, sort=key, descending=False, page=1), None

    def status_links(self, query: QueueQuery) -> list[tuple[str, str, bool]]:
        """Return (label, url, current) for links that filter on one status, keeping the other filters."""
        links = [(str(_l("alle")), self.url_for_query(query, status=None, page=1), query.status is None)]
        for value, label in STATUS_LABELS.items():
            current = query.status is not None and query.status.value == value
            links.append((str(label), self.url_for_query(query, status=TicketStatus(value), page=1), current))
        return links
