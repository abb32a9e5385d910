"""Core inserts that a batch collects and writes with one statement per table.

Ingestion without savepoints (helpdesk.ingest.pipeline) completes each mail
of a batch in turn, and the knowledge-base step adds a few rows for each.
One INSERT per mail costs a round trip to PostgreSQL and a statement
execution each, so inside `deferring_inserts` the rows wait and go out
together when the block ends: one executemany per table, or on PostgreSQL
one COPY. Outside it, `insert_rows` inserts at once.

Code that reads a table with deferred rows must call `write_deferred_rows`
first, and code that deletes rows must also call `discard_rows`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Table, insert
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
    if session.autoflush:
        # As session.execute would, because the rows may refer to pending ones.
        session.flush()
    connection = session.connection()
    copy = connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg"
    for table, rows in list(deferred.items()):
        del deferred[table]
        if not rows:
            continue
        if copy:
            _copy_rows(connection, table, rows)
        else:
            connection.execute(insert(table), rows)


def _copy_rows(connection: Connection, table: Table, rows: list[dict]) -> None:
    """Insert `rows` with COPY, converting each value as an INSERT through SQLAlchemy would.

    psycopg sends an executemany as one statement execution per row, so COPY
    costs the server and the client less per row. Rows must have the same
    keys, as for an executemany. The other columns get their Python-side
    defaults, or the database's.
    """
    dialect = connection.dialect
    keys = list(rows[0])
    defaults = {
        column.key: column.default
        for column in table.columns
        if column.key not in keys and column.default is not None and (column.default.is_scalar or column.default.is_callable)
    }
    columns = [table.c[key] for key in [*keys, *defaults]]
    processors = [column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns]
    names = ", ".join(dialect.identifier_preparer.quote(column.name) for column in columns)

    cursor = connection.connection.driver_connection.cursor()
    with cursor, cursor.copy(f"COPY {dialect.identifier_preparer.format_table(table)} ({names}) FROM STDIN") as copy:
        for row in rows:
            values = [row[key] for key in keys]
            # NOTE: a callable default gets None as its execution context here, so one that reads it fails.
            values += [default.arg if default.is_scalar else default.arg(None) for default in defaults.values()]
            copy.write_row([value if process is None else process(value) for process, value in zip(processors, values)])


@contextmanager
def deferring_inserts(session: Session) -> Iterator[None]:
    """Defer the inserts of `insert_rows` until the block ends without an error; an error drops them."""
    session.info[_KEY] = {}
    try:
        yield
        write_deferred_rows(session)
    finally:
        session.info.pop(_KEY, None)
