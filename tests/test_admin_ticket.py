import pytest
from sqlalchemy import select

from admin.app import create_app
from helpdesk.accounts.models import AuditEntry, Role
from helpdesk.crypto import encrypt
from helpdesk.db import session_scope
from helpdesk.tickets.models import (
    Attachment,
    DeliveryState,
    Direction,
    Message,
    Note,
    Suggestion,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from tests.admin_fixtures import (  # noqa: F401 (pytest fixtures)
    CLIENT_ADDRESS,
    agent,
    agent_client,
    app,
    client,
    csrf_token,
    inline_delivery,
    login,
    make_ticket,
    make_user,
)
from tests.services.ports import free_port

REMOTE_IMAGE = "https://tracker.example.com/pixel.gif"


@pytest.fixture
def ticket_id(settings) -> int:
    ticket_id = make_ticket(
        settings,
        "Vraag over [naam]",
        "Hallo, ik ben [naam] en mijn nummer is [telefoonnummer].\n\n> Eerder bericht met citaat\n> tweede regel",
        new_text="Hallo, ik ben [naam] en mijn nummer is [telefoonnummer].",
        html=f'<p>Hallo <b>[naam]</b></p><img src="{REMOTE_IMAGE}"><p style="color:red">rood</p>',
        theme="gezondheid",
        language="nl",
    )
    with session_scope(settings) as session:
        message = session.scalar(select(Message).where(Message.ticket_id == ticket_id))
        message.attachments.append(Attachment(filename="uitslag.pdf", content_type="application/pdf", size=12_800))
        message.original_encrypted = encrypt(settings, "Hallo, ik ben Jan Peeters en mijn nummer is 0470 12 34 56.")
        session.add(Suggestion(ticket_id=ticket_id, slug="soa-test", title="Waar laat ik me testen?", score=7.25, rank=1, matched_terms=["test", "soa"]))
    return ticket_id


def page_of(client, ticket_id: int) -> str:
    response = client.get(f"/admin/ticket/{ticket_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post(client, ticket_id: int, action: str, data: dict):
    data = {"csrf_token": csrf_token(client, f"/admin/ticket/{ticket_id}"), **data}
    return client.post(f"/admin/ticket/{ticket_id}/{action}", data=data)


def test_ticket_page_shows_redacted_text_only(agent_client, ticket_id):
    page = page_of(agent_client, ticket_id)
    assert "Hallo, ik ben [naam] en mijn nummer is [telefoonnummer]." in page
    assert "Jan Peeters" not in page
    assert "0470 12 34 56" not in page
    assert CLIENT_ADDRESS not in page


def test_ticket_page_collapses_quotes_and_strips_remote_content(agent_client, ticket_id):
    page = page_of(agent_client, ticket_id)
    details_start = page.index("<details>")
    assert page.index("&gt; Eerder bericht met citaat") > details_start
    assert "<b>[naam]</b>" in page
    assert REMOTE_IMAGE not in page
    assert "<img" not in page
    assert 'style="color:red"' not in page


def test_ticket_page_lists_attachments_without_links(agent_client, ticket_id):
    page = page_of(agent_client, ticket_id)
    assert "uitslag.pdf" in page
    assert "application/pdf" in page
    assert "12,5 kB" in page
    assert 'href="' not in page[page.index("uitslag.pdf") - 200 : page.index("uitslag.pdf")]


def test_ticket_page_shows_suggestions_with_score_and_words(agent_client, ticket_id):
    page = page_of(agent_client, ticket_id)
    assert "Waar laat ik me testen?" in page
    assert "7,25" in page  # Belgian decimal comma
    assert "test, soa" in page
    assert 'href="/faq/nl/soa-test"' in page


def test_note_assign_and_status_write_history(agent_client, ticket_id, agent, settings):
    assert post(agent_client, ticket_id, "note", {"body": "Intern: bel de partnerorganisatie"}).status_code == 302
    assert post(agent_client, ticket_id, "assign", {"assignee": str(agent)}).status_code == 302
    assert post(agent_client, ticket_id, "status", {"status": "open"}).status_code == 302

    with session_scope(settings) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.assignee_id == agent
        assert ticket.status == TicketStatus.OPEN
        assert [note.body for note in ticket.notes] == ["Intern: bel de partnerorganisatie"]
        kinds = [event.kind for event in ticket.events]
        assert kinds == ["note_added", "assigned", "status_changed"]

    page = page_of(agent_client, ticket_id)
    assert "Intern: bel de partnerorganisatie" in page
    assert "notitie toegevoegd" in page
    assert "status gewijzigd: nieuw → open" in page
    assert "toewijzing gewijzigd: Agent Anna" in page


def test_empty_note_is_rejected(agent_client, ticket_id, settings):
    post(agent_client, ticket_id, "note", {"body": "   "})
    with session_scope(settings) as session:
        assert session.scalars(select(Note)).all() == []


def test_save_draft(agent_client, ticket_id, settings):
    response = post(agent_client, ticket_id, "draft", {"body": "Beste, hier is ons antwoord.", "save": "1"})
    assert response.status_code == 302
    with session_scope(settings) as session:
        assert session.get(Ticket, ticket_id).draft == "Beste, hier is ons antwoord."
    assert "Beste, hier is ons antwoord." in page_of(agent_client, ticket_id)


def test_merge_tickets_of_same_client(agent_client, ticket_id, settings):
    other_id = make_ticket(settings, "Tweede vraag", "Nog iets.")
    stranger_id = make_ticket(settings, "Vreemde", "Andere afzender.", sender="someone.else@example.net")

    page = page_of(agent_client, ticket_id)
    assert f'href="/admin/ticket/{other_id}"' in page
    assert f'href="/admin/ticket/{stranger_id}"' not in page

    refused = post(agent_client, stranger_id, "merge", {"target": str(ticket_id)})
    assert refused.headers["Location"] == f"/admin/ticket/{stranger_id}"
    merged = post(agent_client, other_id, "merge", {"target": str(ticket_id)})
    assert merged.headers["Location"] == f"/admin/ticket/{ticket_id}"

    with session_scope(settings) as session:
        assert session.get(Ticket, stranger_id).merged_into_id is None
        source = session.get(Ticket, other_id)
        assert source.merged_into_id == ticket_id
        assert source.status == TicketStatus.CLOSED
        assert len(session.get(Ticket, ticket_id).messages) == 2


def raw_ticket(settings) -> tuple[int, int]:
    ticket_id = make_ticket(settings, "", "", status=TicketStatus.QUARANTINED, quarantine_reason="MIME-structuur onleesbaar")
    with session_scope(settings) as session:
        message = session.scalar(select(Message).where(Message.ticket_id == ticket_id))
        message.raw_encrypted = encrypt(settings, b"From: x\r\nSubject: kapot\r\n\r\n\xff\xfe")
        return ticket_id, message.id


def test_quarantine_download_needs_reveal_right(agent_client, settings):
    ticket_id, message_id = raw_ticket(settings)
    page = page_of(agent_client, ticket_id)
    assert "MIME-structuur onleesbaar" in page
    assert "geen recht" in page

    response = post(agent_client, ticket_id, "raw", {"message": str(message_id), "reason": "controle van de opmaak"})
    assert response.status_code == 302
    with session_scope(settings) as session:
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).all() == []


def test_raw_download_is_audit_logged(client, settings):
    ticket_id, message_id = raw_ticket(settings)
    user_id = make_user(settings, "reveal@helpdesk.test", Role.AGENT, can_reveal=True)
    login(client, "reveal@helpdesk.test")

    short = post(client, ticket_id, "raw", {"message": str(message_id), "reason": "kort"})
    assert short.status_code == 302
    response = post(client, ticket_id, "raw", {"message": str(message_id), "reason": "controle van de opmaak"})
    assert response.status_code == 200
    assert response.data == b"From: x\r\nSubject: kapot\r\n\r\n\xff\xfe"
    assert response.mimetype == "application/octet-stream"
    assert "attachment" in response.headers["Content-Disposition"]

    with session_scope(settings) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).all()
        assert [(entry.user_id, entry.object_id, entry.reason) for entry in entries] == [
            (user_id, str(message_id), "controle van de opmaak")
        ]


