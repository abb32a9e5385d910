"""The ticket queue: filters, full-text search, sorting and pagination in a fixed number of queries.

One page costs three queries whatever its size: the rows (with the assignee's
name joined in), the total count and nothing per row. Search uses PostgreSQL
full-text search over the redacted subject and text of every message, backed
by the GIN index `ix_messages_search`, and LIKE on SQLite.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import Optional

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, text
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.db import utcnow
from helpdesk.teams.access import TEAM_FILTERS
from helpdesk.tickets.models import DeliveryState, Direction, Message, Ticket, TicketStatus, message_search_document

PAGE_SIZE = 25
MAX_SEARCH_WORDS = 8
MAX_AGE_DAYS = 3650
UNASSIGNED = "none"

# Sort keys offered to staff, mapped to the column they order by.
SORT_COLUMNS = {
    "id": Ticket.id,
    "urgent": Ticket.urgent,
    "status": Ticket.status,
    "subject": Ticket.subject,
    "theme": Ticket.theme,
    "language": Ticket.language,
    "created": Ticket.created_at,
    "last_message": Ticket.last_message_at,
}

_WORD = re.compile(r"\w+", re.UNICODE)
_TICKET_NUMBER = re.compile(r"^#?(\d{1,18})$")


class QueueQueryError(ValueError):
    """A filter value in the queue URL is invalid; the message names it and the accepted values."""


@dataclass(frozen=True)
class QueueQuery:
    """The filters, search, sort order and page that staff requested. Empty fields filter nothing."""

    status: Optional[TicketStatus] = None
    theme: Optional[str] = None
    language: Optional[str] = None
    assignee: Optional[int | str] = None  # a user id, or UNASSIGNED
    older_than_days: Optional[int] = None  # created more than this many days ago
    urgent: bool = False
    delivery_problem: bool = False  # only tickets with a failed or bounced reply
    # helpdesk.teams.access.queue_scope turns this into a condition, because "mine" depends on the user.
    team: Optional[str] = None
    search: str = ""
    sort: Optional[str] = None  # None: urgent first, then the longest waiting
    descending: bool = False
    page: int = 1

    def with_changes(self, **changes) -> "QueueQuery":
        return replace(self, **changes)


@dataclass(frozen=True)
class QueueRow:
    id: int
    subject: str
    status: TicketStatus
    urgent: bool
    theme: Optional[str]
    language: Optional[str]
    assignee_id: Optional[int]
    assignee_name: Optional[str]
    created_at: dt.datetime
    last_message_at: dt.datetime
    delivery_problem: bool  # a reply failed or bounced


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int
    page_size: int = PAGE_SIZE
    query: QueueQuery = field(default_factory=QueueQuery)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def parse_query(args: dict[str, str]) -> QueueQuery:
    """Build a QueueQuery from URL parameters; raise QueueQueryError for an invalid value."""
    status = args.get("status") or None
    if status is not None:
        try:
            status = TicketStatus(status)
        except ValueError:
            choices = ", ".join(member.value for member in TicketStatus)
            raise QueueQueryError(f"Status {status!r} bestaat niet: kies {choices}.") from None

    assignee: int | str | None = args.get("assignee") or None
    if assignee is not None and assignee != UNASSIGNED:
        if not assignee.isdigit():
            raise QueueQueryError(f"Toegewezen aan {assignee!r} is geen gebruikersnummer: kies een naam uit de lijst.")
        assignee = int(assignee)

    team = (args.get("team") or "").strip() or None
    if team is not None and team not in TEAM_FILTERS and not team.isdigit():
        raise QueueQueryError(f"Team {team!r} bestaat niet: kies een team uit de lijst.")

    sort = args.get("sort") or None
    if sort is not None and sort not in SORT_COLUMNS:
        raise QueueQueryError(f"Sorteren op {sort!r} kan niet: kies {', '.join(SORT_COLUMNS)}.")

    return QueueQuery(
        status=status,
        theme=(args.get("theme") or "").strip() or None,
        language=(args.get("language") or "").strip() or None,
        assignee=assignee,
        older_than_days=_whole_number(args, "older_than", "Ouder dan (dagen)", 0, MAX_AGE_DAYS),
        urgent=args.get("urgent") in {"1", "y", "on", "true"},
        delivery_problem=args.get("delivery_problem") in {"1", "y", "on", "true"},
        team=team,
        search=(args.get("search") or "").strip()[:200],
        sort=sort,
        descending=args.get("desc") == "1",
        page=_whole_number(args, "page", "Pagina", 1, 1_000_000) or 1,
    )


def _whole_number(args: dict[str, str], name: str, label: str, minimum: int, maximum: int) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not minimum <= int(raw) <= maximum:
        raise QueueQueryError(f"{label} {raw!r} is ongeldig: geef een geheel getal van {minimum} tot {maximum}.")
    return int(raw)


def search_words(search: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(search)][:MAX_SEARCH_WORDS]


def search_condition(session: Session, search: str) -> ColumnElement[bool] | None:
    """Return the condition that a ticket matches `search`, or None for an empty search.

    Every word must occur in one message of the ticket (subject or text), as a
    word prefix on PostgreSQL and as a substring on SQLite. A search for "123"
    also finds ticket 123, and "#123" finds only that ticket.
    """
    words = search_words(search)
    if not words:
        return None

    if session.get_bind().dialect.name == "postgresql":
        # Words are \w+ runs, so they cannot carry tsquery operators.
        tsquery = func.to_tsquery(text("'simple'"), " & ".join(f"{word}:*" for word in words))
        in_message = message_search_document().op("@@")(tsquery)
    else:
        in_message = and_(*(or_(Message.subject.ilike(_like(word), escape="\\"), Message.body.ilike(_like(word), escape="\\")) for word in words))
    # NOTE: PostgreSQL picks between walking the queue order and looking the
    # words up in the GIN index from the statistics that ANALYZE (autovacuum)
    # keeps on the index expression. Without them it may walk the whole queue
    # for a word that occurs nowhere, which takes seconds on 100,000 tickets.
    condition = exists(select(Message.id).where(Message.ticket_id == Ticket.id, in_message))

    number = _TICKET_NUMBER.match(search.strip())
    if number and search.strip().startswith("#"):
        return Ticket.id == int(number.group(1))  # "#123" is a ticket reference, never text
    if number:
        condition = or_(Ticket.id == int(number.group(1)), condition)
    return condition


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(session: Session, query: QueueQuery, now: dt.datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.status is not None:
        conditions.append(Ticket.status == query.status)
    if query.theme:
        conditions.append(Ticket.theme == query.theme)
    if query.language:
        conditions.append(Ticket.language == query.language)
    if query.assignee == UNASSIGNED:
        conditions.append(Ticket.assignee_id.is_(None))
    elif query.assignee is not None:
        conditions.append(Ticket.assignee_id == query.assignee)
    if query.older_than_days is not None:
        conditions.append(Ticket.created_at < now - dt.timedelta(days=query.older_than_days))
    if query.urgent:
        conditions.append(Ticket.urgent.is_(True))
    if query.delivery_problem:
        conditions.append(_delivery_problem())
    matched = search_condition(session, query.search)
    if matched is not None:
        conditions.append(matched)
    elif query.search:
        conditions.append(false())  # only punctuation: nothing can match
    return conditions


def _delivery_problem() -> ColumnElement[bool]:
    """Return the condition that a reply on the ticket failed or bounced."""
    return exists(
        select(Message.id).where(
            Message.ticket_id == Ticket.id,
            Message.direction == Direction.OUTBOUND,
            Message.delivery_state.in_([DeliveryState.FAILED, DeliveryState.BOUNCED]),
        )
    )


def _order(query: QueueQuery) -> list:
    if query.sort is None:
        return [Ticket.urgent.desc(), Ticket.last_message_at.asc(), Ticket.id.asc()]
    column = SORT_COLUMNS[query.sort]
    direction = column.desc() if query.descending else column.asc()
    return [direction, Ticket.id.desc() if query.descending else Ticket.id.asc()]


def _rows_query(conditions: list[ColumnElement[bool]], query: QueueQuery, page: int):
    return (
        select(
            Ticket.id,
            Ticket.subject,
            Ticket.status,
            Ticket.urgent,
            Ticket.theme,
            Ticket.language,
            Ticket.assignee_id,
            func.coalesce(func.nullif(User.display_name, ""), User.email).label("assignee_name"),
            Ticket.created_at,
            Ticket.last_message_at,
            _delivery_problem().label("delivery_problem"),
        )
        .outerjoin(User, User.id == Ticket.assignee_id)
        .where(*conditions)
        .order_by(*_order(query))
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )


def _count(session: Session, conditions: list[ColumnElement[bool]]) -> int:
    return session.scalar(select(func.count()).select_from(Ticket).where(*conditions)) or 0


def queue_page(
    session: Session, query: QueueQuery, now: dt.datetime | None = None, scope: ColumnElement[bool] | None = None
) -> QueuePage:
    """Return one page of tickets that match `query` and `scope` (the tickets the user may see), and the total number of matches."""
    now = now or utcnow()
    conditions = _conditions(session, query, now)
    if scope is not None:
        conditions.append(scope)

    total = _count(session, conditions)
    page = _last_page(total, query.page)
    rows = session.execute(_rows_query(conditions, query, page)).all()

    return QueuePage(rows=[QueueRow(**row._mapping) for row in rows], total=total, page=page, query=query.with_changes(page=page))


def _last_page(total: int, requested: int) -> int:
    """Return the requested page, moved into the range of pages that `total` rows fill."""
    return min(max(requested, 1), max(1, -(-total // PAGE_SIZE)))


# A loose index scan: one index probe per distinct theme instead of reading
# every ticket, which matters with 100,000 tickets and a dozen themes.
_DISTINCT_THEMES = text(
    """
    WITH RECURSIVE themes(theme) AS (
        SELECT min(theme) FROM tickets
        UNION ALL
        SELECT (SELECT min(theme) FROM tickets WHERE theme > themes.theme) FROM themes WHERE themes.theme IS NOT NULL
    )
    SELECT theme FROM themes WHERE theme IS NOT NULL
    """
)


def ticket_themes(session: Session) -> list[str]:
    """Return the themes that tickets have, sorted."""
    return list(session.scalars(_DISTINCT_THEMES))
