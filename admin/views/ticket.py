"""The ticket page: thread, suggestions, reply draft, notes, assignment, status, history and sending.

Every POST handler validates its form (and so its CSRF token), calls one
service, commits and redirects back to the page.
"""

from __future__ import annotations

import logging

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from admin.auth import staff
from admin.db import current_settings, db
from admin.forms import (
    ArticleForm,
    AssignForm,
    DraftForm,
    EmptyForm,
    MergeForm,
    NoteForm,
    STATUS_LABELS,
    RawDownloadForm,
    StatusForm,
)
from admin.rendering import format_size, sanitize_mail_html
from admin.views.access import RoleRequiredMixin
from admin.views.queue import user_names
from helpdesk.accounts.models import Role, User
from helpdesk.privacy.reveal import RevealRefused
from helpdesk.tickets import services
from helpdesk.tickets.models import DeliveryState, Direction, Message, Ticket, TicketStatus
from helpdesk.tickets.services import TicketActionError

logger = logging.getLogger(__name__)

EVENT_LABELS = {
    "created": _l("ticket aangemaakt"),
    "status_changed": _l("status gewijzigd"),
    "assigned": _l("toewijzing gewijzigd"),
    "note_added": _l("notitie toegevoegd"),
    "draft_recomposed": _l("concept opnieuw samengesteld"),
    "reply_queued": _l("antwoord in de wachtrij gezet"),
    "reply_retried": _l("verzending opnieuw geprobeerd"),
    "reply_sent": _l("antwoord verzonden"),
    "reply_failed": _l("verzending mislukt"),
    "merged_into": _l("samengevoegd met een ander ticket"),
    "merged_from": _l("ander ticket hierin samengevoegd"),
    "raw_downloaded": _l("ruw bericht gedownload"),
}

DELIVERY_LABELS = {
    DeliveryState.QUEUED: _l("in de wachtrij"),
    DeliveryState.SENT: _l("verzonden"),
    DeliveryState.FAILED: _l("mislukt"),
    DeliveryState.BOUNCED: _l("teruggestuurd (bounce)"),
}


def load_ticket(ticket_id: int) -> Ticket:
    """Load a ticket with its messages, attachments, suggestions, notes and events in a fixed number of queries."""
    query = (
        select(Ticket)
        .where(Ticket.id == ticket_id)
        .options(
            selectinload(Ticket.messages).selectinload(Message.attachments),
            selectinload(Ticket.suggestions),
            selectinload(Ticket.notes),
            selectinload(Ticket.events),
        )
    )
    ticket = db().scalar(query)
    if ticket is None:
        abort(404)
    return ticket


def _flash_form_errors(form) -> None:
    for field_name, errors in form.errors.items():
        label = getattr(form, field_name).label.text if hasattr(form, field_name) else field_name
        for error in errors:
            flash(f"{label}: {error}", "error")


