"""The ticket page's tools: collision warning, canned replies, article insertion, reveal, erase and merge."""

import datetime as dt
import re

import pytest
from sqlalchemy import event, func, select

from admin.app import create_app
from helpdesk.accounts.models import AuditEntry, Role
from helpdesk.crypto import encrypt
from helpdesk.db import get_engine, session_scope, utcnow
from helpdesk.ingest.sources import mailbox_key
from helpdesk.privacy.models import ErasedMessage
from helpdesk.tickets.macros import Macro
from helpdesk.tickets.models import Attachment, DeliveryState, Direction, Message, Ticket, TicketEvent
from helpdesk.tickets.presence import PRESENCE_MINUTES, TicketPresence
from tests.admin_fixtures import (  # noqa: F401 (pytest fixtures)
    agent,
    agent_client,
    app,
    client,
    csrf_token,
    login,
    make_ticket,
    make_user,
)

ORIGINAL = "Hallo, ik ben Jan Peeters en mijn nummer is 0470 12 34 56."


def page_of(client, ticket_id: int, status: int = 200) -> str:
    response = client.get(f"/admin/ticket/{ticket_id}")
    assert response.status_code == status
    return response.get_data(as_text=True)


def seen_reply(page: str) -> str:
    match = re.search(r'id="seen_reply" name="seen_reply" type="hidden" value="(\d*)"', page)
    assert match, "no seen_reply field on the ticket page"
    return match.group(1)


def post(client, ticket_id: int, action: str, data: dict):
    data = {"csrf_token": csrf_token(client, f"/admin/ticket/{ticket_id}"), **data}
    return client.post(f"/admin/ticket/{ticket_id}/{action}", data=data)


def signed_in(app, settings, email: str, role: Role = Role.AGENT, **fields):
    make_user(settings, email, role, display_name=email.split("@")[0].title(), **fields)
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def outbound_count(settings, ticket_id: int) -> int:
    with session_scope(settings) as session:
        return session.scalar(
            select(func.count()).select_from(Message).where(Message.ticket_id == ticket_id, Message.direction == Direction.OUTBOUND)
        )


# Collision warning


def test_page_shows_who_else_viewed_recently(app, settings):
    ticket_id = make_ticket(settings)
    anna = signed_in(app, settings, "anna@helpdesk.test")
    bart = signed_in(app, settings, "bart@helpdesk.test")

    assert "bekijkt dit ticket ook" not in page_of(anna, ticket_id)
    page = page_of(bart, ticket_id)
    assert "Anna bekijkt dit ticket ook." in page
    assert "Bart bekijkt" not in page


def test_presence_expires_after_window(app, settings):
    ticket_id = make_ticket(settings)
    anna = signed_in(app, settings, "anna@helpdesk.test")
    bart = signed_in(app, settings, "bart@helpdesk.test")
    page_of(anna, ticket_id)
    with session_scope(settings) as session:
        for row in session.scalars(select(TicketPresence)):
            row.viewed_at = utcnow() - dt.timedelta(minutes=PRESENCE_MINUTES + 1)
    assert "Anna bekijkt" not in page_of(bart, ticket_id)


def test_page_shows_who_is_editing(app, settings):
    ticket_id = make_ticket(settings)
    anna = signed_in(app, settings, "anna@helpdesk.test")
    bart = signed_in(app, settings, "bart@helpdesk.test")
    post(anna, ticket_id, "draft", {"body": "Mijn concept", "save": "1"})
    assert "Anna bewerkt het antwoord op dit ticket." in page_of(bart, ticket_id)


