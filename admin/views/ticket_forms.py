"""Forms of the ticket page beyond those in admin.forms: the reply with its insert buttons, reveal and erase."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from admin.forms import DraftForm
from helpdesk.privacy.reveal import MIN_REASON_LENGTH


class ReplyForm(DraftForm):
    """The draft with send, save and insert buttons. `seen_reply` protects the client from two replies."""

    seen_reply = HiddenField(validators=[Optional()])
    confirm_send = BooleanField(_l("Toch verzenden: ik heb het andere antwoord gelezen"))
    macro = SelectField(_l("Standaardantwoord"), coerce=str, validate_choice=False, validators=[Optional()])
    insert_macro = SubmitField(_l("Standaardantwoord invoegen"))
    article = SelectField(_l("Artikel uit de kennisbank"), coerce=str, validate_choice=False, validators=[Optional()])
    insert_article = SubmitField(_l("Artikel invoegen"))
    # Set by admin/static/ticket-tools.js while the cursor is in the draft; empty without script.
    cursor = HiddenField(validators=[Optional()])

    def seen_reply_id(self) -> int:
        """Return the reply id the page was loaded with, or 0 when it is missing so that any reply counts as newer."""
        raw = (self.seen_reply.data or "").strip()
        return int(raw) if raw.isdigit() else 0

    def cursor_position(self) -> int | None:
        """Return the cursor's offset in the draft in characters, or None when staff did not place it there."""
        raw = (self.cursor.data or "").strip()
        return int(raw) if raw.isdigit() else None


class RevealForm(FlaskForm):
    message = HiddenField(validators=[DataRequired()])
    reason = StringField(
        _l("Reden om het origineel te bekijken (wordt bewaard in het auditlogboek)"),
        validators=[DataRequired(), Length(min=MIN_REASON_LENGTH, max=500)],
    )
    submit = SubmitField(_l("Origineel tonen"))


class EraseForm(FlaskForm):
    reason = StringField(
        _l("Reden van het wissen (bijvoorbeeld: verzoek van de cliënt op datum)"),
        validators=[DataRequired(), Length(min=MIN_REASON_LENGTH, max=500)],
    )
    confirm = IntegerField(_l("Typ het ticketnummer om te bevestigen"), validators=[InputRequired()])
    submit = SubmitField(_l("Ticket definitief wissen"))
