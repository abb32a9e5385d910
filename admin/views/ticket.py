"""The ticket page: thread, suggestions, reply draft, notes, assignment, status, merging and sending.

Every POST handler validates its form (and so its CSRF token), calls one
service, commits and redirects back to the page. The privacy actions
(reveal, raw download, erase) live in admin.views.ticket_privacy.
"""

from __future__ import annotations

import logging

from flask import abort, flash, redirect, url_for
from flask_admin import BaseView, expose
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin.auth import staff
from admin.db import current_settings, db
from admin.forms import STATUS_LABELS, ArticleForm, AssignForm, EmptyForm, MergeForm, NoteForm, RawDownloadForm, StatusForm
from admin.labels import DELIVERY_LABELS, EVENT_LABELS, URGENCY_LABELS
from admin.rendering import format_size, sanitize_mail_html
from admin.views.access import RoleRequiredMixin
from admin.views.queue import user_names
from admin.views.teams import assignable_staff, ticket_team_panel
from admin.views.ticket_data import article_snippet, article_titles, flash_form_errors, load_ticket, published_articles, shown_terms
from admin.views.ticket_forms import EraseForm, ReplyForm, RevealForm
from admin.views.ticket_privacy import TicketPrivacyRoutes
from helpdesk.accounts.models import Role, User
from helpdesk.teams import access as team_access
from helpdesk.tickets import services
from helpdesk.tickets.macros import Macro, active_macros
from helpdesk.tickets.models import DeliveryState, Direction, Message, Ticket, TicketStatus
from helpdesk.tickets.presence import others_present, record_presence
from helpdesk.tickets.services import ReplyCollision, TicketActionError

logger = logging.getLogger(__name__)