def test_send_rejected_when_answered_since_page_load(app, settings, monkeypatch):
    from helpdesk.plugins import get_registry

    # Replies stay queued: this test is about the check before sending.
    monkeypatch.setattr(get_registry(), "task_dispatchers", {"send_reply": lambda message_id, settings: None})
    ticket_id = make_ticket(settings)
    anna = signed_in(app, settings, "anna@helpdesk.test")
    bart = signed_in(app, settings, "bart@helpdesk.test")
    anna_seen = seen_reply(page_of(anna, ticket_id))
    bart_seen = seen_reply(page_of(bart, ticket_id))
    assert anna_seen == bart_seen == "0"

    first = post(anna, ticket_id, "draft", {"body": "Antwoord van Anna", "send": "1", "seen_reply": anna_seen})
    assert first.status_code == 302
    second = post(bart, ticket_id, "draft", {"body": "Antwoord van Bart", "send": "1", "seen_reply": bart_seen})
    assert second.status_code == 409
    page = second.get_data(as_text=True)
    assert "Anna heeft dit ticket beantwoord nadat je de pagina opende." in page
    assert "Antwoord van Bart" in page  # the text stays in the form
    assert 'name="confirm_send"' in page
    assert outbound_count(settings, ticket_id) == 1
    with session_scope(settings) as session:
        assert session.get(Ticket, ticket_id).draft == "Antwoord van Bart"

    confirmed = post(bart, ticket_id, "draft", {"body": "Antwoord van Bart", "send": "1", "seen_reply": bart_seen, "confirm_send": "y"})
    assert confirmed.status_code == 302
    assert outbound_count(settings, ticket_id) == 2


def test_send_after_reload_needs_no_confirmation(agent_client, settings, monkeypatch):
    from helpdesk.plugins import get_registry

    monkeypatch.setattr(get_registry(), "task_dispatchers", {"send_reply": lambda message_id, settings: None})
    ticket_id = make_ticket(settings)
    post(agent_client, ticket_id, "draft", {"body": "Eerste antwoord", "send": "1", "seen_reply": "0"})
    seen = seen_reply(page_of(agent_client, ticket_id))
    assert seen != "0"
    assert post(agent_client, ticket_id, "draft", {"body": "Aanvulling", "send": "1", "seen_reply": seen}).status_code == 302
    assert outbound_count(settings, ticket_id) == 2


# Canned replies and articles


@pytest.fixture
def macros(settings, agent) -> dict[str, int]:
    with session_scope(settings) as session:
        rows = {
            "nl": Macro(title="Doorverwijzing testcentrum", language="nl", body="Je kunt je anoniem laten testen bij een testcentrum."),
            "fr": Macro(title="Orientation dépistage", language="fr", body="Tu peux te faire dépister anonymement."),
            "inactive": Macro(title="Oude tekst", language="nl", body="Niet meer gebruiken.", active=False),
        }
        session.add_all(rows.values())
        session.flush()
        return {name: macro.id for name, macro in rows.items()}


def test_macro_inserted_after_typed_text(agent_client, settings, macros):
    ticket_id = make_ticket(settings, language="nl")
    page = page_of(agent_client, ticket_id)
    assert "Doorverwijzing testcentrum (nl)" in page
    assert "Oude tekst" not in page
    assert page.index("Doorverwijzing testcentrum") < page.index("Orientation dépistage")  # ticket language first

    response = post(agent_client, ticket_id, "draft", {"body": "Beste,\n\nmijn eigen zin.", "macro": str(macros["nl"]), "insert_macro": "1"})
    assert response.status_code == 302
    with session_scope(settings) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.draft == "Beste,\n\nmijn eigen zin.\n\nJe kunt je anoniem laten testen bij een testcentrum."
        assert [event.detail for event in ticket.events if event.kind == "draft_snippet_inserted"] == [{"macro_id": macros["nl"]}]


def test_inactive_or_missing_macro_keeps_text(agent_client, settings, macros):
    ticket_id = make_ticket(settings)
    for value in (str(macros["inactive"]), "999", ""):
        post(agent_client, ticket_id, "draft", {"body": "Mijn tekst", "macro": value, "insert_macro": "1"})
        with session_scope(settings) as session:
            assert session.get(Ticket, ticket_id).draft == "Mijn tekst", value
    assert "Kies eerst een standaardantwoord" in page_of(agent_client, ticket_id)


