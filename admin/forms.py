"""Forms of the staff workplace; every one carries a CSRF token through FlaskForm."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from helpdesk.accounts.services import MIN_PASSWORD_LENGTH
from helpdesk.privacy.reveal import MIN_REASON_LENGTH
from helpdesk.tickets.models import TicketStatus
from helpdesk.tickets.queue import MAX_ID
from helpdesk.tickets.services import MAX_NOTE_LENGTH

STATUS_LABELS = {
    TicketStatus.NEW.value: _l("nieuw"),
    TicketStatus.OPEN.value: _l("open"),
    TicketStatus.WAITING.value: _l("wacht op cliënt"),
    TicketStatus.CLOSED.value: _l("gesloten"),
    TicketStatus.QUARANTINED.value: _l("quarantaine"),
}


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mailadres"), validators=[DataRequired(), Length(max=255)])
    password = PasswordField(_l("Wachtwoord"), validators=[DataRequired(), Length(max=1024)])
    code = StringField(
        _l("Verificatiecode (alleen als je tweestapsverificatie gebruikt)"),
        validators=[Optional(), Length(max=12)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField(_l("Aanmelden"))


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons such as sign out or retry."""


class DraftForm(FlaskForm):
    body = TextAreaField(_l("Antwoord aan de cliënt"), validators=[Length(max=100_000)])
    save = SubmitField(_l("Concept bewaren"))
    send = SubmitField(_l("Verzenden"))


class ArticleForm(FlaskForm):
    slug = HiddenField(validators=[DataRequired(), Length(max=128)])
    action = HiddenField(validators=[DataRequired()])


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Interne notitie"), validators=[DataRequired(), Length(max=MAX_NOTE_LENGTH)])
    submit = SubmitField(_l("Notitie toevoegen"))


class AssignForm(FlaskForm):
    assignee = SelectField(_l("Toegewezen aan"), coerce=int)
    submit = SubmitField(_l("Toewijzen"))


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=list(STATUS_LABELS.items()))
    submit = SubmitField(_l("Status wijzigen"))


class MergeForm(FlaskForm):
    # A number past MAX_ID made the ticket lookup fail in the database (500).
    target = IntegerField(_l("Samenvoegen met ticket nummer"), validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])
    submit = SubmitField(_l("Samenvoegen"))


class RawDownloadForm(FlaskForm):
    message = HiddenField(validators=[DataRequired()])
    reason = StringField(
        _l("Reden (wordt bewaard in het auditlogboek)"),
        validators=[DataRequired(), Length(min=MIN_REASON_LENGTH, max=500)],
    )
    submit = SubmitField(_l("Ruw bericht downloaden"))


class LanguageForm(FlaskForm):
    language = SelectField(_l("Taal van de schermen"), choices=[("nl", "Nederlands"), ("fr", "Français"), ("en", "English")])
    submit = SubmitField(_l("Taal bewaren"))


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Huidig wachtwoord"), validators=[DataRequired()])
    new = PasswordField(
        _l("Nieuw wachtwoord (minstens %(count)s tekens)", count=MIN_PASSWORD_LENGTH),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)],
    )
    submit = SubmitField(_l("Wachtwoord wijzigen"))


class _TotpChangeForm(FlaskForm):
    """The current password and a TOTP code, which a change to one's own TOTP needs (accounts.reauthenticate)."""

    password = PasswordField(_l("Huidig wachtwoord"), validators=[DataRequired(), Length(max=1024)])
    code = StringField(
        _l("Code uit je app"),
        validators=[DataRequired(), Length(min=6, max=12)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class TotpForm(_TotpChangeForm):
    """Confirms the pending secret, which stays on the server (accounts.pending_totp_secret), with a code from the new app."""

    submit = SubmitField(_l("Tweestapsverificatie aanzetten"))


class TotpOffForm(_TotpChangeForm):
    """Turns off one's own TOTP with a current code from the enrolled app."""

    submit = SubmitField(_l("Tweestapsverificatie uitzetten"))
