import datetime as dt

import pytest
from sqlalchemy import JSON, Boolean, Column, DateTime, Integer, MetaData, String, Table, create_engine, event, select
from sqlalchemy.orm import Session

from helpdesk.db import as_utc, utcnow
from helpdesk.deferred_rows import deferring_inserts, discard_rows, insert_rows, write_deferred_rows

metadata = MetaData()
notes = Table("notes", metadata, Column("id", Integer, primary_key=True), Column("ticket_id", Integer), Column("text", String))


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with Session(engine) as session:
        yield session


@pytest.fixture
def inserts(session):
    executed: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT"):
            executed.append(statement)

    event.listen(session.get_bind(), "before_cursor_execute", record)
    return executed


def texts(session) -> list[str]:
    return list(session.scalars(select(notes.c.text).order_by(notes.c.id)))


def test_insert_without_block_is_immediate(session):
    insert_rows(session, notes, [{"ticket_id": 1, "text": "a"}])

    assert texts(session) == ["a"]


def test_block_writes_one_statement(session, inserts):
    with deferring_inserts(session):
        insert_rows(session, notes, [{"ticket_id": 1, "text": "a"}])
        insert_rows(session, notes, [{"ticket_id": 2, "text": "b"}, {"ticket_id": 2, "text": "c"}])
        assert texts(session) == []

    assert texts(session) == ["a", "b", "c"]
    assert len(inserts) == 1


def test_discard_drops_matching_rows(session):
    with deferring_inserts(session):
        insert_rows(session, notes, [{"ticket_id": 1, "text": "old"}, {"ticket_id": 2, "text": "other"}])
        discard_rows(session, notes, "ticket_id", 1)
        insert_rows(session, notes, [{"ticket_id": 1, "text": "new"}])

    assert texts(session) == ["other", "new"]


def test_write_before_read_keeps_order(session):
    with deferring_inserts(session):
        insert_rows(session, notes, [{"ticket_id": 1, "text": "a"}])
        write_deferred_rows(session)
        assert texts(session) == ["a"]
        insert_rows(session, notes, [{"ticket_id": 1, "text": "b"}])

    assert texts(session) == ["a", "b"]


def test_error_drops_deferred_rows(session):
    with pytest.raises(RuntimeError):
        with deferring_inserts(session):
            insert_rows(session, notes, [{"ticket_id": 1, "text": "a"}])
            raise RuntimeError("step failed")

    insert_rows(session, notes, [{"ticket_id": 1, "text": "b"}])
    assert texts(session) == ["b"]


events = Table(
    "copied_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer),
    Column("kind", String, default="created"),
    Column("detail", JSON, default=dict),
    Column("flag", Boolean),
    Column("created_at", DateTime(timezone=True), default=utcnow),
)


def test_deferred_rows_match_inserts(database_url):
    """On PostgreSQL the deferred rows go out with COPY, which must store what an INSERT stores."""
    engine = create_engine(database_url)
    metadata.create_all(engine)
    moment = dt.datetime(2026, 3, 1, 12, 30, tzinfo=dt.timezone.utc)
    rows = [
        {"ticket_id": 1, "detail": {"message_id": 7, "tekst": "één"}, "flag": True, "created_at": moment},
        # SQLAlchemy stores None in a JSON column as JSON null, not as SQL NULL.
        {"ticket_id": 2, "detail": None, "flag": None, "created_at": moment},
    ]
    try:
        with Session(engine) as session, session.begin():
            insert_rows(session, events, [dict(row) for row in rows])
            with deferring_inserts(session):
                insert_rows(session, events, [dict(row) for row in rows])
            # Rows of one table share their keys, as for an executemany.
            with deferring_inserts(session):
                insert_rows(session, events, [{"ticket_id": 3}])
        with Session(engine) as session:
            stored = session.execute(select(events).order_by(events.c.id)).all()
            sql_nulls = session.scalars(select(events.c.id).where(events.c.detail.is_(None))).all()
    finally:
        engine.dispose()

    inserted = [row_values(row) for row in stored[:2]]
    deferred = [row_values(row) for row in stored[2:4]]
    defaults = stored[4]
    assert deferred == inserted
    assert sql_nulls == []
    assert inserted[0] == (1, "created", {"message_id": 7, "tekst": "één"}, True, moment)
    assert defaults.kind == "created"
    assert defaults.detail == {}
    assert defaults.flag is None
    assert abs(as_utc(defaults.created_at) - utcnow()) < dt.timedelta(minutes=5)


def row_values(row) -> tuple:
    # SQLite returns datetimes without their zone, and the helpdesk stores UTC.
    return (row.ticket_id, row.kind, row.detail, row.flag, as_utc(row.created_at))