@pytest.fixture
def article(settings):
    from kb.models import Article, ArticleStatus

    with session_scope(settings) as session:
        session.add_all(
            [
                Article(slug="waar-testen", language="nl", theme="testen", title="Waar kan ik me laten testen?", short_answer="Bij een testcentrum, anoniem.", status=ArticleStatus.PUBLISHED),
                Article(slug="waar-testen", language="fr", theme="testen", title="Où me faire dépister ?", short_answer="Dans un centre de dépistage.", status=ArticleStatus.PUBLISHED),
                Article(slug="concept-artikel", language="nl", theme="testen", title="Nog niet klaar", short_answer="Concept.", status=ArticleStatus.DRAFT),
            ]
        )
    return "waar-testen"


def test_article_inserted_in_ticket_language(agent_client, settings, article):
    ticket_id = make_ticket(settings, language="fr")
    page = page_of(agent_client, ticket_id)
    assert "Où me faire dépister ?" in page
    assert "Nog niet klaar" not in page

    post(agent_client, ticket_id, "draft", {"body": "Bonjour,", "article": article, "insert_article": "1"})
    with session_scope(settings) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.draft == f"Bonjour,\n\nOù me faire dépister ?\nDans un centre de dépistage.\n{settings.public_url}/faq/fr/waar-testen"
        assert ticket.draft_slugs == ["waar-testen"]


SIGNED_DRAFT = "Dag,\n\nBedankt voor je vraag.\n\nHeb je nog vragen? Antwoord gewoon op deze mail.\n\nMet vriendelijke groeten,\nHet team"


def test_article_inserted_before_sign_off(agent_client, settings, article):
    ticket_id = make_ticket(settings, language="nl")

    post(agent_client, ticket_id, "draft", {"body": SIGNED_DRAFT.replace("\n", "\r\n"), "article": article, "insert_article": "1"})

    with session_scope(settings) as session:
        draft = session.get(Ticket, ticket_id).draft
    assert draft.index("Bedankt voor je vraag.") < draft.index("Waar kan ik me laten testen?")
    assert draft.index("Bij een testcentrum, anoniem.") < draft.index("Heb je nog vragen?")
    assert draft.endswith("Met vriendelijke groeten,\nHet team")


def test_article_inserted_at_posted_cursor(agent_client, settings, article):
    ticket_id = make_ticket(settings, language="nl")
    cursor = len("Dag,\n")

    post(agent_client, ticket_id, "draft", {"body": SIGNED_DRAFT, "article": article, "insert_article": "1", "cursor": str(cursor)})

    with session_scope(settings) as session:
        draft = session.get(Ticket, ticket_id).draft
    assert draft.startswith("Dag,\n\nWaar kan ik me laten testen?\n")
    assert draft.index("anoniem.") < draft.index("Bedankt voor je vraag.")


def test_ticket_page_loads_cursor_script(agent_client, settings):
    page = page_of(agent_client, make_ticket(settings))

    assert 'src="/static/ticket-tools.js"' in page
    assert 'data-cursor-field="draft-cursor"' in page
    assert 'id="draft-cursor"' in page


def test_unpublished_article_is_not_inserted(agent_client, settings, article):
    ticket_id = make_ticket(settings, language="nl")
    post(agent_client, ticket_id, "draft", {"body": "Hallo", "article": "concept-artikel", "insert_article": "1"})
    with session_scope(settings) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.draft == "Hallo"
        assert ticket.draft_slugs == []


# Reveal


def ticket_with_original(settings) -> tuple[int, int]:
    ticket_id = make_ticket(settings, "Vraag", "Hallo, ik ben [naam] en mijn nummer is [telefoonnummer].")
    with session_scope(settings) as session:
        message = session.scalar(select(Message).where(Message.ticket_id == ticket_id))
        message.original_encrypted = encrypt(settings, ORIGINAL)
        return ticket_id, message.id


