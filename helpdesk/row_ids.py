"""Primary keys for new rows chosen before a flush, so that each table gets one executemany instead of one INSERT per row.

To learn the ids that the database generates, the ORM must insert with
RETURNING: on SQLite one `INSERT ... RETURNING` per row, because SQLite
does not say which generated id belongs to which row of a multi-row insert,
and on PostgreSQL one multi-row `INSERT ... RETURNING` statement per batch
of rows, whose placeholders psycopg parses again for every statement
(about a third of the polling process's CPU time in one profiled ingest
into PostgreSQL). When the ids are known beforehand, the ORM sends each table's
rows in one executemany of a single short statement. A batch of ingested
mail inserts four or five rows per mail, so this saves most of that work.

On SQLite the ids are those SQLite would choose: one above the table's
highest id, in the order the rows were added. That is only safe while no
other connection can insert in between, so the caller's transaction must
already hold SQLite's write lock (it has written), which lasts until its
commit. On PostgreSQL the ids come from the column's sequence, which other
transactions share safely. Other databases are left alone.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Integer, func, inspect, select
from sqlalchemy.orm import Session


def assign_row_ids(session: Session) -> None:
    """Give the session's pending rows their ids, on SQLite inside a transaction that has written."""
    dialect = session.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):
        return

    pending: dict[type, list[object]] = {}
    for instance in session.new:
        attribute = _generated_key_attribute(type(instance))
        if attribute is not None and getattr(instance, attribute) is None:
            pending.setdefault(type(instance), []).append(instance)

    for model, instances in pending.items():
        attribute = _generated_key_attribute(model)
        # The ORM inserts in the order the rows were added, and the database would number them in that order.
        instances.sort(key=lambda instance: inspect(instance).insert_order)
        with session.no_autoflush:
            if dialect == "sqlite":
                highest = session.scalar(select(func.max(getattr(model, attribute)))) or 0
                ids = range(highest + 1, highest + 1 + len(instances))
            else:
                ids = _sequence_ids(session, model, attribute, len(instances))
        for instance, row_id in zip(instances, ids):
            setattr(instance, attribute, row_id)


def _sequence_ids(session: Session, model: type, attribute: str, count: int) -> list[int]:
    """Return `count` new ids from the sequence of the key column, or none when the column has no sequence."""
    column = inspect(model).get_property(attribute).columns[0]
    sequence = func.pg_get_serial_sequence(column.table.name, column.name)
    ids = session.scalars(select(func.nextval(sequence)).select_from(func.generate_series(1, count))).all()
    if None in ids:
        return []
    return sorted(ids)


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
