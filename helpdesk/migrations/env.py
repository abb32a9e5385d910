"""Alembic environment: runs migrations on the URL that helpdesk.schema passes in."""

from __future__ import annotations

from alembic import context

import helpdesk.models  # noqa: F401  (registers the core tables)
from helpdesk.db import Base, get_engine
from helpdesk.plugins import get_registry

get_registry()  # plugins register their tables on Base.metadata when loaded

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    connectable = config.attributes.get("connection") or get_engine(url)

    def run(connection) -> None:
        foreign_keys_paused = connection.dialect.name == "sqlite" and not connection.in_transaction()
        if foreign_keys_paused:
            # A batch migration copies a table and drops the old one. With
            # foreign keys on, SQLite deletes the old rows first and fires the
            # ON DELETE actions of every table that refers to them (cascades
            # delete messages, SET NULL clears assignees). The pragma is
            # ignored inside a transaction, so it is set before one begins.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        if foreign_keys_paused:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()

    if hasattr(connectable, "connect"):
        with connectable.connect() as connection:
            run(connection)
    else:
        run(connectable)


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations()
