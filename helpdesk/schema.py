"""Database schema management through Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from helpdesk.config import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Bring the database schema up to `revision` (default: the newest)."""
    command.upgrade(alembic_config(settings), revision)


def make_revision(settings: Settings, message: str) -> None:
    """Write a new migration by comparing the models with the database (developers only)."""
    command.revision(alembic_config(settings), message=message, autogenerate=True)
