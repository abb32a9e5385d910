import datetime as dt
import re
from urllib.parse import quote

import pytest
from sqlalchemy import event

from helpdesk.db import get_engine, utcnow
from helpdesk.tickets.models import TicketStatus
from helpdesk.tickets.queue import PAGE_SIZE
from tests.admin_fixtures import (  # noqa: F401 (pytest fixtures)
    CLIENT_ADDRESS,
    agent,
    agent_client,
    app,
    client,
    csrf_token,
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

    def ticket(subject: str, age: dt.timedelta, body: str = "Ik heb een vraag.", **fields) -> int:
        return make_ticket(settings, subject, body, created_at=now - age, last_message_at=now - age, **fields)

    return {
        "old": ticket("Oude vraag over condooms", dt.timedelta(days=3), "Het condoom scheurde gisteren.", theme="condooms", language="nl"),
        "new": ticket("Nieuwe vraag over soa", dt.timedelta(hours=1), theme="soa", language="nl"),
        "urgent": ticket("Dringende vraag", dt.timedelta(0), "J'ai besoin de la PEP après un risque.", urgent=True, urgent_reason="pep", language="fr"),
        "assigned": ticket("Toegewezen vraag", dt.timedelta(days=1), assignee_id=agent, status=TicketStatus.OPEN, language="en"),
        "closed": ticket("Gesloten vraag", dt.timedelta(days=5), "Bedankt voor de 100% duidelijke uitleg_", status=TicketStatus.CLOSED),
    }


def test_queue_shows_urgent_first_then_oldest(agent_client, tickets):
    assert queue_ids(agent_client) == [
        tickets["urgent"], tickets["closed"], tickets["old"], tickets["assigned"], tickets["new"]
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?status=new", ["urgent", "old", "new"]),
        ("?status=closed", ["closed"]),
        ("?theme=condooms", ["old"]),
        ("?language=fr", ["urgent"]),
        ("?assignee=none", ["urgent", "closed", "old", "new"]),
        ("?urgent=1", ["urgent"]),
        ("?status=new&language=nl", ["old", "new"]),
        ("?older_than=2", ["closed", "old"]),
        ("?older_than=2&status=new", ["old"]),
        ("?sort=id", ["old", "new", "urgent", "assigned", "closed"]),
        ("?sort=id&desc=1", ["closed", "assigned", "urgent", "new", "old"]),
        ("?sort=last_message&desc=1", ["urgent", "new", "assigned", "old", "closed"]),
    ],
)
def test_queue_filters(agent_client, tickets, query, expected):
    assert queue_ids(agent_client, query) == [tickets[name] for name in expected]


def test_queue_filter_on_assignee(agent_client, tickets, agent):
    assert queue_ids(agent_client, f"?assignee={agent}") == [tickets["assigned"]]


def test_queue_search_uses_redacted_subject(agent_client, tickets):
    assert queue_ids(agent_client, "?search=soa") == [tickets["new"]]
    assert queue_ids(agent_client, "?search=onbestaand") == []


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("scheurde", ["old"]),  # a word of the message text only
        ("condoom scheurde", ["old"]),  # every word must match
        ("condoom onbestaand", []),
        ("SCHEUR", ["old"]),  # case-insensitive word prefix
        ("après", ["urgent"]),  # accented words
        ("apres", ["urgent"]),  # accents are optional in the search
        ("APRÈS", ["urgent"]),
        ("100%", ["closed"]),  # LIKE wildcards are plain characters
        ("uitleg_", ["closed"]),
        ("%%%", []),
    ],
)
def test_queue_search_covers_message_text(agent_client, tickets, search, expected):
    assert queue_ids(agent_client, f"?search={quote(search)}") == [tickets[name] for name in expected]


@pytest.mark.parametrize("search", ["depistage", "dépistage", "DEPISTAGE", "geinfecteerd", "geïnfecteerd"])
def test_queue_search_ignores_accents_in_text(agent_client, settings, search):
    expected = make_ticket(settings, "Vraag over DÉPISTAGE", "Ben ik geïnfecteerd?")
    make_ticket(settings, "Andere vraag", "Iets anders.")

    assert queue_ids(agent_client, f"?search={quote(search)}") == [expected]


@pytest.mark.parametrize("search", ["istanbul", "İstanbul", "angstrom", "Ångström"])
def test_queue_search_special_lowercase_letters(agent_client, settings, search):
    expected = make_ticket(settings, "Reis naar İSTANBUL", "Een \u212bngström meting.")

    assert queue_ids(agent_client, f"?search={quote(search)}") == [expected]


def test_queue_search_by_ticket_number(agent_client, tickets):
    number = tickets["assigned"]
    assert queue_ids(agent_client, f"?search=%23{number}") == [number]
    assert number in queue_ids(agent_client, f"?search={number}")


