"""Figures for the statistics page: questions per theme and week, first-response time, backlog, article use.

All figures come from ticket and message metadata (dates, theme, status,
article slugs), never from message text. Merged tickets are left out of the
per-week figures because they continue a question counted elsewhere.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from helpdesk.db import as_utc, utcnow
from helpdesk.tickets.models import DeliveryState, Direction, Message, Ticket, TicketStatus

NO_THEME = ""  # key of tickets without a theme
MAX_WEEKS = 104


@dataclass(frozen=True)
class ResponseTimes:
    """First-response times of answered tickets created in the period."""

    count: int
    median: dt.timedelta | None
    p90: dt.timedelta | None
    unanswered: int  # tickets of the period still without a first response


@dataclass(frozen=True)
class Statistics:
    weeks: list[dt.date]  # the Monday of each week, oldest first
    per_theme: dict[str, list[int]]  # theme -> questions per week, same order as weeks
    response: ResponseTimes
    backlog: dict[TicketStatus, int]  # tickets not closed, by status, of all time
    answered: int  # tickets of the period with a sent staff reply
    answered_with_article: int  # of those, with a reply that named a knowledge-base article
    since: dt.datetime = field(default_factory=utcnow)

    @property
    def article_share(self) -> float | None:
        return self.answered_with_article / self.answered if self.answered else None

    def theme_totals(self) -> list[tuple[str, int]]:
        """Return (theme, questions in the period), most frequent first."""
        totals = [(theme, sum(counts)) for theme, counts in self.per_theme.items()]
        return sorted(totals, key=lambda item: (-item[1], item[0]))


def week_start(moment: dt.datetime, zone: ZoneInfo) -> dt.date:
    """Return the Monday of the local week that contains `moment`."""
    day = as_utc(moment).astimezone(zone).date()
    return day - dt.timedelta(days=day.weekday())


def compute_statistics(
    session: Session, weeks: int, timezone: str, now: dt.datetime | None = None, scope: ColumnElement[bool] | None = None
) -> Statistics:
    """Compute the figures for the last `weeks` local weeks, the current week included.

    `scope` limits every figure to the tickets that match it, such as the teams a user may see.
    """
    if scope is None:
        scope = true()
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValueError(f"weeks={weeks} is out of range: use 1 to {MAX_WEEKS}.")
    zone = ZoneInfo(timezone)
    now = now or utcnow()
    first_monday = week_start(now, zone) - dt.timedelta(weeks=weeks - 1)
    since = dt.datetime.combine(first_monday, dt.time(), tzinfo=zone).astimezone(dt.timezone.utc)
    week_list = [first_monday + dt.timedelta(weeks=number) for number in range(weeks)]

    rows = session.execute(
        select(Ticket.id, Ticket.theme, Ticket.created_at, Ticket.first_response_at).where(
            Ticket.created_at >= since, Ticket.merged_into_id.is_(None), scope
        )
    ).all()

    return Statistics(
        weeks=week_list,
        per_theme=_per_theme(rows, week_list, zone),
        response=_response_times(rows),
        backlog=_backlog(session, scope),
        since=since,
        **_article_use(session, since, scope),
    )


def _per_theme(rows, week_list: list[dt.date], zone: ZoneInfo) -> dict[str, list[int]]:
    position = {monday: index for index, monday in enumerate(week_list)}
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(week_list))
    for row in rows:
        index = position.get(week_start(row.created_at, zone))
        if index is not None:
            counts[row.theme or NO_THEME][index] += 1
    return dict(counts)


def _response_times(rows) -> ResponseTimes:
    seconds = sorted(
        (as_utc(row.first_response_at) - as_utc(row.created_at)).total_seconds() for row in rows if row.first_response_at is not None
    )
    unanswered = sum(1 for row in rows if row.first_response_at is None)
    if not seconds:
        return ResponseTimes(count=0, median=None, p90=None, unanswered=unanswered)
    # The "inclusive" method keeps the percentile within the observed values.
    p90 = statistics.quantiles(seconds, n=10, method="inclusive")[8] if len(seconds) > 1 else seconds[0]
    return ResponseTimes(
        count=len(seconds),
        median=dt.timedelta(seconds=statistics.median(seconds)),
        p90=dt.timedelta(seconds=p90),
        unanswered=unanswered,
    )


def _backlog(session: Session, scope: ColumnElement[bool]) -> dict[TicketStatus, int]:
    rows = session.execute(
        select(Ticket.status, func.count()).where(Ticket.status != TicketStatus.CLOSED, scope).group_by(Ticket.status)
    ).all()
    found = {status: count for status, count in rows}
    return {status: found.get(status, 0) for status in TicketStatus if status != TicketStatus.CLOSED}


def _article_use(session: Session, since: dt.datetime, scope: ColumnElement[bool]) -> dict[str, int]:
    """Count tickets of the period with a sent staff reply, and those whose reply named an article."""
    rows = session.execute(
        select(Message.ticket_id, Message.article_slugs)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(
            Ticket.created_at >= since,
            Ticket.merged_into_id.is_(None),
            scope,
            Message.direction == Direction.OUTBOUND,
            Message.is_acknowledgement.is_(False),
            Message.delivery_state == DeliveryState.SENT,
        )
    ).all()
    answered: set[int] = set()
    with_article: set[int] = set()
    for ticket_id, slugs in rows:
        answered.add(ticket_id)
        if slugs:
            with_article.add(ticket_id)
    return {"answered": len(answered), "answered_with_article": len(with_article)}
