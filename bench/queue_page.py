"""Measure the staff queue page with many tickets in PostgreSQL.

Creates a private database on the local server and bulk-inserts generated
tickets (one client message each, a staff reply on a third of them). Then
it requests queue pages through the WSGI app as a signed-in agent, the way a
browser would, and prints p50 and p95 latency per page. Each timed request
renders the whole page: filters, count, rows and template.

Usage:
    .venv/bin/python bench/queue_page.py [--tickets 100000] [--requests 40]
        [--server postgresql+psycopg://postgres@127.0.0.1:5432] [--keep] [--reuse]

The database `helpdesk_bench_queue` is dropped first and, unless --keep is
given, again at the end. --reuse measures a database kept by --keep again.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

from admin.app import create_app  # noqa: E402
from helpdesk import schema  # noqa: E402
from helpdesk.accounts.models import Role, User  # noqa: E402
from helpdesk.accounts.services import create_user  # noqa: E402
from helpdesk.config import load_settings  # noqa: E402
from helpdesk.db import get_engine, session_scope  # noqa: E402
from helpdesk.tickets.models import DeliveryState, Direction, Message, Ticket, TicketSearchDocument, TicketStatus  # noqa: E402

DATABASE = "helpdesk_bench_queue"
PASSWORD = "benchmark password"
BATCH = 5000

THEMES = ["condooms", "pep", "prep", "soa", "testen", "hiv", "hepatitis", "vaccinatie", "juridisch", "politie", "geweld", "mensenhandel"]
LANGUAGES = [("nl", 80), ("fr", 12), ("en", 8)]
STATUSES = [(TicketStatus.CLOSED, 70), (TicketStatus.WAITING, 15), (TicketStatus.OPEN, 8), (TicketStatus.NEW, 6), (TicketStatus.QUARANTINED, 1)]
# Message text follows Zipf's law, as word frequencies in natural language
# do: a few function words occur in almost every message, topic words in a
# few percent of them and most words rarely.
FUNCTION_WORDS = "ik de het een en van is dat niet je op te met voor maar ook als mijn er".split()
TOPIC_WORDS = (
    "vraag test hiv soa condoom gescheurd pijpen kussen risico bloed uitslag huisarts anoniem gratis "
    "centrum afspraak klant partner pil symptomen jeuk pijn wonde arts prik vaccin hepatitis syfilis "
    "chlamydia gonorroe prep pep apotheek kosten verzekering politie boete werk vergunning raam escort"
).split()
SYLLABLES = "ba be bo da de di ka ke ko la le lo ma me mo na ne no pa pe po ra re ro sa se so ta te to va ve vo".split()


def vocabulary(rng: random.Random, size: int = 4000) -> tuple[list[str], list[float]]:
    """Return words and Zipf weights (1 / rank): function words first, then topic words, then filler."""
    filler = set()
    while len(filler) < size:
        filler.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    words = FUNCTION_WORDS + TOPIC_WORDS + sorted(filler - set(FUNCTION_WORDS) - set(TOPIC_WORDS))
    return words, [1 / rank for rank in range(1, len(words) + 1)]


PAGES = [
    ("first page", "/admin/queue/"),
    ("filtered: open, Dutch, older than 7 days", "/admin/queue/?status=open&language=nl&older_than=7"),
    ("filtered: unassigned, urgent", "/admin/queue/?assignee=none&urgent=1"),
    ("search: a topic word", "/admin/queue/?search=gescheurd"),
    ("search: two topic words", "/admin/queue/?search=condoom+gescheurd"),
    ("search: a word that occurs nowhere", "/admin/queue/?search=onbestaand"),
    ("search: a function word in almost every message", "/admin/queue/?search=het"),
    ("search: a rare word", "/admin/queue/?search=vovokepo"),
    ("search: a function word, open, Dutch, older than 7 days", "/admin/queue/?search=het&status=open&language=nl&older_than=7"),
    ("search: a topic word, unassigned, urgent", "/admin/queue/?search=gescheurd&assignee=none&urgent=1"),
    ("search: a function word, page 40, sorted by theme", "/admin/queue/?search=het&sort=theme&page=40"),
    ("page 1000, sorted by theme", "/admin/queue/?sort=theme&page=1000"),
]


def weighted(rng: random.Random, choices: list[tuple[object, int]]):
    return rng.choices([value for value, _ in choices], weights=[weight for _, weight in choices])[0]


def sentence(rng: random.Random, words: tuple[list[str], list[float]], length: int) -> str:
    return " ".join(rng.choices(words[0], weights=words[1], k=length)).capitalize() + "."


def create_database(server: str) -> str:
    admin = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    return f"{server}/{DATABASE}"


def drop_database(server: str, url: str) -> None:
    get_engine(url).dispose()
    admin = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
    admin.dispose()


def fill(settings, tickets: int, seed: int = 7) -> list[int]:
    """Insert users, tickets and messages in batches; return the agent ids."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    with session_scope(settings) as session:
        agents = [create_user(session, f"agent{number}@bench.test", PASSWORD, Role.AGENT, display_name=f"Agent {number}").id for number in range(5)]

    now = dt.datetime.now(dt.timezone.utc)
    engine = get_engine(settings.database_url)
    # Building the search documents and their index once after loading is
    # far faster than updating them row by row. In a trial run with an index
    # in place, 45,000 tickets took over five minutes, against 95 s for
    # 100,000 without it. The trigger would rebuild a ticket's document for
    # every message inserted.
    search_index = next(index for index in TicketSearchDocument.__table__.indexes if index.name == "ix_ticket_search_documents_document")
    search_index.drop(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE messages DISABLE TRIGGER messages_refresh_search_document"))
    next_id = 1
    while next_id <= tickets:
        ticket_rows, message_rows = [], []
        for ticket_id in range(next_id, min(next_id + BATCH, tickets + 1)):
            created = now - dt.timedelta(minutes=rng.randint(0, 2 * 365 * 24 * 60))
            last = min(now, created + dt.timedelta(minutes=rng.randint(0, 7 * 24 * 60)))
            status = weighted(rng, STATUSES)
            subject = sentence(rng, words, rng.randint(3, 7))
            ticket_rows.append(
                {
                    "id": ticket_id,
                    "status": status,
                    "subject": subject,
                    "language": weighted(rng, LANGUAGES),
                    "theme": rng.choice(THEMES) if rng.random() < 0.9 else None,
                    "urgent": rng.random() < 0.03,
                    "assignee_id": rng.choice(agents) if rng.random() < 0.4 else None,
                    "sender_hash": f"{rng.getrandbits(128):032x}",
                    "draft": "",
                    "draft_slugs": [],
                    "created_at": created,
                    "updated_at": last,
                    "last_message_at": last,
                }
            )
            body = " ".join(sentence(rng, words, rng.randint(6, 14)) for _ in range(rng.randint(2, 5)))
            message_rows.append(_message(ticket_id, Direction.INBOUND, f"q-{ticket_id}@bench.test", subject, body, created))
            if status in (TicketStatus.CLOSED, TicketStatus.WAITING) and rng.random() < 0.5:
                reply = "Beste, " + sentence(rng, words, 20)
                message_rows.append(_message(ticket_id, Direction.OUTBOUND, f"a-{ticket_id}@bench.test", f"Re: {subject}", reply, last, sent=True))
        with engine.begin() as connection:
            connection.execute(sa.insert(Ticket), ticket_rows)
            connection.execute(sa.insert(Message), message_rows)
        next_id += BATCH
        print(f"  inserted {min(next_id - 1, tickets)} tickets", file=sys.stderr)

    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO ticket_search_documents (ticket_id, document) SELECT id, ticket_search_document(id) FROM tickets"))
        connection.execute(sa.text("ALTER TABLE messages ENABLE TRIGGER messages_refresh_search_document"))
    search_index.create(engine)
    # Plans for a search depend on the statistics of ticket_search_documents,
    # which autovacuum collects in production some time after a bulk load.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("SELECT setval('tickets_id_seq', (SELECT max(id) FROM tickets))"))
        connection.execute(sa.text("VACUUM ANALYZE"))
    return agents


def _message(ticket_id: int, direction: Direction, message_id: str, subject: str, body: str, when: dt.datetime, sent: bool = False) -> dict:
    return {
        "ticket_id": ticket_id,
        "direction": direction,
        "message_id": message_id,
        "subject": subject,
        "body": body,
        "new_text": body,
        "delivery_state": DeliveryState.SENT if sent else None,
        "delivery_attempts": 1 if sent else 0,
        "article_slugs": [],
        "raw_size": 0,
        "is_automatic": False,
        "is_acknowledgement": False,
        "received_at": when,
        "sent_at": when if sent else None,
    }


def measure(settings, requests: int) -> list[tuple[str, str, int, float, float]]:
    """Request each page `requests` times after two warm-up requests; return (name, url, rows shown, p50, p95)."""
    app = create_app(settings)
    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    response = client.post("/admin/login", data={"email": "agent0@bench.test", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, "benchmark login failed"

    results = []
    for name, url in PAGES:
        for _ in range(2):
            client.get(url)
        timings = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, f"{url} returned {response.status_code}"
        rows = response.get_data(as_text=True).count('<td class="subject">')
        quantiles = statistics.quantiles(timings, n=20, method="inclusive")
        results.append((name, url, rows, statistics.median(timings), quantiles[18]))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000, help="Number of tickets to generate.")
    parser.add_argument("--requests", type=int, default=40, help="Timed requests per page (after two warm-up requests).")
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432", help="PostgreSQL server URL without a database name.")
    parser.add_argument("--keep", action="store_true", help="Keep the benchmark database afterwards.")
    parser.add_argument("--reuse", action="store_true", help="Measure the database kept by an earlier --keep run instead of generating one.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    url = f"{args.server}/{DATABASE}" if args.reuse else create_database(args.server)
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            settings = load_settings({"HELPDESK_DATABASE_URL": url, "HELPDESK_DATA_DIR": data_dir, "HELPDESK_SECRET_KEY": "benchmark-secret"})
            if not args.reuse:
                schema.upgrade(settings)
                started = time.perf_counter()
                fill(settings, args.tickets)
                print(f"generated {args.tickets} tickets in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            with session_scope(settings) as session:
                counts = session.execute(sa.select(sa.func.count(Ticket.id), sa.select(sa.func.count(Message.id)).scalar_subquery(), sa.select(sa.func.count(User.id)).scalar_subquery())).one()
            print(f"database: {counts[0]} tickets, {counts[1]} messages, {counts[2]} users", file=sys.stderr)

            print("| page | rows shown | p50 (ms) | p95 (ms) |")
            print("| --- | --- | --- | --- |")
            for name, page_url, rows, p50, p95 in measure(settings, args.requests):
                print(f"| {name} (`{page_url}`) | {rows} | {p50:.1f} | {p95:.1f} |")
    finally:
        if not args.keep:
            drop_database(args.server, url)


if __name__ == "__main__":
    main()