def test_queue_search_page_past_end(agent_client, settings):
    for number in range(PAGE_SIZE + 3):
        make_ticket(settings, f"Vraag {number}", "Het condoom scheurde.")
    make_ticket(settings, "Andere vraag", "Iets anders.")
    assert len(queue_ids(agent_client, "?search=scheurde&page=2")) == 3
    assert len(queue_ids(agent_client, "?search=scheurde&page=40")) == 3
    page = agent_client.get("/admin/queue/?search=scheurde").get_data(as_text=True)
    assert f"{PAGE_SIZE + 3} tickets" in page


def test_queue_search_never_matches_sender_address(agent_client, tickets):
    assert queue_ids(agent_client, "?search=client.secret") == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?status=done", "Status &#39;done&#39; bestaat niet"),
        ("?older_than=-3", "Ouder dan (dagen) &#39;-3&#39; is ongeldig"),
        ("?older_than=veel", "Ouder dan (dagen) &#39;veel&#39; is ongeldig"),
        ("?assignee=bart", "Toegewezen aan &#39;bart&#39; is geen gebruikersnummer"),
        ("?sort=password_hash", "Sorteren op &#39;password_hash&#39; kan niet"),
    ],
)
def test_queue_rejects_invalid_filter_values(agent_client, tickets, query, message):
    response = agent_client.get(f"/admin/queue/{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_queue_filter_form_has_labels(agent_client, tickets):
    page = agent_client.get("/admin/queue/").get_data(as_text=True)
    for name in ("search", "status", "theme", "language", "assignee", "older_than", "urgent", "delivery_problem"):
        field_id = re.search(rf'<(?:input|select) id="([^"]+)"[^>]*name="{name}"', page)
        assert field_id, name
        assert f'<label for="{field_id.group(1)}">' in page, name


def test_queue_links_keep_filters(agent_client, tickets):
    page = agent_client.get("/admin/queue/?status=new&search=vraag").get_data(as_text=True)
    assert 'href="/admin/queue/?status=new&amp;search=vraag&amp;sort=id"' in page
    assert 'href="/admin/queue/?status=closed&amp;search=vraag"' in page


def test_queue_flags_failed_replies(agent_client, settings, tickets):
    from helpdesk.db import session_scope
    from helpdesk.tickets.models import DeliveryState, Direction, Message

    with session_scope(settings) as session:
        for ticket, state in (("old", DeliveryState.FAILED), ("new", DeliveryState.SENT), ("closed", DeliveryState.BOUNCED)):
            session.add(Message(ticket_id=tickets[ticket], direction=Direction.OUTBOUND, message_id=f"reply-{ticket}@helpdesk.test", body="x", delivery_state=state))
    assert queue_ids(agent_client, "?delivery_problem=1") == [tickets["closed"], tickets["old"]]
    page = agent_client.get("/admin/queue/").get_data(as_text=True)
    assert page.count("antwoord niet aangekomen") == 2


def test_queue_never_shows_sender_address(agent_client, tickets):
    page = agent_client.get("/admin/queue/").get_data(as_text=True)
    assert CLIENT_ADDRESS not in page
    assert "Agent Anna" in page  # the assignee column shows staff names


def test_queue_pagination(agent_client, settings):
    for number in range(PAGE_SIZE + 5):
        make_ticket(settings, f"Vraag {number}")
    assert len(queue_ids(agent_client)) == PAGE_SIZE
    assert len(queue_ids(agent_client, "?page=2")) == 5
    assert len(queue_ids(agent_client, "?page=99")) == 5  # beyond the end: the last page
    page = agent_client.get("/admin/queue/").get_data(as_text=True)
    assert 'href="/admin/queue/?page=2"' in page


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


@pytest.mark.parametrize("query", ["", "?status=new&theme=soa", "?search=vraag", "?assignee=none&older_than=0&sort=theme&desc=1"])
def test_queue_query_count_does_not_grow_with_rows(agent_client, settings, agent, query):
    for number in range(3):
        make_ticket(settings, f"Vraag {number}", assignee_id=agent, theme="soa")
    few = count_queries(settings, agent_client, f"/admin/queue/{query}")
    for number in range(20):
        make_ticket(settings, f"Meer vraag {number}", assignee_id=agent if number % 2 else None, theme="soa" if number % 3 else f"thema-{number}")
    many = count_queries(settings, agent_client, f"/admin/queue/{query}")
    assert many == few


def test_queue_search_follows_message_changes(agent_client, settings, tickets):
    from helpdesk.db import session_scope
    from helpdesk.tickets.models import Direction, Message

    with session_scope(settings) as session:
        session.add(Message(ticket_id=tickets["new"], direction=Direction.INBOUND, message_id="later@client.example.net", body="Ook een vraag over prikpil."))
    assert queue_ids(agent_client, "?search=prikpil") == [tickets["new"]]

    with session_scope(settings) as session:
        message = session.query(Message).filter_by(message_id="later@client.example.net").one()
        message.body = "Ook een vraag over vaccinatie."
    assert queue_ids(agent_client, "?search=prikpil") == []
    assert queue_ids(agent_client, "?search=vaccinatie") == [tickets["new"]]

    with session_scope(settings) as session:
        session.query(Message).filter_by(message_id="later@client.example.net").one().ticket_id = tickets["old"]
    assert queue_ids(agent_client, "?search=vaccinatie") == [tickets["old"]]

    with session_scope(settings) as session:
        session.delete(session.query(Message).filter_by(message_id="later@client.example.net").one())
    assert queue_ids(agent_client, "?search=vaccinatie") == []


def test_queue_search_after_ticket_deleted(agent_client, settings, tickets):
    from helpdesk.db import session_scope
    from helpdesk.tickets.models import Ticket

    with session_scope(settings) as session:
        session.delete(session.get(Ticket, tickets["old"]))
    assert queue_ids(agent_client, "?search=condoom") == []
    assert queue_ids(agent_client, "?search=vraag") == [tickets["urgent"], tickets["closed"], tickets["assigned"], tickets["new"]]


def test_queue_search_count_stops_at_limit(agent_client, settings, monkeypatch):
    from helpdesk.tickets import queue

    monkeypatch.setattr(queue, "SEARCH_COUNT_LIMIT", 3)
    for number in range(5):
        make_ticket(settings, f"Vraag {number}", "Het condoom scheurde.")

    page = agent_client.get("/admin/queue/?search=scheurde").get_data(as_text=True)
    assert "Meer dan 3 tickets gevonden" in page
    assert "5 tickets" not in page
    filtered = agent_client.get("/admin/queue/?search=scheurde&status=closed").get_data(as_text=True)
    assert "0 tickets" in filtered
    unsearched = agent_client.get("/admin/queue/").get_data(as_text=True)
    assert "5 tickets" in unsearched  # filters alone are counted exactly


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?page=-1", "Pagina &#39;-1&#39; is ongeldig"),
        ("?page=abc", "Pagina &#39;abc&#39; is ongeldig"),
        ("?page=%C2%B2", "Pagina &#39;²&#39; is ongeldig"),  # "²" passes str.isdigit()
        ("?assignee=99999999999999999999", "Toegewezen aan &#39;99999999999999999999&#39; is geen gebruikersnummer"),
        ("?assignee=2147483648", "Toegewezen aan &#39;2147483648&#39; is geen gebruikersnummer"),
        ("?assignee=-5", "Toegewezen aan &#39;-5&#39; is geen gebruikersnummer"),
        ("?assignee=%C2%B2", "Toegewezen aan &#39;²&#39; is geen gebruikersnummer"),
        ("?older_than=%C2%B2", "Ouder dan (dagen) &#39;²&#39; is ongeldig"),
        ("?older_than=" + "9" * 5000, "Ouder dan (dagen) &#39;9999"),
        ("?team=99999999999999999999", "Team &#39;99999999999999999999&#39; bestaat niet"),
        ("?team=%C2%B2", "Team &#39;²&#39; bestaat niet"),
    ],
)
def test_queue_rejects_numbers_out_of_range(agent_client, tickets, query, message):
    response = agent_client.get(f"/admin/queue/{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize("page", ["99999999999999999999", "2147483648", "9" * 5000])
def test_queue_huge_page_shows_last_page(agent_client, settings, page):
    for number in range(PAGE_SIZE + 2):
        make_ticket(settings, f"Vraag {number}")
    response = agent_client.get(f"/admin/queue/?page={page}")
    assert response.status_code == 200
    assert len(ROW_REFERENCE.findall(response.get_data(as_text=True))) == 2
    assert re.search(r'aria-current="page" href="/admin/queue/\?[^"]*page=2[&"]', response.get_data(as_text=True))


@pytest.mark.parametrize("search", ["%232147483648", "%2399999999999999999999", "2147483648", "99999999999999999999"])
def test_queue_search_for_huge_ticket_number(agent_client, tickets, search):
    assert queue_ids(agent_client, f"?search={search}") == []


@pytest.mark.parametrize("path", ["/admin/ticket/2147483648", "/admin/ticket/99999999999999999999", "/admin/ticket/-1", "/admin/ticket/abc"])
def test_ticket_page_with_invalid_id_is_not_found(agent_client, tickets, path):
    assert agent_client.get(path).status_code == 404


def test_ticket_actions_with_huge_ids_are_not_found(agent_client, tickets):
    ticket = tickets["new"]
    assert agent_client.post(f"/admin/ticket/{ticket}/retry/99999999999999999999").status_code == 404
    assert agent_client.post("/admin/ticket/99999999999999999999/note").status_code == 404


@pytest.mark.parametrize("target", ["2147483648", "99999999999999999999"])
def test_merge_with_huge_ticket_number(agent_client, tickets, target):
    ticket = tickets["new"]
    token = csrf_token(agent_client, f"/admin/ticket/{ticket}")
    response = agent_client.post(f"/admin/ticket/{ticket}/merge", data={"target": target, "csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200
    assert "2147483647" in response.get_data(as_text=True)  # the error names the largest ticket number
