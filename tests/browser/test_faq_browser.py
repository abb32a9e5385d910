"""From a client's question to a published FAQ article, through the editors' screens in Chromium."""

import re
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from helpdesk.accounts.models import Role, User
from helpdesk.db import session_scope
from helpdesk.ingest.pipeline import ingest_raw
from helpdesk.outbound.services import deliver, queue_reply
from helpdesk.tickets.models import DeliveryState, Message, Ticket
from tests.browser.conftest import PASSWORD
from tests.admin_fixtures import make_user

pytestmark = pytest.mark.browser

ANSWER = (
    "Dag,\n\nBedankt voor je vraag.\n\n"
    "PrEP is een pil die je beschermt tegen hiv. Je krijgt ze via een hiv-referentiecentrum.\n\n"
    "Groeten,\nHet team"
)


def client_mail(settings) -> bytes:
    mail = EmailMessage()
    mail["From"] = "Jan Peeters <jan.peeters@example.net>"
    mail["To"] = settings.from_address
    mail["Subject"] = "Vraag over PrEP"
    mail["Message-ID"] = "<prep-faq@client.example.net>"
    mail.set_content("Hallo, ik ben Jan Peeters.\n\nWaar kan ik PrEP krijgen?\n\nJan")
    return mail.as_bytes()


def answered_question(settings) -> int:
    """Ingest a client's mail, send a staff answer over SMTP and return the answer's row id."""
    with session_scope(settings) as session:
        outcome = ingest_raw(session, settings, client_mail(settings))
        ticket = session.get(Ticket, outcome.ticket_id)
        author = session.scalar(select(User).where(User.email == "editor@helpdesk.test"))
        answer = queue_reply(session, settings, ticket, ANSWER, author)
        answer_id = answer.id
    with session_scope(settings) as session:
        deliver(session, settings, answer_id)
    with session_scope(settings) as session:
        assert session.get(Message, answer_id).delivery_state == DeliveryState.SENT
    return answer_id


@pytest.fixture
def editor_page(live_server, page):
    make_user(live_server.settings, "editor@helpdesk.test", Role.EDITOR, display_name="Redacteur Rita")
    page.goto(f"{live_server.url}/admin/login")
    page.get_by_label("E-mailadres").fill("editor@helpdesk.test")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_load_state()
    return page


def test_question_becomes_published_article(live_server, editor_page, smtp_server, page_events):
    page = editor_page
    answer_id = answered_question(live_server.settings)
    assert smtp_server.wait_for(1)

    page.goto(f"{live_server.url}/admin/editor/")
    page.locator(f'a[href="/admin/editor/new?message={answer_id}"]').click()
    page.wait_for_url(re.compile(r"/admin/editor/new\?message="))
    assert page.get_by_label("Vraag (titel)").input_value() == "Waar kan ik PrEP krijgen?"
    assert "hiv-referentiecentrum" in page.get_by_label("Tekst (Markdown)").input_value()
    assert "Peeters" not in page.content()

    page.get_by_label("Trefwoorden (gescheiden door komma's)").fill("prep, hiv")
    page.get_by_label("Adres (slug)").fill("prep-krijgen")
    page.get_by_role("button", name="Concept aanmaken").click()
    page.wait_for_url(re.compile(r"/admin/editor/\d+$"))
    assert page.get_by_text("De controle vond niets.").is_visible()

    page.get_by_role("button", name="Ter nalezing voorleggen").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Publiceren").click()
    page.wait_for_load_state()
    assert page.get_by_text("Het artikel is gepubliceerd.").is_visible()

    page.goto(f"{live_server.url}/faq/nl/")
    page.get_by_role("link", name="Waar kan ik PrEP krijgen?").click()
    page.wait_for_url(f"{live_server.url}/faq/nl/prep-krijgen")
    assert page.get_by_role("heading", level=1).inner_text() == "Waar kan ik PrEP krijgen?"
    assert page.get_by_text("hiv-referentiecentrum").first.is_visible()

    page.get_by_role("button", name="Ja").click()
    page.wait_for_url(re.compile(r"stem=bedankt"))
    assert page.get_by_text("Bedankt.").is_visible()
    assert page_events.csp_violations() == []
    assert page_events.dialogs == []


def test_identifying_draft_cannot_be_published(live_server, editor_page):
    page = editor_page
    page.goto(f"{live_server.url}/admin/editor/new")
    page.get_by_label("Vraag (titel)").fill("Waar laat ik me testen?")
    page.get_by_label("Kort antwoord").fill("In een centrum voor seksuele gezondheid.")
    page.get_by_label("Tekst (Markdown)").fill("Bel Marieke Janssens op 0470 12 34 56 voor een afspraak.")
    page.get_by_label("Adres (slug)").fill("waar-testen")
    page.get_by_role("button", name="Concept aanmaken").click()
    page.wait_for_url(re.compile(r"/admin/editor/\d+$"))

    problems = page.locator("#problems")
    assert "0470 12 34 56" in problems.inner_text()
    assert "Marieke Janssens" in problems.inner_text()

    page.get_by_role("button", name="Ter nalezing voorleggen").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Publiceren").click()
    page.wait_for_load_state()
    assert page.get_by_text("Publiceren geweigerd").is_visible()
    assert page.get_by_role("button", name="Publiceren").is_visible()  # still in review

    response = page.goto(f"{live_server.url}/faq/nl/waar-testen")
    assert response.status == 404