class TicketView(TicketPrivacyRoutes, RoleRequiredMixin, BaseView):
    def __init__(self, **kwargs) -> None:
        super().__init__(name=_l("Ticket"), endpoint="ticket", url="ticket", **kwargs)

    def is_visible(self) -> bool:
        return False  # reached from the queue, not from the menu

    def _back(self, ticket_id: int, anchor: str = ""):
        return redirect(url_for(".details", ticket_id=ticket_id) + (f"#{anchor}" if anchor else ""))

    @expose("/")
    def index(self):
        return redirect(url_for("queue.index_view"))

    @expose("/<int:ticket_id>")
    def details(self, ticket_id: int):
        ticket = load_ticket(ticket_id)
        record_presence(db(), ticket.id, staff())
        db().commit()
        return self.render_ticket(ticket)

    def render_ticket(self, ticket: Ticket, *, reply_form: ReplyForm | None = None, collision: list[str] | None = None, revealed: dict[int, str] | None = None):
        """Render the page. POST handlers that must not redirect pass their form or result."""
        session = db()
        user = staff()
        language = ticket.language or current_settings().default_language

        if reply_form is None:
            reply_form = ReplyForm(body=ticket.draft, seen_reply=str(services.last_reply_id(session, ticket)))
        macros = active_macros(session, language)
        reply_form.macro.choices = [("", _("kies een standaardantwoord"))] + [(str(macro.id), f"{macro.title} ({macro.language})") for macro in macros]
        reply_form.article.choices = [("", _("kies een artikel"))] + published_articles(language)

        assign_form = AssignForm(assignee=ticket.assignee_id or 0)
        assign_form.assignee.choices = [(0, _("niemand"))] + assignable_staff(session, ticket)
        suggested = {suggestion.slug for suggestion in ticket.suggestions}

        html = self.render(
            "admin/ticket.html",
            ticket=ticket,
            user=user,
            user_names=user_names(),
            draft_form=reply_form,
            collision=collision,
            present=others_present(session, ticket.id, user),
            note_form=NoteForm(),
            assign_form=assign_form,
            status_form=StatusForm(status=ticket.status.value),
            merge_form=MergeForm(),
            raw_form=RawDownloadForm(),
            reveal_form=RevealForm(),
            erase_form=EraseForm(),
            button_form=EmptyForm(),
            article_form=ArticleForm(),
            revealed=revealed or {},
            extra_draft_slugs=[slug for slug in ticket.draft_slugs or [] if slug not in suggested],
            same_client=team_access.visible_only(session, user, services.tickets_of_same_client(session, ticket)),
            team_panel=ticket_team_panel(session, ticket, user),
            can_download_raw=user.can_reveal or user.role == Role.ADMIN,
            can_erase=user.role in services.ERASE_ROLES,
            event_labels=EVENT_LABELS,
            status_labels=STATUS_LABELS,
            delivery_labels=DELIVERY_LABELS,
            urgency_labels=URGENCY_LABELS,
            sanitize_mail_html=sanitize_mail_html,
            format_size=format_size,
            format_score=lambda score: format_decimal(score, format="#,##0.00"),
            article_titles=article_titles([*(ticket.draft_slugs or []), *suggested], ticket.language or "nl"),
            shown_terms=shown_terms,
            Direction=Direction,
            DeliveryState=DeliveryState,
            TicketStatus=TicketStatus,
        )
        status = 409 if collision else 200
        return html, status

    @expose("/<int:ticket_id>/draft", methods=["POST"])
    def draft(self, ticket_id: int):
        """Save, send or extend the draft, depending on the button that was pressed."""
        ticket = load_ticket(ticket_id)
        form = ReplyForm()
        if not form.validate_on_submit():
            flash_form_errors(form)
            return self._back(ticket_id, "draft")

        session = db()
        record_presence(session, ticket.id, staff(), editing=True)
        if form.insert_macro.data:
            return self._insert_macro(ticket, form)
        if form.insert_article.data:
            return self._insert_article(ticket, form)
        if not form.send.data:
            services.save_draft(session, ticket, form.body.data, staff())
            session.commit()
            flash(_("Concept bewaard."), "success")
            return self._back(ticket_id, "draft")
        return self._send(ticket, form)

    def _send(self, ticket: Ticket, form: ReplyForm):
        session = db()
        settings = current_settings()
        try:
            message = services.queue_ticket_reply(
                session, settings, ticket, form.body.data, staff(), seen_reply_id=form.seen_reply_id(), confirmed=form.confirm_send.data
            )
        except ReplyCollision as error:
            session.rollback()
            logger.info("reply rejected: ticket answered since page load", extra={"ticket_id": ticket.id, "user_id": staff().id})
            # Keep the text, and show the page at once with the other answer and a confirm box.
            services.save_draft(session, ticket, form.body.data, staff())
            session.commit()
            names = user_names()
            authors = sorted({names.get(author, "?") if author else _("het systeem") for author in error.authors})
            return self.render_ticket(load_ticket(ticket.id), reply_form=form, collision=authors)
        except TicketActionError as error:
            session.rollback()
            flash(str(error), "error")
            return self._back(ticket.id, "draft")
        session.commit()
        self._dispatch(message.id)
        return self._back(ticket.id, f"message-{message.id}")

    def _insert_macro(self, ticket: Ticket, form: ReplyForm):
        session = db()
        macro = session.get(Macro, int(form.macro.data)) if (form.macro.data or "").isdigit() else None
        if macro is None or not macro.active:
            flash(_("Kies eerst een standaardantwoord in de lijst."), "error")
            services.save_draft(session, ticket, form.body.data, staff())
            session.commit()
            return self._back(ticket.id, "draft")
        services.insert_into_draft(session, ticket, form.body.data, macro.body, staff(), macro_id=macro.id, cursor=form.cursor_position())
        session.commit()
        flash(_("Standaardantwoord „%(title)s” ingevoegd.", title=macro.title), "success")
        return self._back(ticket.id, "draft")

    def _insert_article(self, ticket: Ticket, form: ReplyForm):
        session = db()
        slug = (form.article.data or "").strip()
        snippet = article_snippet(slug, ticket.language or current_settings().default_language) if slug else None
        if snippet is None:
            flash(_("Kies eerst een gepubliceerd artikel in de lijst."), "error")
            services.save_draft(session, ticket, form.body.data, staff())
            session.commit()
            return self._back(ticket.id, "draft")
        services.insert_into_draft(session, ticket, form.body.data, snippet, staff(), slug=slug, cursor=form.cursor_position())
        session.commit()
        flash(_("Artikel ingevoegd."), "success")
        return self._back(ticket.id, "draft")

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
            flash_form_errors(form)
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
        form.assignee.choices = [(0, "")] + assignable_staff(db(), ticket)
        if not form.validate_on_submit():
            flash_form_errors(form)
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
            flash_form_errors(form)
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
            flash_form_errors(form)
            return self._back(ticket_id)
        session = db()
        target = session.get(Ticket, form.target.data)
        if target is None or not team_access.can_open(session, staff(), target.team_id):
            flash(_("Ticket #%(id)s bestaat niet.", id=form.target.data), "error")
            return self._back(ticket_id)
        # Everyone who can open the target then reads the source's mail, so only
        # administrators, who also move tickets, may merge out of a team.
        if source.team_id not in (None, target.team_id) and not team_access.sees_all_teams(staff()):
            flash(_("Ticket #%(source)s hoort bij een ander team dan #%(target)s. Vraag een beheerder om ze samen te voegen.", source=source.id, target=target.id), "error")
            return self._back(ticket_id)
        try:
            services.merge_tickets(session, source, target, staff())
        except TicketActionError as error:
            flash(str(error), "error")
            return self._back(ticket_id)
        session.commit()
        flash(_("Ticket #%(source)s is samengevoegd met #%(target)s.", source=source.id, target=target.id), "success")
        return self._back(target.id)
