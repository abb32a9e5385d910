"""The ticket queue: filters, full-text search, sorting and pagination in a fixed number of queries.

One page costs two queries whatever its size: the rows (with the assignee's
name joined in) and the count. Search uses PostgreSQL full-text search over
TicketSearchDocument, one stored vector per ticket of the redacted subjects
and texts of its messages, with the GIN index
`ix_ticket_search_documents_document`. On SQLite it uses LIKE over the
messages. Both compare accent-folded text (helpdesk.accents), so
"depistage" finds "dépistage". A search counts its matches only up to SEARCH_COUNT_LIMIT, so a
word that occurs in most tickets costs no more than a rare one.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import Optional

from sqlalchemy import ColumnElement, and_, exists, false, func, literal, or_, select, text
from sqlalchemy.orm import Session

from helpdesk.accents import SQLITE_FUNCTION, fold_accents
from helpdesk.accounts.models import User
from helpdesk.db import utcnow
from helpdesk.teams.access import TEAM_FILTERS
from helpdesk.tickets.models import DeliveryState, Direction, Message, Ticket, TicketSearchDocument, TicketStatus

PAGE_SIZE = 25
MAX_SEARCH_WORDS = 8
MAX_AGE_DAYS = 3650
UNASSIGNED = "none"
ASSIGNED_TO_ME = "me"  # the user who views the queue, so that "my tickets" is a link anyone can keep
MAX_ID = 2**31 - 1  # the largest PostgreSQL integer, the type of every id column
# A search shows at most this many tickets (40 pages) and shows "more than"
# beyond it, because counting every match of a common word reads most tickets.
SEARCH_COUNT_LIMIT = 1000

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
_TICKET_NUMBER = re.compile(r"^#?([0-9]+)$")
_DIGITS = re.compile(r"[0-9]+")  # str.isdigit() also accepts "²", which int() rejects


class QueueQueryError(ValueError):
    """A filter value in the queue URL is invalid; the message names it and the accepted values."""


@dataclass(frozen=True)
class QueueQuery:
    """The filters, search, sort order and page that staff requested. Empty fields filter nothing."""

    status: Optional[TicketStatus] = None
    theme: Optional[str] = None
    language: Optional[str] = None
    assignee: Optional[int | str] = None  # a user id, UNASSIGNED or ASSIGNED_TO_ME
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
    team_id: Optional[int]
    created_at: dt.datetime
    last_message_at: dt.datetime
    delivery_problem: bool  # a reply failed or bounced


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: int  # SEARCH_COUNT_LIMIT when `more` is set
    page: int
    more: bool = False  # the search matches more than SEARCH_COUNT_LIMIT tickets
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
    if assignee is not None and assignee not in (UNASSIGNED, ASSIGNED_TO_ME):
        if parse_id(assignee) is None:
            raise QueueQueryError(f"Toegewezen aan {assignee!r} is geen gebruikersnummer: kies een naam uit de lijst.")
        assignee = parse_id(assignee)

    team = (args.get("team") or "").strip() or None
    if team is not None and team not in TEAM_FILTERS and parse_id(team) is None:
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
        page=_page_number(args),
    )


def parse_id(raw: str) -> int | None:
    """Return `raw` as a row id, or None unless it is an ASCII number from 1 to MAX_ID."""
    if not _DIGITS.fullmatch(raw) or len(raw) > len(str(MAX_ID)):
        return None
    number = int(raw)
    return number if 1 <= number <= MAX_ID else None


def _whole_number(args: dict[str, str], name: str, label: str, minimum: int, maximum: int) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    # The length check keeps int() away from huge inputs, which it rejects above 4,300 digits.
    if not _DIGITS.fullmatch(raw) or len(raw) > len(str(maximum)) or not minimum <= int(raw) <= maximum:
        raise QueueQueryError(f"{label} {raw!r} is ongeldig: geef een geheel getal van {minimum} tot {maximum}.")
    return int(raw)


def _page_number(args: dict[str, str]) -> int:
    """Return the requested page. queue_page() moves a page past the end to the last page."""
    raw = (args.get("page") or "").strip()
    if not raw:
        return 1
    if not _DIGITS.fullmatch(raw):
        raise QueueQueryError(f"Pagina {raw!r} is ongeldig: geef een paginanummer vanaf 1.")
    if len(raw) > len(str(MAX_ID)):
        return MAX_ID
    return max(1, int(raw))


def search_words(search: str) -> list[str]:
    """Return the search's words folded like the searched text (helpdesk.accents.fold_accents)."""
    return [fold_accents(word) for word in _WORD.findall(search)][:MAX_SEARCH_WORDS]


