"""Commands that manage the database schema and keys."""

from __future__ import annotations

import click

from helpdesk import schema
from helpdesk.cli import get_settings, main
from helpdesk.crypto import generate_key


@main.group("db")
def db_group() -> None:
    """Manage the database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Alembic revision to upgrade to.")
def db_upgrade(revision: str) -> None:
    """Create or update the tables to the newest schema."""
    schema.upgrade(get_settings(), revision)
    click.echo("Database schema is up to date.")


@main.command("keygen")
def keygen() -> None:
    """Print a new key for HELPDESK_ENCRYPTION_KEY."""
    click.echo(generate_key())
