"""Privacy actions of the ticket page: reveal an original, download a raw mail, erase a ticket.

Each needs a typed reason that goes into the audit log. Revealed text is
rendered into the response only, never stored in the session or a flash
message, and staff pages are sent with Cache-Control: no-store.
"""

from __future__ import annotations

import logging

from flask import Response, abort, flash, redirect, url_for
from flask_admin import expose
from flask_babel import gettext as _

from admin.auth import staff
from admin.db import current_settings, db
from admin.forms import RawDownloadForm
from admin.views.ticket_data import flash_form_errors, load_ticket
from admin.views.ticket_forms import EraseForm, RevealForm
from helpdesk.privacy.reveal import RevealRefused
from helpdesk.tickets import services
from helpdesk.tickets.models import Message
from helpdesk.tickets.services import TicketActionError

logger = logging.getLogger(__name__)


def _message_of(ticket_id: int, raw_id: str) -> Message:
    message = db().get(Message, int(raw_id)) if (raw_id or "").isdigit() else None
    if message is None or message.ticket_id != ticket_id:
        abort(404)
    return message


class TicketPrivacyRoutes:
    """Routes mixed into TicketView, which provides render_ticket and _back."""

    @expose("/<int:ticket_id>/reveal", methods=["POST"])
    def reveal(self, ticket_id: int):
        form = RevealForm()
        if not form.validate_on_submit():
            flash_form_errors(form)
            return self._back(ticket_id, f"message-{form.message.data}" if (form.message.data or "").isdigit() else "")
        session = db()
        message = _message_of(ticket_id, form.message.data)
        try:
            original = services.reveal_message_original(session, current_settings(), message, staff(), form.reason.data)
        except RevealRefused as error:
            session.rollback()
            logger.warning("reveal rejected", extra={"ticket_id": ticket_id, "message_row_id": message.id, "user_id": staff().id})
            flash(str(error), "error")
            return self._back(ticket_id, f"message-{message.id}")
        session.commit()
        return self.render_ticket(load_ticket(ticket_id), revealed={message.id: original})

    @expose("/<int:ticket_id>/raw", methods=["POST"])
    def raw(self, ticket_id: int):
        """Send the decrypted raw mail as a download, never rendered in the browser."""
        form = RawDownloadForm()
        if not form.validate_on_submit():
            flash_form_errors(form)
            return self._back(ticket_id, "quarantine")
        session = db()
        message = _message_of(ticket_id, form.message.data)
        try:
            raw = services.raw_message_for_download(session, current_settings(), message, staff(), form.reason.data)
        except RevealRefused as error:
            session.rollback()
            logger.warning("raw download rejected", extra={"ticket_id": ticket_id, "message_row_id": message.id, "user_id": staff().id})
            flash(str(error), "error")
            return self._back(ticket_id, "quarantine")
        session.commit()
        return Response(
            raw,
            mimetype="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="ticket-{ticket_id}-message-{message.id}.eml"'},
        )

    @expose("/<int:ticket_id>/erase", methods=["POST"])
    def erase(self, ticket_id: int):
        """Erase the ticket and its mail on the server (administrators only)."""
        ticket = load_ticket(ticket_id)
        form = EraseForm()
        if not form.validate_on_submit():
            flash_form_errors(form)
            return self._back(ticket_id, "erase")
        if form.confirm.data != ticket_id:
            flash(_("Het getypte nummer %(typed)s is niet het nummer van dit ticket (%(id)s). Er is niets gewist.", typed=form.confirm.data, id=ticket_id), "error")
            return self._back(ticket_id, "erase")
        try:
            summary = services.erase_ticket_everywhere(db(), current_settings(), ticket, staff(), form.reason.data)
        except TicketActionError as error:
            db().rollback()
            logger.warning("erase rejected", extra={"ticket_id": ticket_id, "user_id": staff().id})
            flash(str(error), "error")
            return self._back(ticket_id, "erase")

        flash(_("Ticket #%(id)s is gewist.", id=ticket_id), "success")
        if summary.failed:
            flash(
                _("%(count)s kopie(ën) op de mailserver konden niet verwijderd worden. Verwijder ze met de hand of meld het aan de technische beheerder.", count=summary.failed),
                "error",
            )
        elif summary.deleted:
            flash(_("%(count)s kopie(ën) op de mailserver verwijderd.", count=summary.deleted), "info")
        return redirect(url_for("queue.index_view"))
