import datetime as dt
import shutil

import pytest
from sqlalchemy import select
from click.testing import CliRunner

from helpdesk.crypto import address_hash, encrypt
from helpdesk.db import session_scope, utcnow
from helpdesk.tickets.models import Direction, Message, Ticket, TicketStatus
from kb.articles import create_draft
from kb.transfer import CONTENT_DIR, import_directory
from kb.faq_feedback import normalise_query, record_search_miss
from kb.mining import latest_run, run_mining
from kb.mining_models import MiningRun, QuestionGroup, SearchMiss

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)
# A few published articles of the project's own content, so that search scores are realistic.
CONTENT_SAMPLE = ("condoom-gescheurd", "prep", "waar-testen", "testkosten", "soa-symptomen", "anoniem-testen")

# Paraphrases of one question each; the condom one has a published article.
TORN_CONDOM = [
    ("Condoom gescheurd", "Het condoom is gescheurd, wat moet ik doen?", "nl"),
    ("Vraag", "Condoom gescheurd tijdens de seks, wat nu?", "nl"),
    ("Dringend", "Ik ben Jan Peeters en mijn condoom scheurde gisteren. Moet ik PEP nemen?", "nl"),
    ("Question", "Le préservatif s'est déchiré, que faire ?", "fr"),
]
PARKING_FINE = [
    ("Boete", "Ik kreeg een parkeerboete bij de club, moet ik die betalen?", "nl"),
    ("Vraag", "Parkeerboete gekregen in de buurt van de bar, wat nu?", "nl"),
    ("Politie", "Mag de politie mij een parkeerboete geven aan de club?", "nl"),
]
UNRELATED = [
    ("Open", "Is een prostaatmassage gevaarlijk?", "nl"),
    ("Kosten", "Wat kost een soa-test bij de huisarts?", "nl"),
]


def add_question(settings, subject: str, text: str, language: str, received_at: dt.datetime, **ticket_fields) -> int:
    with session_scope(settings) as session:
        ticket = Ticket(
            subject=subject,
            language=language,
            sender_encrypted=encrypt(settings, "client@example.net"),
            sender_hash=address_hash(settings, "client@example.net"),
            created_at=received_at,
            **ticket_fields,
        )
        session.add(ticket)
        session.flush()
        session.add(
            Message(
                ticket_id=ticket.id,
                direction=Direction.INBOUND,
                message_id=f"q{ticket.id}@client.example.net",
                subject=subject,
                body=text,
                new_text=text,
                language=language,
                received_at=received_at,
            )
        )
        return ticket.id


@pytest.fixture
def questions(settings, tmp_path):
    """A generated window: torn condoms spread over the window, parking fines only lately."""
    ids: dict[str, list[int]] = {"condom": [], "parking": [], "unrelated": []}
    for number, (subject, text, language) in enumerate(TORN_CONDOM):
        days_ago = 10 if number % 2 else 70
        ids["condom"].append(add_question(settings, subject, text, language, NOW - dt.timedelta(days=days_ago)))
    for subject, text, language in PARKING_FINE:
        ids["parking"].append(add_question(settings, subject, text, language, NOW - dt.timedelta(days=5)))
    for subject, text, language in UNRELATED:
        ids["unrelated"].append(add_question(settings, subject, text, language, NOW - dt.timedelta(days=20)))
    import_articles(settings, tmp_path, CONTENT_SAMPLE)
    return ids


def import_articles(settings, tmp_path, slugs) -> None:
    folder = tmp_path / "content" / "nl"
    folder.mkdir(parents=True)
    for slug in slugs:
        shutil.copy(CONTENT_DIR / "nl" / f"{slug}.md", folder / f"{slug}.md")
    with session_scope(settings) as session:
        summary = import_directory(session, tmp_path / "content")
    assert not summary.errors, summary.errors


def groups_of(settings) -> list[QuestionGroup]:
    with session_scope(settings) as session:
        run = latest_run(session)
        groups = list(run.groups)
        session.expunge_all()
        return groups


def group_with(groups: list[QuestionGroup], ticket_id: int) -> QuestionGroup:
    matches = [group for group in groups if ticket_id in group.ticket_ids]
    assert len(matches) == 1, f"ticket {ticket_id} is in {len(matches)} groups"
    return matches[0]


def test_mining_groups_paraphrases(settings, questions):
    with session_scope(settings) as session:
        result = run_mining(session, settings, now=NOW)
    assert result.question_count == len(TORN_CONDOM) + len(PARKING_FINE) + len(UNRELATED)

    groups = groups_of(settings)
    condom = group_with(groups, questions["condom"][0])
    parking = group_with(groups, questions["parking"][0])
    assert sorted(condom.ticket_ids) == sorted(questions["condom"])
    assert sorted(parking.ticket_ids) == sorted(questions["parking"])
    assert condom.id != parking.id
    for ticket_id in questions["unrelated"]:
        assert not any(ticket_id in group.ticket_ids for group in (condom, parking))


