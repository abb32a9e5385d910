"""Teams for administrators: names, members and mailbox routes; and moving a ticket to another team.

Every POST handler validates its form (and so its CSRF token), calls one
service in helpdesk.teams.services, commits and redirects.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from admin.auth import staff
from admin.db import current_settings, db
from admin.views.access import ADMIN_ROLES, RoleRequiredMixin
from admin.views.queue import active_staff_names
from admin.views.ticket_data import flash_form_errors
from helpdesk.accounts.models import User
from helpdesk.teams import services
from helpdesk.teams.access import sees_all_teams, users_who_can_open
from helpdesk.teams.models import MAX_ADDRESS_LENGTH, MAX_DISPLAY_NAME_LENGTH, MAX_TEAM_NAME_LENGTH, Team
from helpdesk.teams.services import TeamError
from helpdesk.tickets.models import Ticket

NO_TEAM = 0  # the select value for "no team"

class TeamNameForm(FlaskForm):
    name = StringField(_l("Naam van het team"), validators=[DataRequired(), Length(max=MAX_TEAM_NAME_LENGTH)])
    submit = SubmitField(_l("Team aanmaken"))


class TeamEditForm(FlaskForm):
    name = StringField(_l("Naam van het team"), validators=[DataRequired(), Length(max=MAX_TEAM_NAME_LENGTH)])
    members = SelectMultipleField(
        _l("Leden"), coerce=int, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput()
    )
    submit = SubmitField(_l("Team bewaren"))


class RouteForm(FlaskForm):
    mailbox = HiddenField(validators=[DataRequired(), Length(max=128)])
    team = SelectField(_l("Team"), coerce=int)
    # Checked by helpdesk.teams.services.checked_reply_address, which names the value in its error.
    reply_address = StringField(_l("Antwoordadres"), validators=[Optional(), Length(max=MAX_ADDRESS_LENGTH)])
    reply_name = StringField(_l("Afzendernaam"), validators=[Optional(), Length(max=MAX_DISPLAY_NAME_LENGTH)])
    submit = SubmitField(_l("Route bewaren"))


class MoveTicketForm(FlaskForm):
    team = SelectField(_l("Team"), coerce=int)
    submit = SubmitField(_l("Naar dit team verplaatsen"))


class DeleteForm(FlaskForm):
    submit = SubmitField(_l("Team verwijderen"))


@dataclass(frozen=True)
class TeamPanel:
    """The ticket page's team details: the ticket's team, team names for the history and the move form."""

    name: str | None
    names: dict[int, str]
    move_form: MoveTicketForm | None  # administrators only


def _team_options(session) -> list[tuple[int, str]]:
    return [(NO_TEAM, _("geen team (iedereen ziet het)"))] + [(team.id, team.name) for team in services.all_teams(session)]


def ticket_team_panel(session, ticket: Ticket, user: User) -> TeamPanel:
    names = {team.id: team.name for team in services.all_teams(session)}
    move_form = None
    if sees_all_teams(user) and names:
        move_form = MoveTicketForm(team=ticket.team_id or NO_TEAM)
        move_form.team.choices = _team_options(session)
    return TeamPanel(name=names.get(ticket.team_id), names=names, move_form=move_form)


def assignable_staff(session, ticket: Ticket) -> list[tuple[int, str]]:
    """Return (id, name) of the active staff who may open `ticket` and so can be assigned to it."""
    allowed = users_who_can_open(session, ticket.team_id)
    return [(user_id, name) for user_id, name in active_staff_names() if allowed is None or user_id in allowed]


class TeamAdminView(RoleRequiredMixin, BaseView):
    allowed_roles = ADMIN_ROLES

    def __init__(self, **kwargs) -> None:
        super().__init__(name=_l("Teams en mailboxen"), endpoint="teams", url="teams", **kwargs)

    @expose("/")
    def index(self):
        session = db()
        teams = services.all_teams(session)
        options = _team_options(session)
        routes = []
        for choice in services.mailbox_choices(session, current_settings()):
            form = RouteForm(
                mailbox=choice.key,
                team=choice.team_id or NO_TEAM,
                reply_address=choice.reply_address or "",
                reply_name=choice.reply_name or "",
            )
            form.team.choices = options
            routes.append((choice, form))
        settings = current_settings()
        return self.render(
            "admin/teams.html",
            teams=teams,
            create_form=TeamNameForm(),
            routes=routes,
            central_address=settings.from_address,
            central_name=settings.from_name,
        )

    @expose("/create", methods=["POST"])
    def create(self):
        form = TeamNameForm()
        if not form.validate_on_submit():
            flash_form_errors(form)
            return redirect(url_for(".index"))
        session = db()
        try:
            team = services.create_team(session, form.name.data, staff())
        except TeamError as error:
            session.rollback()
            flash(str(error), "error")
            return redirect(url_for(".index"))
        session.commit()
        flash(_("Team „%(name)s” aangemaakt. Kies nu de leden.", name=team.name), "success")
        return redirect(url_for(".edit", team_id=team.id))

    @expose("/<int:team_id>", methods=["GET", "POST"])
    def edit(self, team_id: int):
        session = db()
        team = self._team(team_id)
        form = TeamEditForm(name=team.name, members=[member.id for member in team.members])
        form.members.choices = self._member_choices(team)
        if form.validate_on_submit():
            try:
                services.rename_team(session, team, form.name.data, staff())
                services.set_members(session, team, form.members.data, staff())
            except TeamError as error:
                session.rollback()
                flash(str(error), "error")
                return redirect(url_for(".edit", team_id=team_id))
            session.commit()
            flash(_("Team bewaard."), "success")
            return redirect(url_for(".index"))
        flash_form_errors(form)
        return self.render("admin/team_edit.html", team=team, form=form, delete_form=DeleteForm())

    @expose("/<int:team_id>/delete", methods=["POST"])
    def delete(self, team_id: int):
        if not DeleteForm().validate_on_submit():
            abort(400)
        session = db()
        team = self._team(team_id)
        name = team.name
        try:
            services.delete_team(session, team, staff())
        except TeamError as error:
            session.rollback()
            flash(str(error), "error")
            return redirect(url_for(".edit", team_id=team_id))
        session.commit()
        flash(_("Team „%(name)s” verwijderd.", name=name), "success")
        return redirect(url_for(".index"))

    @expose("/routes", methods=["POST"])
    def route(self):
        session = db()
        form = RouteForm()
        form.team.choices = _team_options(session)
        if not form.validate_on_submit():
            flash_form_errors(form)
            return redirect(url_for(".index"))
        known = {choice.key for choice in services.mailbox_choices(session, current_settings())}
        if form.mailbox.data not in known:
            flash(_("Mailbox %(mailbox)s is niet ingesteld: voeg ze eerst toe aan HELPDESK_MAILBOX_URL.", mailbox=form.mailbox.data), "error")
            return redirect(url_for(".index"))
        team = session.get(Team, form.team.data) if form.team.data != NO_TEAM else None
        try:
            services.set_reply_address(session, form.mailbox.data, form.reply_address.data, form.reply_name.data, staff())
            services.route_mailbox(session, form.mailbox.data, team, staff())
        except TeamError as error:
            session.rollback()
            flash(str(error), "error")
            return redirect(url_for(".index"))
        session.commit()
        flash(_("Route bewaard. Nieuwe tickets van deze mailbox gaan naar het gekozen team."), "success")
        return redirect(url_for(".index"))

    @expose("/ticket/<int:ticket_id>/move", methods=["POST"])
    def move_ticket(self, ticket_id: int):
        session = db()
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            abort(404)
        form = MoveTicketForm()
        form.team.choices = _team_options(session)
        if not form.validate_on_submit():
            flash_form_errors(form)
            return redirect(url_for("ticket.details", ticket_id=ticket_id))
        team = session.get(Team, form.team.data) if form.team.data != NO_TEAM else None
        try:
            services.move_ticket(session, ticket, team, staff())
        except TeamError as error:
            session.rollback()
            flash(str(error), "error")
            return redirect(url_for("ticket.details", ticket_id=ticket_id))
        session.commit()
        flash(_("Het ticket is verplaatst."), "success")
        return redirect(url_for("ticket.details", ticket_id=ticket_id))

    def _team(self, team_id: int) -> Team:
        team = db().get(Team, team_id)
        if team is None:
            abort(404)
        return team

    def _member_choices(self, team: Team) -> list[tuple[int, str]]:
        """Return active staff, plus inactive members so that saving the form keeps them."""
        current = {member.id for member in team.members}
        rows = db().execute(select(User.id, User.display_name, User.email, User.active)).all()
        choices = [(row.id, row.display_name or row.email) for row in rows if row.active or row.id in current]
        return sorted(choices, key=lambda item: item[1].lower())