def search_condition(session: Session, search: str) -> ColumnElement[bool] | None:
    """Return the condition that a ticket matches `search`, or None for an empty search.

    On PostgreSQL every word must occur in the ticket as a word prefix, in
    any of its messages (subject or text). On SQLite every word must occur as
    a substring in one message. A search for "123" also finds ticket 123, and
    "#123" finds only that ticket.
    """
    words = search_words(search)
    if not words:
        return None

    if session.get_bind().dialect.name == "postgresql":
        matches = TicketSearchDocument.document.op("@@")(_tsquery(words))
        condition = exists(select(TicketSearchDocument.ticket_id).where(TicketSearchDocument.ticket_id == Ticket.id, matches))
    else:
        # The folded text is in lower case, so LIKE needs no case folding of its own.
        folded_subject = getattr(func, SQLITE_FUNCTION)(Message.subject)
        folded_body = getattr(func, SQLITE_FUNCTION)(Message.body)
        in_message = and_(
            *(or_(folded_subject.like(_like(word), escape="\\"), folded_body.like(_like(word), escape="\\")) for word in words)
        )
        condition = exists(select(Message.id).where(Message.ticket_id == Ticket.id, in_message))

    number = _TICKET_NUMBER.match(search.strip())
    ticket_id = parse_id(number.group(1)) if number else None
    if number and search.strip().startswith("#"):
        # "#123" is a ticket reference, never text. A number past MAX_ID is no ticket.
        return Ticket.id == ticket_id if ticket_id is not None else false()
    if ticket_id is not None:
        condition = or_(Ticket.id == ticket_id, condition)
    return condition


def _tsquery(words: list[str]) -> ColumnElement:
    """Return the tsquery that matches tickets containing every word as a prefix.

    websearch_to_tsquery() has no prefix matching, so the query is written
    for to_tsquery(). Words are \\w+ runs and cannot carry tsquery operators.
    The query goes into the SQL text as a literal, not a bound parameter,
    because psycopg prepares a statement after five runs and PostgreSQL may
    then reuse one generic plan for every word. How many tickets a word
    matches decides between walking the queue order and reading the GIN
    index, and that estimate comes from the statistics ANALYZE (autovacuum
    in production) keeps on ticket_search_documents.
    """
    return func.to_tsquery(text("'simple'"), literal(" & ".join(f"{word}:*" for word in words), literal_execute=True))


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(
    session: Session, query: QueueQuery, now: dt.datetime, user_id: int | None = None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.status is not None:
        conditions.append(Ticket.status == query.status)
    if query.theme:
        conditions.append(Ticket.theme == query.theme)
    if query.language:
        conditions.append(Ticket.language == query.language)
    if query.assignee == UNASSIGNED:
        conditions.append(Ticket.assignee_id.is_(None))
    elif query.assignee == ASSIGNED_TO_ME:
        conditions.append(Ticket.assignee_id == user_id if user_id is not None else false())
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
            Ticket.team_id,
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


def _count(session: Session, conditions: list[ColumnElement[bool]], limit: int | None = None) -> int:
    """Count the tickets that match, stopping after `limit` + 1 when a limit is given."""
    if limit is None:
        return session.scalar(select(func.count()).select_from(Ticket).where(*conditions)) or 0
    matches = select(Ticket.id).where(*conditions).limit(limit + 1).subquery()
    return session.scalar(select(func.count()).select_from(matches)) or 0


def queue_page(
    session: Session,
    query: QueueQuery,
    now: dt.datetime | None = None,
    scope: ColumnElement[bool] | None = None,
    user_id: int | None = None,
) -> QueuePage:
    """Return one page of tickets that match `query` and `scope` (the tickets the user may see), and their count.

    `user_id` is the viewing user, whom the ASSIGNED_TO_ME filter selects.
    A search is counted up to SEARCH_COUNT_LIMIT, and QueuePage.more is set when it matches more.
    """
    now = now or utcnow()
    if session.get_bind().dialect.name == "postgresql":
        # A deep page (an OFFSET of tens of thousands of rows) has an estimated
        # cost above jit_above_cost, and JIT compilation then added 26 ms to a
        # query that ran in 45 ms (PostgreSQL 15, page 1,000 of 100,000 tickets).
        session.execute(text("SET LOCAL jit = off"))
    conditions = _conditions(session, query, now, user_id)
    if scope is not None:
        conditions.append(scope)

    # Filters alone are counted exactly, because an index-only scan of the
    # tickets table counts 100,000 tickets in a few milliseconds.
    limit = SEARCH_COUNT_LIMIT if query.search else None
    total = _count(session, conditions, limit)
    more = limit is not None and total > limit
    if more:
        total = limit
    page = _last_page(total, query.page)
    rows = session.execute(_rows_query(conditions, query, page)).all()

    rows = [QueueRow(**row._mapping) for row in rows]
    return QueuePage(rows=rows, total=total, page=page, more=more, query=query.with_changes(page=page))


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
