"""The ticket queue: urgent tickets first, then those waiting longest."""

from __future__ import annotations

from flask import g, has_app_context, url_for
from flask_admin import expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla import filters
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select

from admin.db import db
from admin.forms import STATUS_LABELS
from admin.i18n import LANGUAGE_NAMES
from admin.views.access import RoleRequiredMixin
from helpdesk.accounts.models import User
from helpdesk.tickets.models import Ticket

QUEUE_PAGE_SIZE = 25
STATUS_FILTER_INDEX = 0  # position of the status filter in TicketQueueView.column_filters


def user_names() -> dict[int, str]:
    """Return display names of all staff, loaded once per request so list rows need no query each."""
    if "helpdesk_user_names" not in g:
        rows = db().execute(select(User.id, User.display_name, User.email)).all()
        g.helpdesk_user_names = {row.id: row.display_name or row.email for row in rows}
    return g.helpdesk_user_names


def _assignee_options() -> list[tuple[str, str]]:
    # flask-admin also reads the options once while the app is built, outside any request.
    if not has_app_context():
        return []
    return sorted(((str(user_id), name) for user_id, name in user_names().items()), key=lambda item: item[1].lower())


def _theme_options() -> list[tuple[str, str]]:
    if not has_app_context():
        return []
    themes = db().scalars(select(Ticket.theme).where(Ticket.theme.is_not(None)).distinct().order_by(Ticket.theme))
    return [(theme, theme) for theme in themes]


def _format_subject(view, context, ticket: Ticket, name: str) -> Markup:
    subject = ticket.subject or _l("(geen onderwerp)")
    return Markup('<a href="{}">{}</a>').format(url_for("ticket.details", ticket_id=ticket.id), subject)


def _format_reference(view, context, ticket: Ticket, name: str) -> Markup:
    return Markup('<a href="{}">{}</a>').format(url_for("ticket.details", ticket_id=ticket.id), ticket.reference)


def _format_status(view, context, ticket: Ticket, name: str) -> Markup:
    value = ticket.status.value
    return Markup('<span class="status status-{}">{}</span>').format(value, STATUS_LABELS[value])


def _format_urgent(view, context, ticket: Ticket, name: str) -> Markup:
    if not ticket.urgent:
        return Markup("")
    return Markup('<span class="urgent">{}</span>').format(_l("dringend"))


def _format_assignee(view, context, ticket: Ticket, name: str) -> str:
    if ticket.assignee_id is None:
        return ""
    return user_names().get(ticket.assignee_id, f"#{ticket.assignee_id}")


def _format_language(view, context, ticket: Ticket, name: str) -> str:
    return LANGUAGE_NAMES.get(ticket.language or "", ticket.language or "")


def _format_datetime(view, context, ticket: Ticket, name: str) -> str:
    value = getattr(ticket, name)
    return format_datetime(value, "short") if value else ""


class TicketQueueView(RoleRequiredMixin, ModelView):
    can_create = False
    can_edit = False
    can_delete = False
    can_view_details = False
    can_export = False
    can_set_page_size = False
    page_size = QUEUE_PAGE_SIZE
    list_template = "admin/queue.html"

    column_list = ["id", "urgent", "status", "subject", "theme", "language", "assignee_id", "last_message_at"]
    column_labels = {
        "id": _l("Ticket"),
        "urgent": _l("Dringend"),
        "status": _l("Status"),
        "subject": _l("Onderwerp"),
        "theme": _l("Thema"),
        "language": _l("Taal"),
        "assignee_id": _l("Toegewezen aan"),
        "last_message_at": _l("Laatste bericht"),
    }
    column_sortable_list = ["id", "urgent", "status", "theme", "language", "last_message_at"]
    # Urgent tickets first, then the one whose last message waits longest.
    column_default_sort = [("urgent", True), ("last_message_at", False)]
    column_searchable_list = ["subject"]  # the subject is stored redacted
    column_formatters = {
        "id": _format_reference,
        "subject": _format_subject,
        "status": _format_status,
        "urgent": _format_urgent,
        "assignee_id": _format_assignee,
        "language": _format_language,
        "last_message_at": _format_datetime,
    }
    column_filters = [
        filters.FilterEqual(Ticket.status, _l("Status"), options=lambda: list(STATUS_LABELS.items())),
        filters.FilterEqual(Ticket.theme, _l("Thema"), options=_theme_options),
        filters.FilterEqual(Ticket.language, _l("Taal"), options=lambda: list(LANGUAGE_NAMES.items())),
        filters.IntEqualFilter(Ticket.assignee_id, _l("Toegewezen aan"), options=_assignee_options),
        filters.FilterEmpty(Ticket.assignee_id, _l("Niet toegewezen")),
        filters.BooleanEqualFilter(Ticket.urgent, _l("Dringend")),
    ]

    # Filter URLs use the position in column_filters, so links stay valid in every language.
    named_filter_urls = False

    def __init__(self, session, **kwargs) -> None:
        super().__init__(Ticket, session, name=_l("Wachtrij"), endpoint="queue", url="queue", **kwargs)

    @expose("/")
    def index_view(self):
        # flask-admin caches filter options when the view is built; themes and
        # staff change while the app runs, so reload them for each list page.
        self._refresh_filters_cache()
        return super().index_view()

    def search_placeholder(self) -> str:
        return str(_l("Zoek in onderwerpen"))

    def status_links(self) -> list[tuple[str, str]]:
        """Return (label, url) pairs that filter the queue on one status, for links that need no JavaScript."""
        links = [(str(_l("alle")), url_for(".index_view"))]
        for value, label in STATUS_LABELS.items():
            links.append((str(label), url_for(".index_view", **{f"flt0_{STATUS_FILTER_INDEX}": value})))
        return links