@pytest.mark.parametrize(("role", "can_reveal"), [(Role.AGENT, False), (Role.EDITOR, False)])
def test_reveal_rejected_without_right(app, settings, role, can_reveal):
    ticket_id, message_id = ticket_with_original(settings)
    client = signed_in(app, settings, "staff@helpdesk.test", role, can_reveal=can_reveal)
    assert "Origineel bekijken" not in page_of(client, ticket_id)

    response = post(client, ticket_id, "reveal", {"message": str(message_id), "reason": "controle van de afscherming"})
    assert response.status_code == 302
    assert ORIGINAL not in client.get(response.headers["Location"]).get_data(as_text=True)
    with session_scope(settings) as session:
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "reveal")).all() == []


def test_reveal_shows_original_and_audits(app, settings):
    ticket_id, message_id = ticket_with_original(settings)
    client = signed_in(app, settings, "editor@helpdesk.test", Role.EDITOR, can_reveal=True)
    assert "Origineel bekijken" in page_of(client, ticket_id)

    short = post(client, ticket_id, "reveal", {"message": str(message_id), "reason": "kort"})
    assert short.status_code == 302
    response = post(client, ticket_id, "reveal", {"message": str(message_id), "reason": "cliënt vraagt naar eigen gegevens"})
    assert response.status_code == 200
    assert ORIGINAL in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert ORIGINAL not in page_of(client, ticket_id)  # shown once, in that response only

    with session_scope(settings) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "reveal")).all()
        assert [(entry.object_id, entry.reason) for entry in entries] == [(str(message_id), "cliënt vraagt naar eigen gegevens")]
        assert "original_revealed" in [event.kind for event in session.get(Ticket, ticket_id).events]


def test_reveal_of_other_tickets_message_is_not_found(app, settings):
    ticket_id, _ = ticket_with_original(settings)
    _, other_message_id = ticket_with_original(settings)
    client = signed_in(app, settings, "editor@helpdesk.test", Role.EDITOR, can_reveal=True)
    response = post(client, ticket_id, "reveal", {"message": str(other_message_id), "reason": "cliënt vraagt naar eigen gegevens"})
    assert response.status_code == 404


# Erase


def test_agent_cannot_erase(agent_client, settings):
    ticket_id = make_ticket(settings)
    assert "Ticket wissen" not in page_of(agent_client, ticket_id)
    response = post(agent_client, ticket_id, "erase", {"reason": "verzoek van de cliënt", "confirm": str(ticket_id)})
    assert response.status_code == 302
    with session_scope(settings) as session:
        assert session.get(Ticket, ticket_id) is not None


def test_erase_needs_matching_number(app, settings):
    ticket_id = make_ticket(settings)
    client = signed_in(app, settings, "boss@helpdesk.test", Role.ADMIN)
    post(client, ticket_id, "erase", {"reason": "verzoek van de cliënt", "confirm": str(ticket_id + 1)})
    with session_scope(settings) as session:
        assert session.get(Ticket, ticket_id) is not None
    assert "is niet het nummer van dit ticket" in page_of(client, ticket_id)


def test_admin_erases_ticket_and_mailbox_copy(settings, tmp_path):
    maildir = tmp_path / "mailbox"
    for folder in ("cur", "new", "tmp"):
        (maildir / folder).mkdir(parents=True)
    (maildir / "cur" / "1.mail:2,S").write_bytes(b"Message-ID: <wis-mij@client.example.net>\r\nSubject: x\r\n\r\ntekst\r\n")
    (maildir / "cur" / "2.mail:2,S").write_bytes(b"Message-ID: <blijft@client.example.net>\r\nSubject: y\r\n\r\ntekst\r\n")
    url = f"maildir:{maildir}"
    settings = settings.with_overrides(mailbox_urls=(url,))
    app = create_app(settings)
    ticket_id = make_ticket(settings, message_id="wis-mij@client.example.net")
    with session_scope(settings) as session:
        message = session.scalar(select(Message).where(Message.ticket_id == ticket_id))
        message.mailbox = mailbox_key(url)
        message.attachments.append(Attachment(filename="scan.pdf", size=10))
    client = signed_in(app, settings, "boss@helpdesk.test", Role.ADMIN)

    response = post(client, ticket_id, "erase", {"reason": "verzoek van de cliënt per mail", "confirm": str(ticket_id)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/queue/"
    assert f"Ticket #{ticket_id} is gewist." in client.get("/admin/queue/").get_data(as_text=True)

    assert sorted(path.name for path in (maildir / "cur").iterdir()) == ["2.mail:2,S"]
    with session_scope(settings) as session:
        assert session.get(Ticket, ticket_id) is None
        assert session.scalar(select(func.count()).select_from(Message)) == 0
        assert session.scalar(select(func.count()).select_from(ErasedMessage)) == 1
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "erase"))
        assert (entry.object_id, entry.reason) == (str(ticket_id), "verzoek van de cliënt per mail")
    assert client.get(f"/admin/ticket/{ticket_id}").status_code == 404


