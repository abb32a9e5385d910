"""Ids chosen before a flush (helpdesk.row_ids)."""

from __future__ import annotations

from sqlalchemy import update

from helpdesk.db import session_factory, session_scope
from helpdesk.ingest.models import MailboxState
from helpdesk.row_ids import assign_row_ids
from helpdesk.tickets.models import Ticket, TicketEvent


def test_new_rows_numbered_in_order(settings, backend):
    with session_scope(settings) as session:
        session.add_all([Ticket(subject="bestaand"), Ticket(subject="verwijderd")])
    with session_scope(settings) as session:
        session.delete(session.get(Ticket, 2))

    with session_factory(settings)() as session:
        # A write first, as ingest_batch does, so that SQLite's write lock is held.
        session.add(MailboxState(mailbox="box", folder="INBOX"))
        session.flush()
        tickets = [Ticket(subject=f"nieuw {number}") for number in range(3)]
        session.add_all(tickets)
        session.add(TicketEvent(ticket_id=1, kind="created", detail={}))
        assign_row_ids(session)

        if backend == "sqlite":
            # The highest id was deleted, and SQLite would reuse it.
            assert [ticket.id for ticket in tickets] == [2, 3, 4]
        else:
            # PostgreSQL's sequence never hands out an id twice.
            assert [ticket.id for ticket in tickets] == [3, 4, 5]
        session.commit()

    with session_scope(settings) as session:
        subjects = [ticket.subject for ticket in session.query(Ticket).order_by(Ticket.id)]
        events = session.query(TicketEvent).all()
    assert subjects == ["bestaand", "nieuw 0", "nieuw 1", "nieuw 2"]
    assert [event.ticket_id for event in events] == [1]


def test_rows_with_an_id_keep_it(settings):
    with session_factory(settings)() as session:
        session.execute(update(Ticket).values(subject=""))  # opens the write transaction
        ticket = Ticket(id=40, subject="gekozen")
        session.add(ticket)
        assign_row_ids(session)
        assert ticket.id == 40
        session.commit()
