"""Staff actions in helpdesk.tickets.services, which the ticket page calls."""

import pytest
from sqlalchemy import select

from helpdesk.accounts.models import AuditEntry, Role, User
from helpdesk.crypto import encrypt
from helpdesk.db import session_scope
from helpdesk.privacy.reveal import RevealRefused
from helpdesk.tickets import services
from helpdesk.tickets.models import DeliveryState, Direction, Message, Ticket, TicketStatus
from helpdesk.tickets.services import TicketActionError
from tests.admin_fixtures import make_ticket, make_user


@pytest.fixture
def staff_id(settings) -> int:
    return make_user(settings, "agent@helpdesk.test", Role.AGENT)


def test_set_status_records_event_once(settings, staff_id):
    ticket_id = make_ticket(settings)
    with session_scope(settings) as session:
        ticket, user = session.get(Ticket, ticket_id), session.get(User, staff_id)
        services.set_status(session, ticket, "open", user)
        services.set_status(session, ticket, TicketStatus.OPEN, user)
        with pytest.raises(TicketActionError, match="Onbekende status 'done'"):
            services.set_status(session, ticket, "done", user)
    with session_scope(settings) as session:
        events = session.get(Ticket, ticket_id).events
        assert [(event.kind, event.detail) for event in events] == [("status_changed", {"from": "new", "to": "open"})]


def test_assign_rejects_inactive_user(settings, staff_id):
    ticket_id = make_ticket(settings)
    inactive_id = make_user(settings, "gone@helpdesk.test", Role.AGENT, active=False)
    with session_scope(settings) as session:
        ticket, user = session.get(Ticket, ticket_id), session.get(User, staff_id)
        with pytest.raises(TicketActionError, match="niet actief"):
            services.assign(session, ticket, session.get(User, inactive_id), user)
        services.assign(session, ticket, user, user)
        services.assign(session, ticket, None, user)
        assert ticket.assignee_id is None
        assert [event.detail for event in ticket.events] == [{"from": None, "to": staff_id}, {"from": staff_id, "to": None}]


def test_add_note_rejects_empty_and_long_text(settings, staff_id):
    ticket_id = make_ticket(settings)
    with session_scope(settings) as session:
        ticket, user = session.get(Ticket, ticket_id), session.get(User, staff_id)
        with pytest.raises(TicketActionError, match="leeg"):
            services.add_note(session, ticket, user, "  \n ")
        with pytest.raises(TicketActionError, match="tekens lang"):
            services.add_note(session, ticket, user, "x" * (services.MAX_NOTE_LENGTH + 1))
        note = services.add_note(session, ticket, user, " Bellen morgen ")
        assert note.body == "Bellen morgen"


def test_merge_moves_messages_and_needs_same_sender(settings, staff_id):
    target_id = make_ticket(settings, "Eerste")
    source_id = make_ticket(settings, "Tweede", urgent=True, urgent_reason="pep")
    stranger_id = make_ticket(settings, "Ander", sender="other@example.net")
    with session_scope(settings) as session:
        user = session.get(User, staff_id)
        target, source, stranger = (session.get(Ticket, i) for i in (target_id, source_id, stranger_id))
        with pytest.raises(TicketActionError, match="niet van dezelfde afzender"):
            services.merge_tickets(session, stranger, target, user)
        with pytest.raises(TicketActionError, match="met zichzelf"):
            services.merge_tickets(session, target, target, user)
        services.merge_tickets(session, source, target, user)
        with pytest.raises(TicketActionError, match="al samengevoegd"):
            services.merge_tickets(session, source, target, user)

    with session_scope(settings) as session:
        target, source = session.get(Ticket, target_id), session.get(Ticket, source_id)
        assert len(target.messages) == 2
        assert source.messages == []
        assert target.urgent and target.urgent_reason == "pep"
        assert source.status == TicketStatus.CLOSED
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "merge")).object_id == str(target_id)