# Merge, delivery state and query count


def test_merge_offers_only_same_client(agent_client, settings):
    ticket_id = make_ticket(settings, "Eerste vraag")
    other_id = make_ticket(settings, "Tweede vraag")
    stranger_id = make_ticket(settings, "Vreemde", sender="someone.else@example.net")
    page = page_of(agent_client, ticket_id)
    options = re.findall(r'<select id="merge-target" name="target"[^>]*>(.*?)</select>', page, re.DOTALL)
    assert options, "no merge list on the page"
    assert f'value="{other_id}"' in options[0]
    assert f'value="{stranger_id}"' not in options[0]
    assert '<label for="merge-target">' in page


def test_failed_reply_shows_attempts_and_next_try(agent_client, settings):
    ticket_id = make_ticket(settings)
    with session_scope(settings) as session:
        session.add(
            Message(
                ticket_id=ticket_id,
                direction=Direction.OUTBOUND,
                message_id="reply-1@helpdesk.test",
                body="Ons antwoord",
                new_text="Ons antwoord",
                delivery_state=DeliveryState.FAILED,
                delivery_error="451 4.3.0 Mailbox temporarily unavailable",
                delivery_attempts=3,
                next_attempt_at=utcnow() + dt.timedelta(minutes=4),
            )
        )
    page = page_of(agent_client, ticket_id)
    assert "451 4.3.0 Mailbox temporarily unavailable" in page
    assert "3 pogingen" in page
    assert "volgende poging" in page
    assert "Opnieuw verzenden" in page


def test_bounced_reply_is_labelled(agent_client, settings):
    ticket_id = make_ticket(settings)
    with session_scope(settings) as session:
        session.add(Message(ticket_id=ticket_id, direction=Direction.OUTBOUND, message_id="reply-2@helpdesk.test", body="x", delivery_state=DeliveryState.BOUNCED))
    assert "teruggestuurd (bounce)" in page_of(agent_client, ticket_id)


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


def test_ticket_page_query_count_does_not_grow(agent_client, settings, agent):
    ticket_id = make_ticket(settings)
    few = count_queries(settings, agent_client, f"/admin/ticket/{ticket_id}")
    with session_scope(settings) as session:
        for number in range(10):
            message = Message(ticket_id=ticket_id, direction=Direction.INBOUND, message_id=f"extra-{number}@x", body=f"Bericht {number}")
            message.attachments.append(Attachment(filename=f"bijlage-{number}.pdf", size=number))
            session.add(message)
            session.add(TicketEvent(ticket_id=ticket_id, user_id=agent, kind="note_added"))
    many = count_queries(settings, agent_client, f"/admin/ticket/{ticket_id}")
    assert many == few


def test_every_label_points_to_one_field(settings, tmp_path):
    ticket_id = make_ticket(settings)
    make_ticket(settings, "Tweede vraag")  # so the merge form is shown
    app = create_app(settings)
    client = signed_in(app, settings, "boss@helpdesk.test", Role.ADMIN)  # admins see every form
    page = page_of(client, ticket_id)
    targets = re.findall(r'<label[^>]* for="([^"]+)"', page)
    assert len(targets) >= 8
    for target in targets:
        assert len(re.findall(rf'\bid="{re.escape(target)}"', page)) == 1, target
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert sorted(name for name in set(ids) if ids.count(name) > 1) == []
