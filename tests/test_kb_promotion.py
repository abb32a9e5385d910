"""Article proposals from a sent answer: no mail framing, own FAQ links kept, the first question as title."""

import pytest

from helpdesk.db import session_scope, utcnow
from helpdesk.tickets.models import DeliveryState, Direction, Message
from kb.articles import create_draft
from kb.drafts import render_draft
from kb.promotion import from_message
from kb.publishing import check_content
from tests.admin_fixtures import make_ticket

FIRST_QUESTION = "Hallo, ik ben Jan. Hoe lang na een risico kan ik me anoniem laten testen?"
FOLLOW_UP = "Nog een aanvulling: ik werk in shiften. Is er iets open op die momenten?"


def add_message(settings, ticket_id: int, direction: Direction, body: str, number: int) -> int:
    with session_scope(settings) as session:
        message = Message(
            ticket_id=ticket_id,
            direction=direction,
            message_id=f"message-{ticket_id}-{number}@example.net",
            subject="Re: Anoniem testen",
            body=body,
            new_text=body,
            delivery_state=DeliveryState.SENT if direction == Direction.OUTBOUND else None,
            sent_at=utcnow() if direction == Direction.OUTBOUND else None,
        )
        session.add(message)
        session.flush()
        return message.id


def draft_answer(settings, language: str = "nl") -> str:
    """Return a sent answer as the draft composer writes it, with the agent's own text in it."""
    draft = render_draft(settings, {}, [], language)
    own_text = (
        "Je kunt je anoniem laten testen, drie maanden na het risico. "
        f"Lees meer: {settings.public_url}/faq/nl/anoniem-testen\n\n"
        f"Waar je je kunt laten testen, lees je op {settings.public_url}/faq/nl/waar-testen."
    )
    placeholder = {"nl": "[Schrijf hier het antwoord.]", "fr": "[Écrivez la réponse ici.]", "en": "[Write the answer here.]"}
    assert placeholder[language] in draft
    return draft.replace(placeholder[language], own_text)


@pytest.fixture
def answered_ticket(settings):
    with session_scope(settings) as session:
        create_draft(session, "anoniem-testen", "nl", "Kan ik me anoniem laten testen?", status="published")
    ticket_id = make_ticket(settings, "Anoniem testen", FIRST_QUESTION, language="nl", theme="testen")
    add_message(settings, ticket_id, Direction.INBOUND, FOLLOW_UP, 2)
    return ticket_id


def propose(settings, answer_id: int):
    with session_scope(settings) as session:
        return from_message(session, settings, answer_id)


def test_proposal_drops_draft_framing(settings, answered_ticket):
    answer_id = add_message(settings, answered_ticket, Direction.OUTBOUND, draft_answer(settings), 3)

    proposal = propose(settings, answer_id)

    assert proposal.body.startswith("Je kunt je anoniem laten testen")
    assert "Dag," not in proposal.body
    assert "Bedankt voor je vraag" not in proposal.body
    assert "Heb je nog vragen?" not in proposal.body
    assert "Met vriendelijke groeten" not in proposal.body
    assert settings.from_name not in proposal.body


def test_proposal_keeps_own_faq_links(settings, answered_ticket):
    answer_id = add_message(settings, answered_ticket, Direction.OUTBOUND, draft_answer(settings), 3)

    proposal = propose(settings, answer_id)

    assert "Lees meer: [Kan ik me anoniem laten testen?](/faq/nl/anoniem-testen)" in proposal.body
    assert "lees je op [/faq/nl/waar-testen](/faq/nl/waar-testen)." in proposal.body
    assert "[link]" not in proposal.body
    assert settings.public_url not in proposal.body


def test_proposal_passes_publication_check(settings, answered_ticket):
    answer_id = add_message(settings, answered_ticket, Direction.OUTBOUND, draft_answer(settings), 3)

    proposal = propose(settings, answer_id)

    content = {"title": proposal.title, "short_answer": proposal.short_answer, "body": proposal.body, "keywords": []}
    assert check_content(content) == []


def test_proposal_redacts_other_links(settings, answered_ticket):
    body = draft_answer(settings).replace("drie maanden na het risico.", "kijk op https://escort-anna.example.com/profiel.")
    answer_id = add_message(settings, answered_ticket, Direction.OUTBOUND, body, 3)

    proposal = propose(settings, answer_id)

    assert "escort-anna" not in proposal.body
    assert "[link]" in proposal.body


@pytest.mark.parametrize("language", ["fr", "en"])
def test_proposal_drops_framing_in_language(settings, answered_ticket, language):
    answer_id = add_message(settings, answered_ticket, Direction.OUTBOUND, draft_answer(settings, language), 3)

    proposal = propose(settings, answer_id)

    assert proposal.body.startswith("Je kunt je anoniem laten testen")
    assert proposal.body.endswith("(/faq/nl/waar-testen).")


def test_proposal_title_from_first_question(settings, answered_ticket):
    answer_id = add_message(settings, answered_ticket, Direction.OUTBOUND, draft_answer(settings), 3)

    proposal = propose(settings, answer_id)

    assert proposal.title == "Hoe lang na een risico kan ik me anoniem laten testen?"
    assert proposal.slug == "hoe-lang-na-een-risico-kan-ik-me-anoniem-laten-testen"


def test_proposal_strips_typed_sign_off(settings, answered_ticket):
    body = "Dag,\n\nJe kunt je anoniem laten testen.\n\nMet vriendelijke groeten,\nAnna"
    answer_id = add_message(settings, answered_ticket, Direction.OUTBOUND, body, 3)

    proposal = propose(settings, answer_id)

    assert proposal.body == "Je kunt je anoniem laten testen."


def test_proposal_keeps_site_path_in_links(settings, answered_ticket):
    settings = settings.with_overrides(public_url="https://hulp.example.org/vragen")
    answer_id = add_message(settings, answered_ticket, Direction.OUTBOUND, draft_answer(settings), 3)

    proposal = propose(settings, answer_id)

    assert "[Kan ik me anoniem laten testen?](/vragen/faq/nl/anoniem-testen)" in proposal.body
    assert "lees je op [/vragen/faq/nl/waar-testen](/vragen/faq/nl/waar-testen)." in proposal.body
    assert "hulp.example.org" not in proposal.body
