import datetime as dt
import re

import pytest
from sqlalchemy import event

from admin.views.queue import QUEUE_PAGE_SIZE
from helpdesk.db import get_engine, utcnow
from helpdesk.tickets.models import TicketStatus
from tests.admin_fixtures import (  # noqa: F401 (pytest fixtures)
    CLIENT_ADDRESS,
    agent,
    agent_client,
    app,
    client,
    make_ticket,
)

ROW_REFERENCE = re.compile(r'href="/admin/ticket/(\d+)">\[#\d+\]</a>')


def queue_ids(client, query: str = "") -> list[int]:
    response = client.get(f"/admin/queue/{query}")
    assert response.status_code == 200
    return [int(ticket_id) for ticket_id in ROW_REFERENCE.findall(response.get_data(as_text=True))]


@pytest.fixture
def tickets(settings, agent) -> dict[str, int]:
    now = utcnow()
    return {
        "old": make_ticket(settings, "Oude vraag over condooms", last_message_at=now - dt.timedelta(days=3), theme="condooms", language="nl"),
        "new": make_ticket(settings, "Nieuwe vraag over soa", last_message_at=now - dt.timedelta(hours=1), theme="soa", language="nl"),
        "urgent": make_ticket(settings, "Dringende vraag", last_message_at=now, urgent=True, urgent_reason="pep", language="fr"),
        "assigned": make_ticket(
            settings, "Toegewezen vraag", last_message_at=now - dt.timedelta(days=1), assignee_id=agent, status=TicketStatus.OPEN, language="en"
        ),
        "closed": make_ticket(settings, "Gesloten vraag", last_message_at=now - dt.timedelta(days=5), status=TicketStatus.CLOSED),
    }


def test_queue_shows_urgent_first_then_oldest(agent_client, tickets):
    assert queue_ids(agent_client) == [
        tickets["urgent"], tickets["closed"], tickets["old"], tickets["assigned"], tickets["new"]
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?flt0_0=new", ["urgent", "old", "new"]),
        ("?flt0_0=closed", ["closed"]),
        ("?flt0_1=condooms", ["old"]),
        ("?flt0_2=fr", ["urgent"]),
        ("?flt0_4=1", ["urgent", "closed", "old", "new"]),
        ("?flt0_5=1", ["urgent"]),
        ("?flt0_0=new&flt1_2=nl", ["old", "new"]),
    ],
)
def test_queue_filters(agent_client, tickets, query, expected):
    assert queue_ids(agent_client, query) == [tickets[name] for name in expected]


def test_queue_filter_on_assignee(agent_client, tickets, agent):
    assert queue_ids(agent_client, f"?flt0_3={agent}") == [tickets["assigned"]]


def test_queue_search_uses_redacted_subject(agent_client, tickets):
    assert queue_ids(agent_client, "?search=soa") == [tickets["new"]]
    assert queue_ids(agent_client, "?search=onbestaand") == []


def test_queue_never_shows_sender_address(agent_client, tickets):
    page = agent_client.get("/admin/queue/").get_data(as_text=True)
    assert CLIENT_ADDRESS not in page
    assert "Agent Anna" in page  # the assignee column shows staff names


def test_queue_pagination(agent_client, settings):
    for number in range(QUEUE_PAGE_SIZE + 5):
        make_ticket(settings, f"Vraag {number}")
    assert len(queue_ids(agent_client)) == QUEUE_PAGE_SIZE
    assert len(queue_ids(agent_client, "?page=1")) == 5


def count_queries(settings, client, url: str) -> int:
    statements = []
    engine = get_engine(settings.database_url)

    def _count(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", _count)
    return len(statements)


def test_queue_query_count_does_not_grow_with_rows(agent_client, settings, agent):
    for number in range(3):
        make_ticket(settings, f"Vraag {number}", assignee_id=agent, theme="soa")
    few = count_queries(settings, agent_client, "/admin/queue/")
    for number in range(20):
        make_ticket(settings, f"Meer {number}", assignee_id=agent, theme=f"thema-{number}")
    many = count_queries(settings, agent_client, "/admin/queue/")
    assert many == few
