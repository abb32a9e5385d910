"""Core inserts that a batch collects and writes with one statement per table.

Ingestion without savepoints (helpdesk.ingest.pipeline) completes each mail
of a batch in turn, and the knowledge-base step adds a few rows for each.
One INSERT per mail costs a round trip to PostgreSQL and a statement
execution each, so inside `deferring_inserts` the rows wait and go out
together when the block ends. Outside it, `insert_rows` inserts at once.

Code that reads a table with deferred rows must call `write_deferred_rows`
first, and code that deletes rows must also call `discard_rows`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

_KEY = "helpdesk.deferred_rows"


def insert_rows(session: Session, table: Table, rows: list[dict]) -> None:
    """Insert `rows` into `table` now, or when the enclosing `deferring_inserts` block ends."""
    if not rows:
        return
    deferred: dict[Table, list[dict]] | None = session.info.get(_KEY)
    if deferred is None:
        session.execute(insert(table), rows)
        return
    deferred.setdefault(table, []).extend(rows)


def discard_rows(session: Session, table: Table, column: str, value: object) -> None:
    """Drop the deferred rows of `table` whose `column` equals `value`, as a DELETE would have removed them."""
    deferred: dict[Table, list[dict]] | None = session.info.get(_KEY)
    if deferred and table in deferred:
        deferred[table] = [row for row in deferred[table] if row[column] != value]


def write_deferred_rows(session: Session) -> None:
    """Insert every deferred row now, one statement per table."""
    deferred: dict[Table, list[dict]] | None = session.info.get(_KEY)
    if not deferred:
        return
    for table, rows in list(deferred.items()):
        del deferred[table]
        if rows:
            session.execute(insert(table), rows)


@contextmanager
def deferring_inserts(session: Session) -> Iterator[None]:
    """Defer the inserts of `insert_rows` until the block ends without an error; an error drops them."""
    session.info[_KEY] = {}
    try:
        yield
        write_deferred_rows(session)
    finally:
        session.info.pop(_KEY, None)
