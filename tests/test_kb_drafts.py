"""Reply drafts per language, the ingest step and the kb commands, on SQLite and PostgreSQL."""

import json
from email.message import EmailMessage

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from helpdesk.cli import main
from helpdesk.db import session_scope
from helpdesk.ingest.outcomes import Source
from helpdesk.ingest.state import ingest_batch
from helpdesk.tickets.created import mark_created
from helpdesk.tickets.models import Direction, Message, Suggestion, Ticket
from kb.articles import create_draft
from kb.drafts import compose_draft
from kb.pipeline import suggest_for_message
from kb.transfer import CONTENT_DIR, import_directory


def add_articles(session):
    create_draft(
        session, "condoom-gescheurd", "nl", "Het condoom scheurde. Wat nu?", status="published",
        theme="gezondheid", short_answer="Ga binnen 72 uur naar een hiv-referentiecentrum voor PEP.",
    )
    create_draft(
        session, "condoom-gescheurd", "fr", "Le préservatif a craqué", status="published",
        theme="gezondheid", short_answer="Allez aux urgences dans les 72 heures pour un PEP.",
    )
    create_draft(
        session, "melden-mensenhandel", "nl", "Waar meld ik mensenhandel?", status="published",
        theme="mensenhandel", short_answer="Bij de politie of een erkend centrum.",
    )
    create_draft(
        session, "waar-testen", "nl", "Waar kan ik me laten testen?", status="published",
        theme="testen", short_answer="Bij de huisarts of een soa-centrum.",
    )
    create_draft(session, "concept", "nl", "Nog niet klaar", short_answer="Nog een ontwerp.")


def test_dutch_draft_content(settings):
    with session_scope(settings) as session:
        add_articles(session)
        draft = compose_draft(session, settings, ["condoom-gescheurd"], "nl")

    assert draft.startswith("Dag,\n")
    assert "Ga binnen 72 uur naar een hiv-referentiecentrum voor PEP." in draft
    assert f"{settings.public_url}/faq/nl/condoom-gescheurd" in draft
    assert f"{settings.public_url}/faq/nl/waar-testen" in draft  # testing referral for a health article
    assert draft.rstrip().endswith(settings.from_name)


def test_french_draft_uses_translation(settings):
    with session_scope(settings) as session:
        add_articles(session)
        draft = compose_draft(session, settings, ["condoom-gescheurd"], "fr")

    assert draft.startswith("Bonjour,\n")
    assert "Allez aux urgences dans les 72 heures pour un PEP." in draft
    assert f"{settings.public_url}/faq/fr/condoom-gescheurd" in draft
    assert "néerlandais" not in draft


def test_english_draft_falls_back_to_dutch_article(settings):
    with session_scope(settings) as session:
        add_articles(session)
        draft = compose_draft(session, settings, ["melden-mensenhandel"], "en")

    assert draft.startswith("Hello,\n")
    assert "Bij de politie of een erkend centrum." in draft
    assert "only available in Dutch" in draft
    assert f"{settings.public_url}/faq/nl/melden-mensenhandel" in draft
    assert "Payoke" in draft  # trafficking referral


def test_draft_leaves_out_unpublished_and_unknown_articles(settings):
    with session_scope(settings) as session:
        add_articles(session)
        draft = compose_draft(session, settings, ["concept", "bestaat-niet"], "nl")

    assert "Nog een ontwerp." not in draft
    assert "[Schrijf hier het antwoord.]" in draft


@pytest.mark.parametrize(
    ("reason", "expected", "absent"),
    [
        ("pep-window", "vraag naar PEP", "Bel dan meteen 112"),
        ("danger", "Bel dan meteen 112", "vraag naar PEP"),
        ("minor", "Child Focus (116 000)", "vraag naar PEP"),
    ],
)
def test_urgent_draft_adds_referral(settings, reason, expected, absent):
    with session_scope(settings) as session:
        add_articles(session)
        draft = compose_draft(session, settings, [], "nl", urgent_reason=reason)
    assert expected in draft
    assert absent not in draft


def test_unknown_language_gives_dutch_draft(settings):
    with session_scope(settings) as session:
        add_articles(session)
        draft = compose_draft(session, settings, ["condoom-gescheurd"], "de")
    assert draft.startswith("Dag,\n")


def make_ticket(session, subject, new_text, body=None):
    ticket = Ticket(subject=subject)
    session.add(ticket)
    message = Message(
        ticket=ticket,
        direction=Direction.INBOUND,
        message_id=f"test-{id(ticket)}@example.net",
        subject=subject,
        body=body if body is not None else new_text,
        new_text=new_text,
    )
    session.add(message)
    session.flush()
    return ticket, message


