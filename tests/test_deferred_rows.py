import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, event, select
from sqlalchemy.orm import Session

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
