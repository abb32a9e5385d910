"""Finding the ticket that an incoming mail continues.

Order: In-Reply-To, then References (newest first), then a "[#1234]" ticket
reference in the subject. Client mail joins a ticket only when its sender is
the ticket's client, compared by keyed address hash. A subject reference is
easy to type, and a friend who replies to a forwarded answer carries its
Message-ID, so otherwise a stranger's question would land on a client's
ticket and the next answer would go to that client.

Automatic mail (out-of-office replies, delivery reports) still follows the
headers from any sender, because it never reopens a ticket or gets an answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.mail.message import ParsedMessage
from helpdesk.tickets.models import Message, Ticket

TICKET_REFERENCE = re.compile(r"\[#(\d{1,9})\]")

# Bounds the lookup for mail with hundreds of References.
MAX_THREAD_IDS = 100

# Merged tickets form short chains; a longer one is a loop.
MAX_MERGE_HOPS = 10


def follow_merges(session: Session, ticket: Ticket) -> Ticket:
    """Return the ticket that `ticket` was merged into, following chains of merges."""
    seen = {ticket.id}
    for _ in range(MAX_MERGE_HOPS):
        if ticket.merged_into_id is None:
            return ticket
        target = session.get(Ticket, ticket.merged_into_id)
        if target is None or target.id in seen:
            return ticket
        seen.add(target.id)
        ticket = target
    return ticket


def ticket_by_headers(
    session: Session, parsed: ParsedMessage, pending: Mapping[str, Ticket] | None = None
) -> Ticket | None:
    """Return the ticket of the earliest-listed In-Reply-To or References id that is stored.

    `pending` maps the Message-IDs of inbound mail that the session contains
    but has not flushed to their tickets. Those count as stored and as the newest.
    """
    thread_ids = parsed.thread_ids[:MAX_THREAD_IDS]
    pending = pending or {}
    # An id listed after a pending one cannot win, so only the ids before it are looked up.
    first_pending = next((message_id for message_id in thread_ids if message_id in pending), None)
    stored_ids = thread_ids[:thread_ids.index(first_pending)] if first_pending is not None else thread_ids

    if stored_ids:
        rows = session.execute(
            select(Message.message_id, Message.ticket_id)
            .where(Message.message_id.in_(stored_ids))
            .order_by(Message.id.desc())
        ).all()
        ticket_by_message_id: dict[str, int] = {}
        for message_id, ticket_id in rows:
            ticket_by_message_id.setdefault(message_id, ticket_id)
        for message_id in stored_ids:
            if message_id in ticket_by_message_id:
                return session.get(Ticket, ticket_by_message_id[message_id])

    return pending[first_pending] if first_pending is not None else None


def ticket_by_subject(session: Session, subject: str, sender_hash: str | None) -> Ticket | None:
    """Return the ticket named by a "[#1234]" reference whose client sent this mail."""
    if not sender_hash:
        return None
    for match in TICKET_REFERENCE.finditer(subject):
        ticket = session.get(Ticket, int(match.group(1)))
        if ticket is not None and ticket.sender_hash == sender_hash:
            return ticket
    return None


def find_ticket(
    session: Session, parsed: ParsedMessage, sender_hash: str | None, pending: Mapping[str, Ticket] | None = None
) -> Ticket | None:
    """Return the existing ticket that automatic mail `parsed` concerns, from any sender, or None."""
    ticket = ticket_by_headers(session, parsed, pending) or ticket_by_subject(session, parsed.subject, sender_hash)
    if ticket is None:
        return None
    return follow_merges(session, ticket)


@dataclass(frozen=True)
class ClientThread:
    """The threading result for client mail: the `ticket` it continues, None for a new ticket.

    `other_sender_ticket` is the ticket that the mail's headers point at when
    its sender is not that ticket's client, so that staff can see the link.
    """

    ticket: Ticket | None
    other_sender_ticket: Ticket | None = None


def find_client_ticket(
    session: Session, parsed: ParsedMessage, sender_hash: str | None, pending: Mapping[str, Ticket] | None = None
) -> ClientThread:
    """Return the ticket that client mail `parsed` continues, only when its sender is that ticket's client.

    `pending` is as for ticket_by_headers.
    """
    by_headers = ticket_by_headers(session, parsed, pending)
    if by_headers is not None and sender_hash and by_headers.sender_hash == sender_hash:
        return ClientThread(follow_merges(session, by_headers))

    by_subject = ticket_by_subject(session, parsed.subject, sender_hash)
    if by_subject is not None:
        return ClientThread(follow_merges(session, by_subject))

    other = follow_merges(session, by_headers) if by_headers is not None else None
    return ClientThread(None, other)
