"""Database schema management through Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from helpdesk.config import ConfigError, Settings
from helpdesk.db import get_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Bring the database schema up to `revision` (default: the newest)."""
    require_utf8(settings)
    command.upgrade(alembic_config(settings), revision)


def require_utf8(settings: Settings) -> None:
    """Raise ConfigError when the PostgreSQL database does not store text as UTF-8.

    Client mail can contain any character, and the search documents of
    migration 0007 fold letters that a single-byte encoding cannot hold.
    """
    if not settings.database_url.startswith("postgresql"):
        return
    with get_engine(settings.database_url).connect() as connection:
        encoding = connection.execute(text("SHOW server_encoding")).scalar()
    if encoding != "UTF8":
        raise ConfigError(
            f"The PostgreSQL database in HELPDESK_DATABASE_URL has encoding {encoding}, but the helpdesk needs UTF8: "
            "create it with `createdb --encoding UTF8 --template template0` (see docs/deployment.md)."
        )


def make_revision(settings: Settings, message: str) -> None:
    """Write a new migration by comparing the models with the database (developers only)."""
    command.revision(alembic_config(settings), message=message, autogenerate=True)
