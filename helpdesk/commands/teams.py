"""`helpdesk team`: teams, their members, mailbox routes and reply addresses from the command line, for set-up scripts.

The same changes as the admin page "Teams en mailboxen", audit-logged
without a user. Mailboxes are named by their HELPDESK_MAILBOX_URL entry or
by the key that `helpdesk team list` shows; passwords are never stored.
"""

from __future__ import annotations

import click

from helpdesk.accounts.services import find_user
from helpdesk.cli import get_settings, main
from helpdesk.db import session_scope
from helpdesk.teams import services
from helpdesk.teams.services import TeamError


@main.group("team")
def team_group() -> None:
    """Manage teams, their members and the mailboxes routed to them."""


def _team(session, name: str):
    team = services.find_team(session, name)
    if team is None:
        raise click.ClickException(f"Team {name!r} does not exist: create it with `helpdesk team create`.")
    return team


@team_group.command("list")
def list_command() -> None:
    """Show every team with its members, and every mailbox with its team."""
    settings = get_settings()
    with session_scope(settings) as session:
        teams = services.all_teams(session)
        names = {team.id: team.name for team in teams}
        for team in teams:
            members = ", ".join(member.email for member in team.members) or "-"
            click.echo(f"team {team.name}: {members}")
        for choice in services.mailbox_choices(session, settings):
            line = f"mailbox {choice.key} -> {names.get(choice.team_id, '(no team)')}"
            if choice.reply_address:
                line += f", replies from {_sender(choice.reply_address, choice.reply_name)}"
            click.echo(line)


@team_group.command("create")
@click.argument("name")
@click.option("--if-missing", is_flag=True, help="Do nothing when a team with this name exists, so that set-up scripts can run again.")
def create_command(name: str, if_missing: bool) -> None:
    """Create the team NAME."""
    with session_scope(get_settings()) as session:
        if if_missing and services.find_team(session, name) is not None:
            click.echo(f"Team {name!r} exists.")
            return
        try:
            team = services.create_team(session, name, None)
        except TeamError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Created team {team.id} {team.name!r}.")


@team_group.command("add-member")
@click.argument("name")
@click.argument("emails", nargs=-1, required=True)
def add_member_command(name: str, emails: tuple[str, ...]) -> None:
    """Add the staff accounts EMAILS to the team NAME."""
    with session_scope(get_settings()) as session:
        team = _team(session, name)
        user_ids = [member.id for member in team.members]
        for email in emails:
            user = find_user(session, email)
            if user is None:
                raise click.ClickException(f"No staff account {email!r}: create it with `helpdesk user create`.")
            user_ids.append(user.id)
        services.set_members(session, team, user_ids, None)
    click.echo(f"Team {name!r} has {len(set(user_ids))} members.")


@team_group.command("remove-member")
@click.argument("name")
@click.argument("emails", nargs=-1, required=True)
def remove_member_command(name: str, emails: tuple[str, ...]) -> None:
    """Remove the staff accounts EMAILS from the team NAME."""
    with session_scope(get_settings()) as session:
        team = _team(session, name)
        removed = {user.id for email in emails if (user := find_user(session, email)) is not None}
        services.set_members(session, team, [member.id for member in team.members if member.id not in removed], None)
    click.echo(f"Removed {len(removed)} members from team {name!r}.")


@team_group.command("route")
@click.argument("mailbox")
@click.argument("name", required=False)
@click.option(
    "--reply-address",
    help="Address that replies on this mailbox's tickets come from, usually the mailbox's own address. An empty value restores HELPDESK_FROM_ADDRESS.",
)
@click.option("--reply-name", help="Display name with the reply address. Empty or left out: HELPDESK_FROM_NAME.")
def route_command(mailbox: str, name: str | None, reply_address: str | None, reply_name: str | None) -> None:
    """Send new tickets of MAILBOX to the team NAME, and set the address that replies come from.

    MAILBOX is an entry of HELPDESK_MAILBOX_URL or the key that `helpdesk team list` shows.
    Without NAME the mailbox gets no team, unless --reply-address is given:
    then only the reply address and name change.
    """
    with session_scope(get_settings()) as session:
        try:
            key = services.route_key(mailbox)
            if reply_address is not None:
                services.set_reply_address(session, key, reply_address, reply_name, None)
            elif reply_name is not None:
                raise click.UsageError("--reply-name needs --reply-address: give the address that goes with the name.")
            if name or reply_address is None:
                services.route_mailbox(session, key, _team(session, name) if name else None, None)
        except TeamError as error:
            raise click.ClickException(str(error)) from None

    if name or reply_address is None:
        click.echo(f"New tickets of {key} go to {repr(name) if name else 'no team'}.")
    if reply_address is not None:
        sender = _sender(reply_address.strip(), reply_name) if reply_address.strip() else "HELPDESK_FROM_ADDRESS"
        click.echo(f"Replies on tickets of {key} come from {sender}.")


def _sender(address: str, name: str | None) -> str:
    name = " ".join((name or "").split())
    return f"{name} <{address}>" if name else address