def test_mining_marks_coverage(settings, questions):
    with session_scope(settings) as session:
        result = run_mining(session, settings, now=NOW)
    groups = groups_of(settings)
    condom = group_with(groups, questions["condom"][0])
    parking = group_with(groups, questions["parking"][0])

    assert condom.covered
    assert condom.best_slug == "condoom-gescheurd"
    assert condom.theme == "gezondheid"
    assert condom.coverage_score > parking.coverage_score
    assert not parking.covered
    assert result.covered_count >= 1
    assert result.uncovered_count >= 1


def test_mining_ranks_growth(settings, questions):
    with session_scope(settings) as session:
        run_mining(session, settings, now=NOW)
    groups = groups_of(settings)
    condom = group_with(groups, questions["condom"][0])
    parking = group_with(groups, questions["parking"][0])

    assert (condom.size, condom.current_count, condom.previous_count) == (4, 2, 2)
    assert (parking.size, parking.current_count, parking.previous_count) == (3, 3, 0)
    assert parking.growth > condom.growth
    # Three growing questions outrank four steady ones.
    assert parking.rank < condom.rank
    assert [group.rank for group in groups] == list(range(1, len(groups) + 1))


def test_mining_redacts_examples_again(settings, questions):
    with session_scope(settings) as session:
        run_mining(session, settings, now=NOW)
    condom = group_with(groups_of(settings), questions["condom"][0])
    assert 1 <= len(condom.examples) <= 3
    joined = " ".join(condom.examples)
    assert "Peeters" not in joined
    assert all("condoom" in example.lower() or "préservatif" in example.lower() for example in condom.examples)


def test_mining_respects_window(settings, questions):
    old = add_question(settings, "Boete", "Weer een parkeerboete bij de club gekregen.", "nl", NOW - dt.timedelta(days=200))
    quarantined = add_question(
        settings, "Boete", "Parkeerboete aan de club?", "nl", NOW - dt.timedelta(days=3), status=TicketStatus.QUARANTINED
    )
    with session_scope(settings) as session:
        run_mining(session, settings.with_overrides(faq_window_days=90), now=NOW)
    parking = group_with(groups_of(settings), questions["parking"][0])
    assert old not in parking.ticket_ids
    assert quarantined not in parking.ticket_ids
    with session_scope(settings) as session:
        run = latest_run(session)
        assert run.window_days == 90
        assert run.window_end.replace(tzinfo=dt.timezone.utc) == NOW


def test_search_misses_join_groups(settings, questions):
    with session_scope(settings) as session:
        for _ in range(3):
            record_search_miss(session, "nl", "parkeerboete  bij de CLUB", day=(NOW - dt.timedelta(days=2)).date())
        record_search_miss(session, "nl", "parkeerboete bij de club", day=(NOW - dt.timedelta(days=60)).date())
    with session_scope(settings) as session:
        misses = session.scalars(select(SearchMiss)).all()
        assert {miss.query for miss in misses} == {"parkeerboete bij de club"}
        assert sorted(miss.count for miss in misses) == [1, 3]

    with session_scope(settings) as session:
        run_mining(session, settings, now=NOW)
    parking = group_with(groups_of(settings), questions["parking"][0])
    assert parking.search_queries == 4
    assert (parking.current_count, parking.previous_count) == (6, 1)


def test_search_miss_query_is_redacted():
    assert normalise_query("  Bel  Jan Peeters op 0470 12 34 56 ") == normalise_query("bel Jan  Peeters op 0470 12 34 56")
    assert normalise_query("  Bel  Jan Peeters op 0470 12 34 56 ") == "bel [naam] op [telefoonnummer]"
    assert "0470" not in normalise_query("bel 0470 12 34 56")
    assert "[telefoonnummer]" in normalise_query("bel 0470 12 34 56")


def test_mining_empty_window(settings):
    with session_scope(settings) as session:
        result = run_mining(session, settings, now=NOW)
    assert (result.question_count, result.group_count) == (0, 0)
    with session_scope(settings) as session:
        assert latest_run(session).id == result.run_id


def test_mining_keeps_recent_runs_only(settings, questions):
    for _ in range(7):
        with session_scope(settings) as session:
            run_mining(session, settings, now=NOW)
    with session_scope(settings) as session:
        assert len(session.scalars(select(MiningRun)).all()) == 5
        run_ids = {group.run_id for group in session.scalars(select(QuestionGroup))}
        assert len(run_ids) == 5


def test_drafted_group_stays_linked(settings, questions):
    with session_scope(settings) as session:
        run_mining(session, settings, now=NOW)
    with session_scope(settings) as session:
        group = next(group for group in latest_run(session).groups if questions["parking"][0] in group.ticket_ids)
        article = create_draft(session, "parkeerboete", "nl", "Moet ik een parkeerboete aan de club betalen?")
        group.article_id = article.id
        article_id = article.id

    with session_scope(settings) as session:
        run_mining(session, settings, now=NOW)
    parking = group_with(groups_of(settings), questions["parking"][0])
    assert parking.article_id == article_id


def test_faq_mine_command(settings, questions, monkeypatch):
    from kb import faq_commands

    monkeypatch.setattr(faq_commands, "get_settings", lambda: settings)
    result = CliRunner().invoke(faq_commands.faq_group, ["mine"])
    assert result.exit_code == 0, result.output
    assert "groups" in result.output
    with session_scope(settings) as session:
        assert latest_run(session) is not None

