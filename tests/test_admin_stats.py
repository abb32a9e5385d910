"""The statistics page and the figures behind it."""

import datetime as dt
import re
import xml.etree.ElementTree as ElementTree

import pytest

from helpdesk.db import session_scope
from helpdesk.tickets.models import DeliveryState, Direction, Message, Ticket, TicketStatus
from helpdesk.tickets.statistics import compute_statistics, week_start
from tests.admin_fixtures import agent, agent_client, app, client, make_ticket  # noqa: F401 (pytest fixtures)

TIMEZONE = "Europe/Brussels"
NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.timezone.utc)  # a Thursday


def reply(settings, ticket_id: int, slugs: list[str], state: DeliveryState = DeliveryState.SENT, acknowledgement: bool = False) -> None:
    with session_scope(settings) as session:
        session.add(
            Message(
                ticket_id=ticket_id,
                direction=Direction.OUTBOUND,
                message_id=f"reply-{ticket_id}-{len(slugs)}-{state.value}-{acknowledgement}@helpdesk.test",
                body="Antwoord",
                delivery_state=state,
                article_slugs=slugs,
                is_acknowledgement=acknowledgement,
            )
        )


@pytest.fixture
def history(settings) -> dict[str, int]:
    """Tickets over three weeks with known themes, response times and replies."""
    def ticket(days_ago: float, theme: str | None, hours_to_answer: float | None = None, **fields) -> int:
        created = NOW - dt.timedelta(days=days_ago)
        answered = created + dt.timedelta(hours=hours_to_answer) if hours_to_answer is not None else None
        return make_ticket(settings, theme=theme, created_at=created, last_message_at=created, first_response_at=answered, **fields)

    ids = {
        "this_week_soa": ticket(1, "soa", hours_to_answer=2, status=TicketStatus.WAITING),
        "this_week_soa_2": ticket(2, "soa", hours_to_answer=4, status=TicketStatus.CLOSED),
        "last_week_pep": ticket(8, "pep", hours_to_answer=30, status=TicketStatus.CLOSED),
        "last_week_none": ticket(9, None, status=TicketStatus.NEW),
        "two_weeks_soa": ticket(15, "soa", hours_to_answer=10, status=TicketStatus.OPEN),
        "too_old": ticket(40, "soa", hours_to_answer=1, status=TicketStatus.QUARANTINED),
    }
    merged = ticket(1, "soa", status=TicketStatus.CLOSED)
    with session_scope(settings) as session:
        session.get(Ticket, merged).merged_into_id = ids["this_week_soa"]

    reply(settings, ids["this_week_soa"], ["waar-testen"])
    reply(settings, ids["this_week_soa_2"], [])
    reply(settings, ids["this_week_soa_2"], [], acknowledgement=True)
    reply(settings, ids["last_week_pep"], ["pep"], state=DeliveryState.FAILED)
    reply(settings, ids["two_weeks_soa"], [])
    reply(settings, ids["too_old"], ["soa-test"])
    return ids


def test_week_start_uses_local_monday():
    zone = __import__("zoneinfo").ZoneInfo(TIMEZONE)
    # Sunday 23:30 UTC is already Monday in Brussels.
    assert week_start(dt.datetime(2026, 11, 29, 23, 30, tzinfo=dt.timezone.utc), zone) == dt.date(2026, 11, 30)
    assert week_start(dt.datetime(2026, 11, 29, 22, 30, tzinfo=dt.timezone.utc), zone) == dt.date(2026, 11, 23)


def test_questions_per_theme_and_week(settings, history):
    with session_scope(settings) as session:
        figures = compute_statistics(session, 3, TIMEZONE, now=NOW)
    assert figures.weeks == [dt.date(2026, 11, 16), dt.date(2026, 11, 23), dt.date(2026, 11, 30)]
    assert figures.per_theme == {"soa": [1, 0, 2], "pep": [0, 1, 0], "": [0, 1, 0]}