def test_send_delivers_reply_over_smtp(settings, smtp_server, agent, inline_delivery):
    app = create_app(settings.with_overrides(smtp_url=smtp_server.url))
    client = app.test_client()
    login(client, "agent@helpdesk.test")
    ticket_id = make_ticket(settings, "Vraag over PrEP", "Waar vind ik PrEP?", message_id="vraag-1@client.example.net")

    response = post(client, ticket_id, "draft", {"body": "Beste,\n\nJe vindt PrEP bij een hiv-referentiecentrum.", "send": "1"})
    assert response.status_code == 302

    received = smtp_server.wait_for(1)[0]
    assert received.envelope_to == [CLIENT_ADDRESS]
    assert received.message["To"] == CLIENT_ADDRESS
    assert f"[#{ticket_id}]" in received.message["Subject"]
    assert received.message["In-Reply-To"] == "<vraag-1@client.example.net>"
    assert "hiv-referentiecentrum" in received.message.get_content()

    with session_scope(settings) as session:
        ticket = session.get(Ticket, ticket_id)
        outbound = [message for message in ticket.messages if message.direction == Direction.OUTBOUND]
        assert [message.delivery_state for message in outbound] == [DeliveryState.SENT]
        assert ticket.status == TicketStatus.WAITING
        assert ticket.draft == ""
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "send")) is not None

    page = page_of(client, ticket_id)
    assert "verzonden" in page