def test_tickets_of_same_client_leaves_out_others(settings):
    first = make_ticket(settings)
    second = make_ticket(settings)
    make_ticket(settings, sender="other@example.net")
    with session_scope(settings) as session:
        others = services.tickets_of_same_client(session, session.get(Ticket, first))
        assert [ticket.id for ticket in others] == [second]


def test_raw_download_needs_right_reason_and_copy(settings, staff_id):
    ticket_id = make_ticket(settings)
    revealer_id = make_user(settings, "reveal@helpdesk.test", Role.AGENT, can_reveal=True)
    with session_scope(settings) as session:
        message = session.scalar(select(Message).where(Message.ticket_id == ticket_id))
        agent, revealer = session.get(User, staff_id), session.get(User, revealer_id)
        with pytest.raises(RevealRefused, match="geen recht"):
            services.raw_message_for_download(session, settings, message, agent, "een geldige reden hier")
        with pytest.raises(RevealRefused, match="minstens 10"):
            services.raw_message_for_download(session, settings, message, revealer, "kort")
        with pytest.raises(RevealRefused, match="niet bewaard"):
            services.raw_message_for_download(session, settings, message, revealer, "een geldige reden hier")
        message.raw_encrypted = encrypt(settings, b"raw bytes")
        assert services.raw_message_for_download(session, settings, message, revealer, "een geldige reden hier") == b"raw bytes"


def test_retry_only_for_failed_outbound(settings, staff_id):
    ticket_id = make_ticket(settings)
    with session_scope(settings) as session:
        ticket, user = session.get(Ticket, ticket_id), session.get(User, staff_id)
        inbound = ticket.messages[0]
        with pytest.raises(TicketActionError, match="niet mislukt"):
            services.retry_delivery(session, inbound, user)
        message = services.queue_ticket_reply(session, settings, ticket, "Antwoord", user)
        message.delivery_state = DeliveryState.FAILED
        message.next_attempt_at = None
        services.retry_delivery(session, message, user)
        assert message.delivery_state == DeliveryState.QUEUED
        assert message.next_attempt_at is not None


def test_queue_reply_needs_text_and_sender(settings, staff_id):
    ticket_id = make_ticket(settings)
    with session_scope(settings) as session:
        ticket, user = session.get(Ticket, ticket_id), session.get(User, staff_id)
        with pytest.raises(TicketActionError, match="leeg"):
            services.queue_ticket_reply(session, settings, ticket, "   ", user)
        ticket.sender_encrypted = None
        with pytest.raises(TicketActionError, match="geen afzenderadres"):
            services.queue_ticket_reply(session, settings, ticket, "Antwoord", user)
        assert [m for m in ticket.messages if m.direction == Direction.OUTBOUND] == []


def test_reply_collision_names_authors(settings, staff_id):
    other_id = make_user(settings, "other@helpdesk.test", Role.AGENT)
    ticket_id = make_ticket(settings)
    with session_scope(settings) as session:
        ticket, user, other = session.get(Ticket, ticket_id), session.get(User, staff_id), session.get(User, other_id)
        seen = services.last_reply_id(session, ticket)
        assert seen == 0
        services.queue_ticket_reply(session, settings, ticket, "Eerste antwoord", other, seen_reply_id=seen)
        with pytest.raises(services.ReplyCollision, match="beantwoord nadat je de pagina opende") as caught:
            services.queue_ticket_reply(session, settings, ticket, "Tweede antwoord", user, seen_reply_id=seen)
        assert caught.value.authors == [other_id]
        services.queue_ticket_reply(session, settings, ticket, "Tweede antwoord", user, seen_reply_id=seen, confirmed=True)
        assert services.last_reply_id(session, ticket) > seen