@pytest.fixture
def shipped_articles(settings):
    with session_scope(settings) as session:
        summary = import_directory(session, CONTENT_DIR)
    if len(summary.created) < 30:
        pytest.skip(f"{CONTENT_DIR} holds only {len(summary.created)} articles")
    return settings


def test_ingest_step_fills_ticket(shipped_articles):
    settings = shipped_articles
    with session_scope(settings) as session:
        ticket, message = make_ticket(
            session,
            "condoom gescheurd",
            "Dag, gisteren is het condoom gescheurd bij een dame achter het raam. Wat moet ik nu doen? "
            "Mijn naam is [naam], bel me op [telefoonnummer].",
        )
        suggest_for_message(session, settings, ticket, message)
        ticket_id = ticket.id

    with session_scope(settings) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.language == "nl"
        assert ticket.theme == "gezondheid"
        assert ticket.urgent is True
        assert ticket.urgent_reason == "pep-window"
        assert ticket.draft_slugs[0] == "condoom-gescheurd"
        assert f"{settings.public_url}/faq/nl/condoom-gescheurd" in ticket.draft
        assert "[naam]" not in ticket.draft
        assert "[telefoonnummer]" not in ticket.draft
        suggestions = session.scalars(select(Suggestion).where(Suggestion.ticket_id == ticket_id).order_by(Suggestion.rank)).all()
        assert suggestions[0].slug == "condoom-gescheurd"
        assert suggestions[0].rank == 1
        assert suggestions[0].confident is True
        assert "gescheurd" in " ".join(suggestions[0].matched_terms)


def suggest_for_second_message(session, settings, ticket: Ticket) -> Message:
    """Add a follow-up question to `ticket`, run the ingest step on it and return it."""
    second = Message(
        ticket=ticket, direction=Direction.INBOUND, message_id="second@example.net",
        subject="Re: vraag", body="", new_text="Wat is PrEP en kan ik dat krijgen als klant?",
    )
    session.add(second)
    session.flush()
    suggest_for_message(session, settings, ticket, second)
    return second


def test_ingest_step_replaces_earlier_suggestions(shipped_articles):
    settings = shipped_articles
    with session_scope(settings) as session:
        ticket, first = make_ticket(session, "vraag", "Hoeveel kost een soa-test bij de huisarts?")
        suggest_for_message(session, settings, ticket, first)
        second = suggest_for_second_message(session, settings, ticket)
        ticket_id = ticket.id

    with session_scope(settings) as session:
        rows = session.scalars(select(Suggestion).where(Suggestion.ticket_id == ticket_id)).all()
        assert {row.message_id for row in rows} == {second.id}
        assert sorted(row.rank for row in rows) == list(range(1, len(rows) + 1))
        assert rows and min(rows, key=lambda row: row.rank).slug == "prep"


def test_new_ticket_suggested_twice_keeps_second(shipped_articles):
    # A ticket inserted by this transaction skips the delete once, not for a second message.
    settings = shipped_articles
    with session_scope(settings) as session:
        ticket, first = make_ticket(session, "vraag", "Hoeveel kost een soa-test bij de huisarts?")
        mark_created(session, ticket.id)
        suggest_for_message(session, settings, ticket, first)
        second = suggest_for_second_message(session, settings, ticket)
        ticket_id = ticket.id

    with session_scope(settings) as session:
        rows = session.scalars(select(Suggestion).where(Suggestion.ticket_id == ticket_id)).all()
        assert rows
        assert {row.message_id for row in rows} == {second.id}


def test_batch_reply_replaces_new_ticket_suggestions(shipped_articles):
    settings = shipped_articles
    raws = []
    for message_id, in_reply_to, text in (
        ("question@example.net", None, "Hoeveel kost een soa-test bij de huisarts?"),
        ("reply@example.net", "<question@example.net>", "Wat is PrEP en kan ik dat krijgen als klant?"),
    ):
        message = EmailMessage()
        message["From"] = "Client <client@example.net>"
        message["Subject"] = "vraag"
        message["Message-ID"] = f"<{message_id}>"
        if in_reply_to:
            message["In-Reply-To"] = in_reply_to
        message.set_content(text)
        raws.append(message.as_bytes())
    mails = [(raw, Source("drafts", "INBOX", 1, uid)) for uid, raw in enumerate(raws, start=1)]

    outcomes = ingest_batch(settings, mails)

    assert outcomes[0].ticket_id == outcomes[1].ticket_id
    with session_scope(settings) as session:
        rows = session.scalars(select(Suggestion).where(Suggestion.ticket_id == outcomes[0].ticket_id)).all()
        assert rows
        assert {row.message_id for row in rows} == {outcomes[1].message_id}


