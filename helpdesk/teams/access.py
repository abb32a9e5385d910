"""Who sees which ticket: members see their teams' tickets, administrators see all.

Tickets without a team are visible to every staff member, so an
installation with one mailbox and no teams works as before.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import Role, User
from helpdesk.teams.models import Team, team_members
from helpdesk.tickets.models import Ticket

# Values of the queue's team filter besides a team id.
TEAM_MINE = "mine"  # the user's teams and tickets without a team
TEAM_ALL = "all"  # every ticket the user may see
TEAM_NONE = "none"  # tickets without a team
TEAM_FILTERS = (TEAM_MINE, TEAM_ALL, TEAM_NONE)


def sees_all_teams(user: User) -> bool:
    return user.role == Role.ADMIN


def member_team_ids(session: Session, user: User) -> list[int]:
    return list(session.scalars(select(team_members.c.team_id).where(team_members.c.user_id == user.id)))


def visible_condition(session: Session, user: User) -> ColumnElement[bool] | None:
    """Return the condition on Ticket that limits a query to the tickets `user` may see, or None for all."""
    if sees_all_teams(user):
        return None
    return _mine(member_team_ids(session, user))


def can_open(session: Session, user: User, team_id: int | None) -> bool:
    """Return whether `user` may open a ticket of the team `team_id` (None: a ticket without a team)."""
    if team_id is None or sees_all_teams(user):
        return True
    return team_id in member_team_ids(session, user)


def users_who_can_open(session: Session, team_id: int | None) -> set[int] | None:
    """Return the ids of the users who may open a ticket of `team_id`: its members and the administrators.

    Returns None for a ticket without a team, which everyone may open.
    """
    if team_id is None:
        return None
    members = session.scalars(select(team_members.c.user_id).where(team_members.c.team_id == team_id))
    admins = session.scalars(select(User.id).where(User.role == Role.ADMIN))
    return {*members, *admins}


def visible_only(session: Session, user: User, tickets: list[Ticket]) -> list[Ticket]:
    """Return the tickets of `tickets` that `user` may open, in the same order."""
    if sees_all_teams(user):
        return list(tickets)
    teams = set(member_team_ids(session, user))
    return [ticket for ticket in tickets if ticket.team_id is None or ticket.team_id in teams]


def default_team_filter(session: Session, user: User) -> str:
    """Return the queue's team filter when none is chosen: "my teams" for members of a team, else all."""
    return TEAM_MINE if member_team_ids(session, user) else TEAM_ALL


def queue_scope(session: Session, user: User, team_filter: str) -> ColumnElement[bool] | None:
    """Return the condition for the queue: what `user` may see, narrowed by the chosen team filter.

    `team_filter` is one of TEAM_FILTERS or a team id as text. A team the
    user is not a member of shows nothing for agents and editors.
    """
    conditions = []
    visible = visible_condition(session, user)
    if visible is not None:
        conditions.append(visible)

    if team_filter == TEAM_MINE and visible is None:
        # For everyone else the visibility condition already is "my teams".
        conditions.append(_mine(member_team_ids(session, user)))
    elif team_filter == TEAM_NONE:
        conditions.append(Ticket.team_id.is_(None))
    elif team_filter.isdigit():
        conditions.append(Ticket.team_id == int(team_filter))

    if not conditions:
        return None
    return and_(*conditions)


def _mine(team_ids: list[int]) -> ColumnElement[bool]:
    if not team_ids:
        return Ticket.team_id.is_(None)
    return or_(Ticket.team_id.is_(None), Ticket.team_id.in_(team_ids))


def team_choices(session: Session, user: User) -> list[tuple[int, str]]:
    """Return (id, name) of the teams `user` can filter the queue on: all for administrators, else their own."""
    query = select(Team.id, Team.name).order_by(Team.name)
    if not sees_all_teams(user):
        query = query.join(team_members, team_members.c.team_id == Team.id).where(team_members.c.user_id == user.id)
    return [(row.id, row.name) for row in session.execute(query)]