def test_failed_send_shows_error_and_retries(settings, smtp_server, agent, inline_delivery):
    down = settings.with_overrides(smtp_url=f"smtp://127.0.0.1:{free_port()}")
    client = create_app(down).test_client()
    login(client, "agent@helpdesk.test")
    ticket_id = make_ticket(settings)

    post(client, ticket_id, "draft", {"body": "Ons antwoord.", "send": "1"})
    with session_scope(settings) as session:
        message = session.scalar(select(Message).where(Message.direction == Direction.OUTBOUND))
        assert message.delivery_state == DeliveryState.FAILED
        message_id = message.id
    page = page_of(client, ticket_id)
    assert "mislukt" in page
    assert f"/admin/ticket/{ticket_id}/retry/{message_id}" in page

    client = create_app(settings.with_overrides(smtp_url=smtp_server.url)).test_client()
    login(client, "agent@helpdesk.test")
    post(client, ticket_id, f"retry/{message_id}", {})
    assert len(smtp_server.wait_for(1)) == 1
    with session_scope(settings) as session:
        assert session.get(Message, message_id).delivery_state == DeliveryState.SENT
        assert "reply_retried" in [event.kind for event in session.scalars(select(TicketEvent))]


def test_send_hands_reply_to_registered_dispatcher(agent_client, settings, monkeypatch):
    from helpdesk.plugins import get_registry

    calls = []
    dispatchers = {**get_registry().task_dispatchers, "send_reply": lambda message_id, settings: calls.append((message_id, settings))}
    monkeypatch.setattr(get_registry(), "task_dispatchers", dispatchers)
    ticket_id = make_ticket(settings)

    post(agent_client, ticket_id, "draft", {"body": "Ons antwoord.", "send": "1"})
    with session_scope(settings) as session:
        message = session.scalar(select(Message).where(Message.direction == Direction.OUTBOUND))
        assert message.delivery_state == DeliveryState.QUEUED
        assert calls == [(message.id, settings)]
    assert "in de wachtrij" in page_of(agent_client, ticket_id)


def test_send_keeps_reply_queued_when_dispatch_fails(agent_client, settings, monkeypatch):
    from helpdesk.plugins import get_registry

    def _broken(message_id, settings):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(get_registry(), "task_dispatchers", {**get_registry().task_dispatchers, "send_reply": _broken})
    ticket_id = make_ticket(settings)

    response = post(agent_client, ticket_id, "draft", {"body": "Ons antwoord.", "send": "1"})
    assert response.status_code == 302
    with session_scope(settings) as session:
        message = session.scalar(select(Message).where(Message.direction == Direction.OUTBOUND))
        assert message.delivery_state == DeliveryState.QUEUED
    assert "de verzendtaak kon niet gestart worden" in page_of(agent_client, ticket_id)


def test_add_and_drop_article_recompose_draft(agent_client, ticket_id, settings):
    pytest.importorskip("kb.drafts", reason="the knowledge-base drafts module is not installed")
    post(agent_client, ticket_id, "article", {"slug": "soa-test", "action": "add"})
    with session_scope(settings) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.draft_slugs == ["soa-test"]
        assert ticket.draft

    post(agent_client, ticket_id, "article", {"slug": "soa-test", "action": "drop"})
    with session_scope(settings) as session:
        assert session.get(Ticket, ticket_id).draft_slugs == []