def test_insert_into_draft_adds_slug_once(settings, staff_id):
    ticket_id = make_ticket(settings)
    with session_scope(settings) as session:
        ticket, user = session.get(Ticket, ticket_id), session.get(User, staff_id)
        services.insert_into_draft(session, ticket, "Hallo", "Artikel A", user, slug="a")
        services.insert_into_draft(session, ticket, ticket.draft, "Artikel A", user, slug="a")
        assert ticket.draft == "Hallo\n\nArtikel A\n\nArtikel A"
        assert ticket.draft_slugs == ["a"]
        services.insert_into_draft(session, ticket, "", "Alleen dit", user, macro_id=3)
        assert ticket.draft == "Alleen dit"


def test_erase_needs_admin_and_reason(settings, staff_id):
    ticket_id = make_ticket(settings)
    admin_id = make_user(settings, "boss@helpdesk.test", Role.ADMIN)
    with session_scope(settings) as session:
        ticket = session.get(Ticket, ticket_id)
        with pytest.raises(TicketActionError, match="Alleen beheerders"):
            services.erase_ticket_everywhere(session, settings, ticket, session.get(User, staff_id), "verzoek van de cliënt")
        with pytest.raises(TicketActionError, match="minstens 10 tekens"):
            services.erase_ticket_everywhere(session, settings, ticket, session.get(User, admin_id), "kort")
    with session_scope(settings) as session:
        summary = services.erase_ticket_everywhere(session, settings, session.get(Ticket, ticket_id), session.get(User, admin_id), "verzoek van de cliënt")
        assert (summary.deleted, summary.failed) == (0, 0)  # the test message has no mailbox copy
    with session_scope(settings) as session:
        assert session.get(Ticket, ticket_id) is None


def test_presence_ignores_self_and_inactive(settings, staff_id):
    from helpdesk.tickets.presence import others_present, record_presence

    ticket_id = make_ticket(settings)
    active_id = make_user(settings, "active@helpdesk.test", Role.AGENT, display_name="Actief")
    gone_id = make_user(settings, "gone@helpdesk.test", Role.AGENT, active=False)
    with session_scope(settings) as session:
        me, active, gone = (session.get(User, user_id) for user_id in (staff_id, active_id, gone_id))
        for user in (me, active, gone):
            record_presence(session, ticket_id, user)
        record_presence(session, ticket_id, active, editing=True)  # a second visit updates the row
        present = others_present(session, ticket_id, me)
        assert [(person.name, person.editing) for person in present] == [("Actief", True)]


def test_macro_rules(settings, staff_id):
    from helpdesk.tickets.macros import Macro, MacroError, prepare_macro, validate_macro

    with pytest.raises(MacroError, match="titel .* is leeg"):
        validate_macro("  ", "nl", "tekst")
    with pytest.raises(MacroError, match="Taal 'de' bestaat niet"):
        validate_macro("Titel", "de", "tekst")
    with pytest.raises(MacroError, match="tekst van het standaardantwoord is leeg"):
        validate_macro("Titel", "nl", " ")
    editor_id = make_user(settings, "editor@helpdesk.test", Role.EDITOR)
    with session_scope(settings) as session:
        macro = Macro(title=" Titel ", language="nl", body=" Tekst ")
        session.add(macro)
        with pytest.raises(MacroError, match="Alleen redacteurs en beheerders"):
            prepare_macro(session, session.get(User, staff_id), macro, is_new=True)
        prepare_macro(session, session.get(User, editor_id), macro, is_new=True)
        assert (macro.title, macro.body, macro.active, macro.updated_by_id) == ("Titel", "Tekst", True, editor_id)


def test_totp_required_roles_setting(settings):
    from helpdesk.accounts.services import totp_required_roles
    from helpdesk.config import ConfigError

    assert totp_required_roles(settings) == frozenset()
    assert totp_required_roles(settings.with_overrides(totp_required_roles=" Admin , editor,")) == {Role.ADMIN, Role.EDITOR}
    with pytest.raises(ConfigError, match="'owner', which is not a role"):
        totp_required_roles(settings.with_overrides(totp_required_roles="owner"))