def test_ingest_step_without_fitting_article(shipped_articles):
    settings = shipped_articles
    with session_scope(settings) as session:
        ticket, message = make_ticket(session, "fiets", "Kunnen jullie mijn fiets herstellen? De ketting is gebroken.")
        suggest_for_message(session, settings, ticket, message)
        assert ticket.draft_slugs == []
        assert ticket.theme is None
        assert ticket.urgent is False
        assert "[Schrijf hier het antwoord.]" in ticket.draft


def test_ingest_step_falls_back_to_body(shipped_articles):
    settings = shipped_articles
    with session_scope(settings) as session:
        ticket, message = make_ticket(session, "", "", body="Kan ik PrEP krijgen in België als klant van sekswerkers?")
        suggest_for_message(session, settings, ticket, message)
        assert ticket.draft_slugs[:1] == ["prep"]


def raw_mail(body: str, subject: str = "vraag") -> bytes:
    message = EmailMessage()
    message["From"] = "Jan Peeters <jan.peeters@example.net>"
    message["To"] = "vragen@helpdesk.test"
    message["Subject"] = subject
    message.set_content(body, charset="utf-8")
    return bytes(message)


def run_cli(settings, args, input=None):
    runner = CliRunner()
    return runner.invoke(main, args, input=input, obj=settings, catch_exceptions=False)


def test_suggest_command_prints_json_per_file(shipped_articles, tmp_path):
    settings = shipped_articles
    first = tmp_path / "first.eml"
    first.write_bytes(raw_mail("Het condoom scheurde gisteren. Wat nu? Bel me op 0470 12 34 56.", "condoom"))
    second = tmp_path / "second.eml"
    second.write_bytes(raw_mail("Le préservatif a craqué hier soir avec une escort. Que faire ?", "capote"))

    result = run_cli(settings, ["suggest", "--json", str(first), str(second)])

    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["file"] for line in lines] == [str(first), str(second)]
    assert lines[0]["language"] == "nl"
    assert lines[0]["suggestions"][0]["slug"] == "condoom-gescheurd"
    assert set(lines[0]["suggestions"][0]) >= {"slug", "title", "score"}
    assert lines[0]["urgent"] is True
    assert lines[0]["urgent_reason"] == "pep-window"
    assert "0470" not in result.output
    assert lines[1]["language"] == "fr"
    assert lines[1]["draft"].startswith("Bonjour,")


def test_suggest_command_reads_stdin(shipped_articles):
    result = run_cli(shipped_articles, ["suggest", "--json", "-"], input=raw_mail("Wat is PrEP en waar krijg ik het?"))
    line = json.loads(result.output)
    assert line["file"] == "-"
    assert line["suggestions"][0]["slug"] == "prep"


def test_suggest_command_stores_nothing(shipped_articles, tmp_path):
    path = tmp_path / "mail.eml"
    path.write_bytes(raw_mail("Wat is PrEP?"))
    run_cli(shipped_articles, ["suggest", "--json", str(path)])
    with session_scope(shipped_articles) as session:
        assert session.scalars(select(Ticket)).all() == []
        assert session.scalars(select(Suggestion)).all() == []


def test_kb_import_command_reports_bad_file(settings, tmp_path):
    (tmp_path / "nl").mkdir()
    (tmp_path / "nl" / "kapot.md").write_text("---\nslug: kapot\n---\nTekst\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["kb", "import", str(tmp_path)], obj=settings)
    assert result.exit_code == 1
    assert "kapot.md: language is missing from the front matter" in result.stderr
    assert "0 created, 0 updated, 0 unchanged, 0 kept (edited by an editor), 1 failed" in result.stdout


def test_kb_export_command_writes_files(shipped_articles, tmp_path):
    result = run_cli(shipped_articles, ["kb", "export", str(tmp_path / "out")])
    assert result.output.startswith("Exported ")
    assert (tmp_path / "out" / "nl" / "prep.md").exists()


def test_ingested_mail_gets_suggestions(shipped_articles):
    from email.utils import format_datetime

    from helpdesk.db import utcnow
    from helpdesk.ingest.pipeline import ingest_raw

    settings = shipped_articles
    message = EmailMessage()
    message["From"] = "Jan Peeters <jan.peeters@example.net>"
    message["To"] = "vragen@helpdesk.test"
    message["Subject"] = "kapotje gescheurd"
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = "<kb-ingest-1@example.net>"
    message.set_content("Vannacht is het condoom gescheurd bij een escort. Wat moet ik doen?\n\nJan Peeters\n0470 12 34 56\n")

    with session_scope(settings) as session:
        outcome = ingest_raw(session, settings, message.as_bytes())

    with session_scope(settings) as session:
        ticket = session.get(Ticket, outcome.ticket_id)
        assert ticket.urgent_reason == "pep-window"
        assert ticket.draft_slugs[:1] == ["condoom-gescheurd"]
        assert "0470" not in ticket.draft
        assert "Jan" not in ticket.draft
        assert ticket.suggestions[0].slug == "condoom-gescheurd"