def test_first_response_median_and_p90(settings, history):
    with session_scope(settings) as session:
        figures = compute_statistics(session, 3, TIMEZONE, now=NOW)
    assert figures.response.count == 4  # 2, 4, 10 and 30 hours
    assert figures.response.median == dt.timedelta(hours=7)
    assert figures.response.p90 == dt.timedelta(hours=24)  # between 10 and 30, inclusive method
    assert figures.response.unanswered == 1


def test_backlog_counts_all_open_tickets(settings, history):
    with session_scope(settings) as session:
        figures = compute_statistics(session, 3, TIMEZONE, now=NOW)
    assert figures.backlog == {TicketStatus.NEW: 1, TicketStatus.OPEN: 1, TicketStatus.WAITING: 1, TicketStatus.QUARANTINED: 1}


def test_share_answered_with_article(settings, history):
    with session_scope(settings) as session:
        figures = compute_statistics(session, 3, TIMEZONE, now=NOW)
    # Sent staff replies in the period: three tickets, one with an article.
    # The failed reply and the acknowledgement do not count.
    assert (figures.answered, figures.answered_with_article) == (3, 1)
    assert figures.article_share == pytest.approx(1 / 3)


def test_statistics_reject_out_of_range_weeks(settings):
    with session_scope(settings) as session:
        with pytest.raises(ValueError, match="weeks=0 is out of range"):
            compute_statistics(session, 0, TIMEZONE)


def test_statistics_page_shows_figures(agent_client, settings):
    now = dt.datetime.now(dt.timezone.utc)
    first = make_ticket(settings, theme="soa", created_at=now, first_response_at=now + dt.timedelta(hours=3))
    make_ticket(settings, theme="soa", created_at=now)
    reply(settings, first, ["waar-testen"])

    page = agent_client.get("/admin/stats/").get_data(as_text=True)
    assert "3 uur" in page  # median first response, in Dutch
    assert "100 %" in page  # Belgian percent format
    assert re.search(r'<th scope="row">soa</th>.*?<td>2</td></tr>', page, re.DOTALL)
    assert 'src="/admin/stats/themes.svg?weeks=12"' in page
    assert 'src="/admin/stats/backlog.svg"' in page
    assert 'alt="Staafdiagram' in page


@pytest.mark.parametrize("url", ["/admin/stats/themes.svg?weeks=4", "/admin/stats/backlog.svg"])
def test_charts_are_served_as_valid_svg(agent_client, settings, url):
    for number in range(9):  # more themes than colours: the rest becomes "overige"
        make_ticket(settings, theme=f"thema-<{number}>&")
    response = agent_client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    root = ElementTree.fromstring(response.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    rects = root.findall(".//{http://www.w3.org/2000/svg}rect")
    assert len(rects) > 1
    assert b"<script" not in response.data
    assert b"style=" not in response.data
    if "themes" in url:
        assert "overige" in response.get_data(as_text=True)


def test_statistics_in_french(client, settings):
    from helpdesk.accounts.models import Role
    from tests.admin_fixtures import login, make_user

    make_user(settings, "fr@helpdesk.test", Role.AGENT, language="fr")
    login(client, "fr@helpdesk.test")
    page = client.get("/admin/stats/").get_data(as_text=True)
    assert "Statistiques" in page


@pytest.mark.parametrize(("value", "expected"), [(0, (1, 1)), (3, (3, 1)), (7, (8, 2)), (30, (30, 10)), (37, (40, 10)), (1234, (1500, 500))])
def test_axis_scale_uses_round_steps(value, expected):
    from admin.views.stats_charts import axis_scale

    assert axis_scale(value) == expected


def test_tick_labels_match_their_height():
    from admin.views.stats_charts import PLOT_BOTTOM, PLOT_TOP, single_bars

    chart = single_bars([("nieuw", 7), ("open", 3)], "test", str)
    assert [tick.label for tick in chart.ticks] == ["0", "2", "4", "6", "8"]
    for tick in chart.ticks:
        assert tick.y == pytest.approx(PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * int(tick.label) / 8)
    tallest = max(chart.bars, key=lambda bar: bar.height)
    assert tallest.height == pytest.approx((PLOT_BOTTOM - PLOT_TOP) * 7 / 8)
