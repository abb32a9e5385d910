"""Administering teams: names, members, mailbox routes and reply addresses, and moving a ticket to another team.

Every change writes an audit entry with ids only. Errors are TeamError with a
Dutch message for the screen that names the value and what to do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import Role, User
from helpdesk.accounts.services import audit, is_valid_email
from helpdesk.config import ConfigError, Settings
from helpdesk.ingest.models import MailboxState
from helpdesk.ingest.sources import MAX_KEY_LENGTH, mailbox_key
from helpdesk.teams.access import users_who_can_open
from helpdesk.teams.models import MAX_ADDRESS_LENGTH, MAX_DISPLAY_NAME_LENGTH, MAX_TEAM_NAME_LENGTH, MailboxRoute, Team
from helpdesk.teams.reply_addresses import forget_own_addresses
from helpdesk.tickets.models import Ticket, TicketEvent

logger = logging.getLogger(__name__)


class TeamError(ValueError):
    """A team change cannot be made. The message is Dutch text for the screen and states the reason."""


@dataclass(frozen=True)
class MailboxChoice:
    """A mailbox that can be routed: its key, whether a setting names it, its team and its reply address."""

    key: str
    configured: bool
    team_id: int | None
    reply_address: str | None = None
    reply_name: str | None = None


def all_teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(func.lower(Team.name))))


def find_team(session: Session, name: str) -> Team | None:
    """Return the team called `name`, ignoring case and surrounding spaces."""
    return session.scalars(select(Team).where(func.lower(Team.name) == _clean_name(name).lower())).first()


def create_team(session: Session, name: str, actor: User | None) -> Team:
    team = Team(name=_checked_name(session, name, None))
    session.add(team)
    session.flush()
    audit(session, actor, "settings", "team", team.id, detail={"change": "team_created"})
    return team


def rename_team(session: Session, team: Team, name: str, actor: User | None) -> None:
    new_name = _checked_name(session, name, team)
    if new_name == team.name:
        return
    team.name = new_name
    audit(session, actor, "settings", "team", team.id, detail={"change": "team_renamed"})


def delete_team(session: Session, team: Team, actor: User | None) -> None:
    """Delete a team without tickets, together with its memberships and mailbox routes.

    A team that still has tickets is kept, because deleting it would make
    those tickets visible to every staff member.
    """
    tickets = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.team_id == team.id)) or 0
    if tickets:
        raise TeamError(
            f"Team „{team.name}” heeft nog {tickets} tickets: verplaats ze eerst naar een ander team."
        )
    team_id = team.id
    session.delete(team)
    session.flush()
    audit(session, actor, "settings", "team", team_id, detail={"change": "team_deleted"})


def set_members(session: Session, team: Team, user_ids: list[int], actor: User | None) -> None:
    """Make exactly the users with `user_ids` the members of `team`."""
    users = list(session.scalars(select(User).where(User.id.in_(set(user_ids)))))
    missing = set(user_ids) - {user.id for user in users}
    if missing:
        raise TeamError(f"Gebruiker {min(missing)} bestaat niet: kies de leden uit de lijst.")

    before = {user.id for user in team.members}
    after = {user.id for user in users}
    if before == after:
        return
    team.members = sorted(users, key=lambda user: user.email)
    audit(
        session,
        actor,
        "settings",
        "team",
        team.id,
        detail={"change": "team_members", "added": sorted(after - before), "removed": sorted(before - after)},
    )


def route_key(value: str) -> str:
    """Return the mailbox key for a mailbox URL or key, so that no password is ever stored.

    A value that parses as a mailbox URL (HELPDESK_MAILBOX_URL syntax) is
    replaced by its key. Anything else is taken as a key as shown in the
    admin screens, for example `imaps://vragen@mail.example.org:993`.
    """
    value = value.strip()
    try:
        return mailbox_key(value)
    except ConfigError:
        pass
    if not value or len(value) > MAX_KEY_LENGTH:
        raise TeamError(f"Mailbox {value!r} is ongeldig: geef een mailbox-URL of de sleutel uit de lijst van mailboxen.")
    if ":" in value.partition("@")[0].partition("://")[2]:
        raise TeamError("Geef de mailbox zonder wachtwoord op: de sleutel uit de lijst van mailboxen.")
    return value


def route_mailbox(session: Session, mailbox: str, team: Team | None, actor: User | None) -> None:
    """Send new tickets of `mailbox` (a URL or key) to `team`, or to no team when `team` is None.

    Only tickets created after the change follow the route. Existing tickets keep their team.
    A route without a team is kept only while it has a reply address.
    """
    key = route_key(mailbox)
    route = _route(session, key)
    previous = route.team_id if route is not None else None
    new = team.id if team is not None else None
    if previous == new:
        return

    if route is None:
        route = MailboxRoute(mailbox=key, team_id=new)
        session.add(route)
    else:
        route.team_id = new
    session.flush()
    route_id = route.id
    _delete_if_empty(session, route)
    # The key can be longer than the audit log's object id, so it goes in the detail.
    audit(session, actor, "settings", "mailbox_route", route_id, detail={"mailbox": key, "from": previous, "to": new})
    logger.info("mailbox route changed", extra={"mailbox": key, "team_id": new})


def set_reply_address(
    session: Session, mailbox: str, address: str | None, name: str | None, actor: User | None
) -> None:
    """Make replies on tickets of `mailbox` (a URL or key) come from `address` with display name `name`.

    An empty `address` makes them come from HELPDESK_FROM_ADDRESS again, and
    an empty `name` from HELPDESK_FROM_NAME. Raises TeamError for an invalid
    address or a name that is too long.
    """
    key = route_key(mailbox)
    new_address = checked_reply_address(address)
    new_name = checked_reply_name(name) if new_address else None
    route = _route(session, key)
    previous = (route.reply_address, route.reply_name) if route is not None else (None, None)
    if previous == (new_address, new_name):
        return

    if route is None:
        route = MailboxRoute(mailbox=key, team_id=None)
        session.add(route)
    route.reply_address = new_address
    route.reply_name = new_name
    session.flush()
    route_id = route.id
    _delete_if_empty(session, route)
    forget_own_addresses()

    # Addresses and names stay out of the audit log and the logs, like every address.
    detail = {"mailbox": key, "change": "reply_address", "set": new_address is not None}
    audit(session, actor, "settings", "mailbox_route", route_id, detail=detail)
    logger.info("mailbox reply address changed", extra={"mailbox": key, "reply_address_set": new_address is not None})


def checked_reply_address(address: str | None) -> str | None:
    """Return the cleaned reply address, None for an empty one, or raise TeamError naming the value."""
    cleaned = (address or "").strip()
    if not cleaned:
        return None
    if len(cleaned) > MAX_ADDRESS_LENGTH:
        raise TeamError(f"Het antwoordadres is {len(cleaned)} tekens lang: gebruik hoogstens {MAX_ADDRESS_LENGTH} tekens.")

    # The project's address check, then the standard library's, because
    # compose.py puts the address in a From header through Address().
    try:
        parsed = Address(addr_spec=cleaned) if is_valid_email(cleaned) else None
    except (HeaderParseError, ValueError, IndexError):
        parsed = None
    if parsed is None or parsed.addr_spec != cleaned:
        raise TeamError(
            f"Antwoordadres {cleaned!r} is geen geldig e-mailadres: geef het adres van de mailbox, bijvoorbeeld antwerpen@voorbeeld.be."
        )
    return cleaned


def checked_reply_name(name: str | None) -> str | None:
    """Return the display name on one line, None for an empty one, or raise TeamError when it is too long."""
    cleaned = " ".join((name or "").split())
    if not cleaned:
        return None
    if len(cleaned) > MAX_DISPLAY_NAME_LENGTH:
        raise TeamError(
            f"De afzendernaam {cleaned!r} is {len(cleaned)} tekens lang: gebruik hoogstens {MAX_DISPLAY_NAME_LENGTH} tekens."
        )
    return cleaned


def mailbox_choices(session: Session, settings: Settings) -> list[MailboxChoice]:
    """Return the mailboxes that can be routed: those in the settings, those polled before and those already routed."""
    configured: list[str] = []
    for url in settings.mailbox_urls:
        try:
            configured.append(mailbox_key(url))
        except ConfigError:
            continue  # `helpdesk check` and the poller report invalid URLs
    polled = session.scalars(select(MailboxState.mailbox).distinct())
    routes = {route.mailbox: route for route in session.scalars(select(MailboxRoute))}

    keys = list(dict.fromkeys([*configured, *sorted(polled), *sorted(routes)]))
    choices = []
    for key in keys:
        route = routes.get(key)
        choices.append(
            MailboxChoice(
                key=key,
                configured=key in configured,
                team_id=route.team_id if route is not None else None,
                reply_address=route.reply_address if route is not None else None,
                reply_name=route.reply_name if route is not None else None,
            )
        )
    return choices


def move_ticket(session: Session, ticket: Ticket, team: Team | None, actor: User) -> None:
    """Move `ticket` to `team`, or to no team (visible to all staff) when `team` is None.

    Only administrators may move tickets; others get a TeamError.
    """
    if actor.role != Role.ADMIN:
        raise TeamError("Alleen beheerders mogen een ticket naar een ander team verplaatsen.")
    new = team.id if team is not None else None
    if new == ticket.team_id:
        return
    previous = ticket.team_id
    ticket.team_id = new
    session.add(TicketEvent(ticket_id=ticket.id, user_id=actor.id, kind="team_changed", detail={"from": previous, "to": new}))

    # An assignee outside the new team could no longer open the ticket, so it becomes unassigned.
    allowed = users_who_can_open(session, new)
    if ticket.assignee_id is not None and allowed is not None and ticket.assignee_id not in allowed:
        session.add(TicketEvent(ticket_id=ticket.id, user_id=actor.id, kind="assigned", detail={"from": ticket.assignee_id, "to": None}))
        ticket.assignee_id = None
    audit(session, actor, "move", "ticket", ticket.id, detail={"from_team": previous, "to_team": new})
    logger.info("ticket moved to another team", extra={"ticket_id": ticket.id, "team_id": new, "user_id": actor.id})


def _route(session: Session, key: str) -> MailboxRoute | None:
    return session.scalars(select(MailboxRoute).where(MailboxRoute.mailbox == key)).first()


def _delete_if_empty(session: Session, route: MailboxRoute) -> None:
    """Delete a route that has neither a team nor a reply address, because it no longer changes anything."""
    if route.team_id is None and not route.reply_address:
        session.delete(route)
        session.flush()


def _clean_name(name: str) -> str:
    return " ".join((name or "").split())


def _checked_name(session: Session, name: str, team: Team | None) -> str:
    cleaned = _clean_name(name)
    if not cleaned:
        raise TeamError("De teamnaam is leeg: typ een naam, bijvoorbeeld de stad of de organisatie.")
    if len(cleaned) > MAX_TEAM_NAME_LENGTH:
        raise TeamError(f"De teamnaam is {len(cleaned)} tekens lang: gebruik hoogstens {MAX_TEAM_NAME_LENGTH} tekens.")
    other = find_team(session, cleaned)
    if other is not None and (team is None or other.id != team.id):
        raise TeamError(f"Er bestaat al een team „{other.name}”: kies een andere naam.")
    return cleaned