class TicketView(RoleRequiredMixin, BaseView):
    def __init__(self, **kwargs) -> None:
        super().__init__(name=_l("Ticket"), endpoint="ticket", url="ticket", **kwargs)

    def is_visible(self) -> bool:
        return False  # reached from the queue, not from the menu

    def _back(self, ticket_id: int, anchor: str = "") -> Response:
        return redirect(url_for(".details", ticket_id=ticket_id) + (f"#{anchor}" if anchor else ""))

    @expose("/")
    def index(self):
        return redirect(url_for("queue.index_view"))

    @expose("/<int:ticket_id>")
    def details(self, ticket_id: int):
        ticket = load_ticket(ticket_id)
        user = staff()

        draft_form = DraftForm(body=ticket.draft)
        assign_form = AssignForm(assignee=ticket.assignee_id or 0)
        assign_form.assignee.choices = [(0, _("niemand"))] + [
            (user_id, name) for user_id, name in sorted(self._active_staff().items(), key=lambda item: item[1].lower())
        ]
        status_form = StatusForm(status=ticket.status.value)
        suggested = {suggestion.slug for suggestion in ticket.suggestions}

        return self.render(
            "admin/ticket.html",
            ticket=ticket,
            user=user,
            user_names=user_names(),
            draft_form=draft_form,
            note_form=NoteForm(),
            assign_form=assign_form,
            status_form=status_form,
            merge_form=MergeForm(),
            raw_form=RawDownloadForm(),
            button_form=EmptyForm(),
            article_form=ArticleForm(),
            extra_draft_slugs=[slug for slug in ticket.draft_slugs or [] if slug not in suggested],
            same_client=services.tickets_of_same_client(db(), ticket),
            can_download_raw=user.can_reveal or user.role == Role.ADMIN,
            event_labels=EVENT_LABELS,
            status_labels=STATUS_LABELS,
            delivery_labels=DELIVERY_LABELS,
            sanitize_mail_html=sanitize_mail_html,
            format_size=format_size,
            Direction=Direction,
            DeliveryState=DeliveryState,
            TicketStatus=TicketStatus,
        )

    def _active_staff(self) -> dict[int, str]:
        rows = db().execute(select(User.id, User.display_name, User.email).where(User.active.is_(True))).all()
        return {row.id: row.display_name or row.email for row in rows}

    @expose("/<int:ticket_id>/draft", methods=["POST"])
    def draft(self, ticket_id: int):
        ticket = load_ticket(ticket_id)
        form = DraftForm()
        if not form.validate_on_submit():
            _flash_form_errors(form)
            return self._back(ticket_id, "draft")

        session = db()
        if not form.send.data:
            services.save_draft(session, ticket, form.body.data, staff())
            session.commit()
            flash(_("Concept bewaard."), "success")
            return self._back(ticket_id, "draft")

        settings = current_settings()
        try:
            message = services.queue_ticket_reply(session, settings, ticket, form.body.data, staff())
        except TicketActionError as error:
            session.rollback()
            flash(str(error), "error")
            return self._back(ticket_id, "draft")
        session.commit()
        self._dispatch(message.id)
        return self._back(ticket_id, f"message-{message.id}")

    def _dispatch(self, message_id: int) -> None:
        """Hand the committed reply to the sender and tell staff the resulting state."""
        settings = current_settings()
        try:
            services.dispatch_delivery(settings, message_id)
        except Exception:  # noqa: BLE001 (the reply is committed; any failure here only delays it)
            logger.exception("send_reply dispatch failed", extra={"message_row_id": message_id})
            flash(_("Het antwoord staat in de wachtrij, maar de verzendtaak kon niet gestart worden. De wachtrij wordt regelmatig opnieuw verwerkt. Meld het aan een beheerder als het antwoord niet vertrekt."), "error")
            return

        session = db()
        session.expire_all()
        message = session.get(Message, message_id)
        if message.delivery_state == DeliveryState.SENT:
            flash(_("Het antwoord is verzonden."), "success")
        elif message.delivery_state == DeliveryState.FAILED:
            flash(_("Verzenden is mislukt: %(error)s", error=message.delivery_error or "?"), "error")
        else:
            flash(_("Het antwoord staat in de wachtrij en wordt zo verzonden."), "info")

    @expose("/<int:ticket_id>/retry/<int:message_id>", methods=["POST"])
    def retry(self, ticket_id: int, message_id: int):
        if not EmptyForm().validate_on_submit():
            abort(400)
        session = db()
        message = session.get(Message, message_id)
        if message is None or message.ticket_id != ticket_id:
            abort(404)
        try:
            services.retry_delivery(session, message, staff())
        except TicketActionError as error:
            flash(str(error), "error")
            return self._back(ticket_id)
        session.commit()
        self._dispatch(message.id)
        return self._back(ticket_id, f"message-{message.id}")

    @expose("/<int:ticket_id>/article", methods=["POST"])
    def article(self, ticket_id: int):
        """Add or drop one article and recompose the draft from the resulting list."""
        from kb.drafts import compose_draft

        ticket = load_ticket(ticket_id)
        form = ArticleForm()
        if not form.validate_on_submit() or form.action.data not in {"add", "drop"}:
            abort(400)

        slugs = [slug for slug in ticket.draft_slugs or [] if slug != form.slug.data]
        if form.action.data == "add":
            slugs.append(form.slug.data)

        session = db()
        settings = current_settings()
        body = compose_draft(session, settings, slugs, ticket.language or settings.default_language, ticket.urgent_reason)
        services.save_draft(session, ticket, body, staff(), slugs=slugs)
        session.commit()
        flash(_("Het concept is opnieuw samengesteld."), "success")
        return self._back(ticket_id, "draft")

    @expose("/<int:ticket_id>/note", methods=["POST"])
    def note(self, ticket_id: int):
        ticket = load_ticket(ticket_id)
        form = NoteForm()
        if not form.validate_on_submit():
            _flash_form_errors(form)
            return self._back(ticket_id, "notes")
        session = db()
        try:
            services.add_note(session, ticket, staff(), form.body.data)
        except TicketActionError as error:
            flash(str(error), "error")
            return self._back(ticket_id, "notes")
        session.commit()
        return self._back(ticket_id, "notes")

    @expose("/<int:ticket_id>/assign", methods=["POST"])
    def assign(self, ticket_id: int):
        ticket = load_ticket(ticket_id)
        form = AssignForm()
        form.assignee.choices = [(0, "")] + [(user_id, name) for user_id, name in self._active_staff().items()]
        if not form.validate_on_submit():
            _flash_form_errors(form)
            return self._back(ticket_id)
        session = db()
        assignee = session.get(User, form.assignee.data) if form.assignee.data else None
        try:
            services.assign(session, ticket, assignee, staff())
        except TicketActionError as error:
            flash(str(error), "error")
            return self._back(ticket_id)
        session.commit()
        flash(_("Toewijzing bewaard."), "success")
        return self._back(ticket_id)

    @expose("/<int:ticket_id>/status", methods=["POST"])
    def status(self, ticket_id: int):
        ticket = load_ticket(ticket_id)
        form = StatusForm()
        if not form.validate_on_submit():
            _flash_form_errors(form)
            return self._back(ticket_id)
        session = db()
        services.set_status(session, ticket, form.status.data, staff())
        session.commit()
        flash(_("Status bewaard."), "success")
        return self._back(ticket_id)

    @expose("/<int:ticket_id>/merge", methods=["POST"])
    def merge(self, ticket_id: int):
        source = load_ticket(ticket_id)
        form = MergeForm()
        if not form.validate_on_submit():
            _flash_form_errors(form)
            return self._back(ticket_id)
        session = db()
        target = session.get(Ticket, form.target.data)
        if target is None:
            flash(_("Ticket #%(id)s bestaat niet.", id=form.target.data), "error")
            return self._back(ticket_id)
        try:
            services.merge_tickets(session, source, target, staff())
        except TicketActionError as error:
            flash(str(error), "error")
            return self._back(ticket_id)
        session.commit()
        flash(_("Ticket #%(source)s is samengevoegd met #%(target)s.", source=source.id, target=target.id), "success")
        return self._back(target.id)

    @expose("/<int:ticket_id>/raw", methods=["POST"])
    def raw(self, ticket_id: int):
        """Send the decrypted raw mail as a download, never rendered in the browser."""
        form = RawDownloadForm()
        if not form.validate_on_submit():
            _flash_form_errors(form)
            return self._back(ticket_id, "quarantine")
        session = db()
        message = session.get(Message, int(form.message.data)) if form.message.data.isdigit() else None
        if message is None or message.ticket_id != ticket_id:
            abort(404)
        try:
            raw = services.raw_message_for_download(session, current_settings(), message, staff(), form.reason.data)
        except RevealRefused as error:
            session.rollback()
            flash(str(error), "error")
            return self._back(ticket_id, "quarantine")
        session.commit()
        return Response(
            raw,
            mimetype="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="ticket-{ticket_id}-message-{message.id}.eml"'},
        )
