"""Primary keys for new rows chosen before a flush, so that SQLite gets one INSERT per table instead of one per row.

To learn the ids that SQLite generates, the ORM must insert each row with
its own `INSERT ... RETURNING`: SQLite does not say which generated id
belongs to which row of a multi-row insert. When the ids are known
beforehand, the ORM sends each table's rows in one executemany. A batch of
ingested mail inserts four or five rows per mail, so this saves most of its
statements.

The ids are those SQLite would choose: one above the table's highest id, in
the order the rows were added. That is only safe while no other connection
can insert in between, so the caller's transaction must already hold
SQLite's write lock (it has written), which lasts until its commit.
PostgreSQL and other databases already batch such inserts and are left alone.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Integer, func, inspect, select
from sqlalchemy.orm import Session


def assign_row_ids(session: Session) -> None:
    """Give the session's pending rows their ids, on SQLite inside a transaction that has written."""
    if session.get_bind().dialect.name != "sqlite":
        return

    pending: dict[type, list[object]] = {}
    for instance in session.new:
        attribute = _generated_key_attribute(type(instance))
        if attribute is not None and getattr(instance, attribute) is None:
            pending.setdefault(type(instance), []).append(instance)

    for model, instances in pending.items():
        attribute = _generated_key_attribute(model)
        with session.no_autoflush:
            highest = session.scalar(select(func.max(getattr(model, attribute)))) or 0
        # The ORM inserts in the order the rows were added, and SQLite would number them in that order.
        instances.sort(key=lambda instance: inspect(instance).insert_order)
        for offset, instance in enumerate(instances, start=1):
            setattr(instance, attribute, highest + offset)


@lru_cache(maxsize=None)
def _generated_key_attribute(model: type) -> str | None:
    """Return the attribute of the model's single integer primary key that the database numbers, or None."""
    mapper = inspect(model)
    if len(mapper.primary_key) != 1:
        return None
    column = mapper.primary_key[0]
    if not isinstance(column.type, Integer) or column.autoincrement not in (True, "auto"):
        return None
    return mapper.get_property_by_column(column).key
