"""Retention, erasure and reveal: personal data is gone when it should be."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from helpdesk.accounts.models import AuditEntry, Role, User
from helpdesk.crypto import decrypt, encrypt
from helpdesk.db import session_scope, utcnow
from helpdesk.privacy.erasure import TicketNotFound, erase_ticket, is_erased
from helpdesk.privacy.retention import apply_retention
from helpdesk.privacy.reveal import RevealRefused, reveal_original
from helpdesk.tickets.models import Attachment, Direction, Message, Note, Suggestion, Ticket


def _store_ticket(session, settings, *, age_days: int, message_id: str = "q1@client.test") -> Ticket:
    received = utcnow() - dt.timedelta(days=age_days)
    ticket = Ticket(
        subject="Vraag over testen",
        sender_encrypted=encrypt(settings, "client@example.test"),
        sender_hash="h" * 64,
        created_at=received,
        last_message_at=received,
    )
    message = Message(
        direction=Direction.INBOUND,
        message_id=message_id,
        raw_sha256=message_id.ljust(64, "0")[:64],
        mailbox="imap-main",
        subject="Vraag over testen",
        body="Ik ben [naam], waar kan ik testen?",
        original_encrypted=encrypt(settings, "Ik ben Jan Peeters, waar kan ik testen?"),
        raw_encrypted=encrypt(settings, b"raw message bytes"),
        received_at=received,
    )
    message.attachments.append(
        Attachment(filename="scan.pdf", content_type="application/pdf", size=4, data_encrypted=encrypt(settings, b"%PDF"))
    )
    ticket.messages.append(message)
    ticket.suggestions.append(Suggestion(slug="waar-testen", title="Waar kan ik me laten testen?", score=3.2))
    ticket.notes.append(Note(body="intern"))
    session.add(ticket)
    session.flush()
    return ticket


def test_retention_deletes_expired_data_only(settings):
    with session_scope(settings) as session:
        old_id = _store_ticket(session, settings, age_days=400, message_id="old@client.test").id
        new_id = _store_ticket(session, settings, age_days=1, message_id="new@client.test").id

    with session_scope(settings) as session:
        summary = apply_retention(session, settings)

    assert summary.raw_deleted == 1
    assert summary.originals_deleted == 1
    assert summary.senders_deleted == 1
    assert summary.attachments_deleted == 1
    assert [copy.message_id for copy in summary.mailbox_copies] == ["old@client.test"]

    with session_scope(settings) as session:
        old = session.get(Ticket, old_id)
        assert old.sender_encrypted is None
        assert old.messages[0].raw_encrypted is None
        assert old.messages[0].original_encrypted is None
        assert old.messages[0].attachments[0].data_encrypted is None
        assert old.messages[0].body == "Ik ben [naam], waar kan ik testen?"

        new = session.get(Ticket, new_id)
        assert new.sender_encrypted is not None
        assert new.messages[0].raw_encrypted is not None
        assert new.messages[0].original_encrypted is not None


def test_retention_periods_come_from_settings(settings):
    strict = settings.with_overrides(retention_raw_days=0, retention_original_days=0, retention_sender_days=0)
    with session_scope(settings) as session:
        _store_ticket(session, settings, age_days=1)

    with session_scope(strict) as session:
        summary = apply_retention(session, strict)

    assert summary.raw_deleted == 1
    assert summary.senders_deleted == 1


def test_mailbox_copies_not_listed_when_policy_off(settings):
    keep_on_server = settings.with_overrides(retention_delete_from_mailbox=False)
    with session_scope(settings) as session:
        _store_ticket(session, settings, age_days=400)

    with session_scope(keep_on_server) as session:
        summary = apply_retention(session, keep_on_server)

    assert summary.raw_deleted == 1
    assert summary.mailbox_copies == []


def test_erase_ticket_removes_everything(settings):
    with session_scope(settings) as session:
        ticket_id = _store_ticket(session, settings, age_days=3).id

    with session_scope(settings) as session:
        copies = erase_ticket(session, settings, ticket_id, None, "verzoek van de cliënt per mail")

    assert [(copy.mailbox, copy.message_id) for copy in copies] == [("imap-main", "q1@client.test")]
    with session_scope(settings) as session:
        assert session.get(Ticket, ticket_id) is None
        for model in (Message, Attachment, Suggestion, Note):
            assert session.scalar(select(func.count()).select_from(model)) == 0
        assert is_erased(session, settings, "q1@client.test", None)
        assert not is_erased(session, settings, "other@client.test", None)
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "erase")).one()
        assert entry.object_id == str(ticket_id)


def test_erase_unknown_ticket_raises(settings):
    with session_scope(settings) as session, pytest.raises(TicketNotFound, match="Ticket 999"):
        erase_ticket(session, settings, 999, None, "test")


def _user(session, *, role=Role.AGENT, can_reveal=False) -> User:
    user = User(email=f"{role.value}-{can_reveal}@staff.test", password_hash="x", role=role, can_reveal=can_reveal)
    session.add(user)
    session.flush()
    return user


def test_reveal_needs_right_and_reason(settings):
    with session_scope(settings) as session:
        message_id = _store_ticket(session, settings, age_days=1).messages[0].id
        agent = _user(session)
        revealer = _user(session, can_reveal=True)

        with pytest.raises(RevealRefused, match="geen recht"):
            reveal_original(session, settings, message_id, agent, "om de vraag beter te begrijpen")
        with pytest.raises(RevealRefused, match="reden"):
            reveal_original(session, settings, message_id, revealer, "kort")

        original = reveal_original(session, settings, message_id, revealer, "naam nodig voor doorverwijzing")

        assert original == "Ik ben Jan Peeters, waar kan ik testen?"
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "reveal")).all()
        assert [(entry.user_id, entry.object_id) for entry in entries] == [(revealer.id, str(message_id))]


def test_reveal_after_retention_is_refused(settings):
    with session_scope(settings) as session:
        message_id = _store_ticket(session, settings, age_days=400).messages[0].id
    with session_scope(settings) as session:
        apply_retention(session, settings)
    with session_scope(settings) as session:
        admin = _user(session, role=Role.ADMIN)
        with pytest.raises(RevealRefused, match="niet bewaard of al verwijderd"):
            reveal_original(session, settings, message_id, admin, "controle van de redactie")


def test_encrypted_sender_round_trip(settings):
    token = encrypt(settings, "client@example.test")
    assert b"client" not in token
    assert decrypt(settings, token) == "client@example.test"
