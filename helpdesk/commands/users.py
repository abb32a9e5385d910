"""Commands that manage staff accounts."""

from __future__ import annotations

import sys

import click

from helpdesk.accounts import services
from helpdesk.accounts.models import Role
from helpdesk.accounts.services import AccountError
from helpdesk.cli import get_settings, main
from helpdesk.db import session_scope


@main.group("user")
def user_group() -> None:
    """Manage staff accounts."""


def _read_password(from_stdin: bool) -> str:
    """Read a password from standard input or, on a terminal, prompt for it twice."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise click.UsageError("--password-stdin was given but standard input was empty: write the password to it.")
        return password
    if not sys.stdin.isatty():
        raise click.UsageError(
            "No password given and standard input is not a terminal: "
            "pass --password-stdin and write the password to standard input."
        )
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@user_group.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.AGENT.value,
    show_default=True,
    help="agent answers tickets, editor also manages the FAQ, admin also manages users.",
)
@click.option("--name", "display_name", default="", help="Name shown to other staff.")
@click.option("--language", type=click.Choice(services.LANGUAGES), default="nl", show_default=True, help="Language of the screens.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def create(email: str, role: str, display_name: str, language: str, password_stdin: bool) -> None:
    """Create a staff account for EMAIL."""
    password = _read_password(password_stdin)
    try:
        with session_scope(get_settings()) as session:
            user = services.create_user(session, email, password, role, display_name, language)
            services.audit(session, None, "settings", "user", user.id, detail={"change": "user_created", "via": "cli"})
            user_id = user.id
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created user {user_id} with role {role}.")


@user_group.command("reset-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the new password from the first line of standard input.")
def reset_password(email: str, password_stdin: bool) -> None:
    """Set a new password for EMAIL and lift a lockout."""
    with session_scope(get_settings()) as session:
        user = services.find_user(session, email)
        if user is None:
            raise click.ClickException(f"No account for {email.strip()}: check the address or create it with `helpdesk user create`.")
        password = _read_password(password_stdin)
        try:
            services.set_password(session, user, password)
        except AccountError as error:
            raise click.ClickException(str(error)) from None
        services.audit(session, None, "settings", "user", user.id, detail={"change": "password_reset", "via": "cli"})
    click.echo("Password changed.")
