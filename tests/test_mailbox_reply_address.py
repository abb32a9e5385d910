"""Reply addresses per mailbox: the From of replies and acknowledgements, and mail from our own addresses."""

from __future__ import annotations

from email.utils import parseaddr

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import select

from helpdesk import schema
from helpdesk.accounts.models import AuditEntry
from helpdesk.checks.results import CheckContext, Status
from helpdesk.checks.teams import check_teams
from helpdesk.db import get_engine, session_scope
from helpdesk.ingest.pipeline import ingest_raw
from helpdesk.ingest.polling import poll_all
from helpdesk.ingest.sources import mailbox_key
from helpdesk.outbound.acknowledgement import acknowledge_new_question, skip_reason
from helpdesk.outbound.services import deliver, queue_reply
from helpdesk.teams import services
from helpdesk.teams.models import MailboxRoute
from helpdesk.teams.reply_addresses import forget_own_addresses, is_own_address, reply_sender
from helpdesk.teams.services import TeamError
from helpdesk.tickets.models import Direction, Message, Ticket
from tests.admin_fixtures import (  # noqa: F401 (pytest fixtures)
    admin_user,
    app,
    client,
    csrf_token,
)
from tests.conftest import make_settings
from tests.test_outbound_services import make_staff
from tests.test_teams_admin import admin_client  # noqa: F401 (pytest fixture)
from tests.test_teams_cli import run_cli
from tests.test_teams_services import deliver as put_in_maildir
from tests.test_teams_services import mail

ANTWERPEN_ADDRESS = "antwerpen@helpdesk.example.org"
GENT_ADDRESS = "gent@helpdesk.example.org"
CLIENT = "klant@example.net"


@pytest.fixture(autouse=True)
def _fresh_address_cache():
    forget_own_addresses()
    yield
    forget_own_addresses()


@pytest.fixture
def two_mailboxes(settings, tmp_path, smtp_server):
    """Mailboxes Antwerpen and Gent, each routed to its own team and with its own reply address."""
    antwerpen, gent = tmp_path / "antwerpen", tmp_path / "gent"
    urls = (f"maildir:{antwerpen}", f"maildir:{gent}")
    routed = settings.with_overrides(mailbox_urls=urls, smtp_url=smtp_server.url)
    with session_scope(routed) as session:
        team_a = services.create_team(session, "Antwerpen", None)
        team_b = services.create_team(session, "Gent", None)
        services.route_mailbox(session, urls[0], team_a, None)
        services.route_mailbox(session, urls[1], team_b, None)
        services.set_reply_address(session, urls[0], ANTWERPEN_ADDRESS, "Helpdesk Antwerpen", None)
        services.set_reply_address(session, urls[1], GENT_ADDRESS, "Helpdesk Gent", None)
    return routed, antwerpen, gent


def only_ticket(settings) -> Ticket:
    with session_scope(settings) as session:
        ticket = session.scalars(select(Ticket)).one()
        session.expunge(ticket)
        return ticket


def send_reply(settings, ticket_id: int) -> int:
    with session_scope(settings) as session:
        ticket = session.get(Ticket, ticket_id)
        message = queue_reply(session, settings, ticket, "Beste,\n\nHier is het antwoord.\n\nGroeten", make_staff(session))
        message_id = message.id
    with session_scope(settings) as session:
        assert deliver(session, settings, message_id).state == "sent"
    return message_id


def test_reply_comes_from_mailbox_address(two_mailboxes, smtp_server):
    settings, _antwerpen, gent = two_mailboxes
    put_in_maildir(gent, "1.eml", mail(CLIENT, "Vraag uit Gent", "vraag-1@example.net"))
    poll_all(settings)
    ticket = only_ticket(settings)

    send_reply(settings, ticket.id)

    [received] = smtp_server.wait_for(1)
    assert ticket.mailbox == mailbox_key(settings.mailbox_urls[1])
    assert parseaddr(received.message["From"]) == ("Helpdesk Gent", GENT_ADDRESS)
    assert received.envelope_from == GENT_ADDRESS
    assert received.envelope_to == [CLIENT]
    assert received.message["In-Reply-To"] == "<vraag-1@example.net>"
    assert received.message["References"] == "<vraag-1@example.net>"
    assert received.message["Reply-To"] is None


def test_client_follow_up_threads_after_mailbox_reply(two_mailboxes, smtp_server):
    settings, _antwerpen, gent = two_mailboxes
    put_in_maildir(gent, "1.eml", mail(CLIENT, "Vraag uit Gent", "vraag-1@example.net"))
    poll_all(settings)
    ticket = only_ticket(settings)
    send_reply(settings, ticket.id)
    [received] = smtp_server.wait_for(1)
    reply_id = received.message["Message-ID"].strip("<>")

    put_in_maildir(gent, "2.eml", mail(CLIENT, "Re: Vraag uit Gent", "vraag-2@example.net", in_reply_to=reply_id))
    poll_all(settings)

    with session_scope(settings) as session:
        assert session.scalars(select(Ticket.id)).all() == [ticket.id]
        inbound = session.scalars(
            select(Message.message_id).where(Message.ticket_id == ticket.id, Message.direction == Direction.INBOUND)
        ).all()
    assert sorted(inbound) == ["vraag-1@example.net", "vraag-2@example.net"]


def test_mail_from_other_mailbox_opens_no_ticket(two_mailboxes):
    settings, antwerpen, _gent = two_mailboxes
    put_in_maildir(antwerpen, "1.eml", mail(f"Helpdesk Gent <{GENT_ADDRESS.upper()}>", "Doorgestuurd", "intern-1@helpdesk.example.org"))

    poll_all(settings)

    with session_scope(settings) as session:
        assert session.scalars(select(Ticket)).all() == []


def test_copy_of_own_reply_opens_no_ticket(two_mailboxes, smtp_server):
    settings, antwerpen, gent = two_mailboxes
    put_in_maildir(gent, "1.eml", mail(CLIENT, "Vraag uit Gent", "vraag-1@example.net"))
    poll_all(settings)
    ticket = only_ticket(settings)
    send_reply(settings, ticket.id)
    [received] = smtp_server.wait_for(1)

    # A copy of our reply arrives in another mailbox, as when a client forwards it or puts Antwerpen in Bcc.
    with session_scope(settings) as session:
        outcome = ingest_raw(session, settings, received.message.as_bytes())

    assert outcome.reason in {"own-address", "own-message"}
    with session_scope(settings) as session:
        assert session.scalars(select(Ticket.id)).all() == [ticket.id]


def test_own_address_check_per_address(two_mailboxes):
    settings, _antwerpen, _gent = two_mailboxes
    with session_scope(settings) as session:
        assert is_own_address(session, settings, ANTWERPEN_ADDRESS)
        assert is_own_address(session, settings, f" {GENT_ADDRESS.upper()} ")
        assert is_own_address(session, settings, settings.from_address)
        assert not is_own_address(session, settings, CLIENT)
        assert not is_own_address(session, settings, "")
        assert not is_own_address(session, settings, None)


def test_removed_reply_address_is_client_again(two_mailboxes):
    settings, antwerpen, _gent = two_mailboxes
    with session_scope(settings) as session:
        services.set_reply_address(session, settings.mailbox_urls[1], "", None, None)
    put_in_maildir(antwerpen, "1.eml", mail(GENT_ADDRESS, "Vraag van een oud adres", "oud-1@example.net"))

    poll_all(settings)

    with session_scope(settings) as session:
        assert len(session.scalars(select(Ticket)).all()) == 1


def test_without_reply_address_central_address_used(settings, tmp_path, smtp_server):
    inbox = tmp_path / "vragen"
    settings = settings.with_overrides(mailbox_urls=(f"maildir:{inbox}",), smtp_url=smtp_server.url)
    put_in_maildir(inbox, "1.eml", mail(CLIENT, "Vraag", "vraag-1@example.net"))
    poll_all(settings)
    ticket = only_ticket(settings)

    send_reply(settings, ticket.id)

    [received] = smtp_server.wait_for(1)
    assert parseaddr(received.message["From"]) == (settings.from_name, settings.from_address)
    assert received.envelope_from == settings.from_address
    assert received.message["In-Reply-To"] == "<vraag-1@example.net>"


def test_reply_name_falls_back_to_central_name(settings):
    with session_scope(settings) as session:
        services.set_reply_address(session, "maildir:/srv/mail/brussel", "brussel@helpdesk.example.org", "  ", None)

        sender = reply_sender(session, settings, "maildir:/srv/mail/brussel")
        unknown = reply_sender(session, settings, "maildir:/srv/mail/elders")
        no_mailbox = reply_sender(session, settings, None)

    assert sender.address == "brussel@helpdesk.example.org"
    assert sender.name == settings.from_name
    assert unknown.address == settings.from_address
    assert no_mailbox.address == settings.from_address


def test_acknowledgement_comes_from_mailbox_address(two_mailboxes, smtp_server):
    settings, _antwerpen, gent = two_mailboxes
    put_in_maildir(gent, "1.eml", mail(CLIENT, "Vraag uit Gent", "vraag-1@example.net"))
    poll_all(settings)
    enabled = settings.with_overrides(autoreply_enabled=True)

    with session_scope(enabled) as session:
        ticket = session.scalars(select(Ticket)).one()
        inbound = session.scalars(select(Message).where(Message.ticket_id == ticket.id)).one()
        acknowledgement = acknowledge_new_question(session, enabled, ticket, inbound)
        acknowledgement_id = acknowledgement.id
    with session_scope(enabled) as session:
        assert deliver(session, enabled, acknowledgement_id).state == "sent"

    [received] = smtp_server.wait_for(1)
    assert parseaddr(received.message["From"]) == ("Helpdesk Gent", GENT_ADDRESS)
    assert received.message["Auto-Submitted"] == "auto-replied"
    assert received.message["In-Reply-To"] == "<vraag-1@example.net>"
    assert "Helpdesk Gent" in received.message.get_content()


def test_no_acknowledgement_to_mailbox_address(two_mailboxes):
    settings, _antwerpen, gent = two_mailboxes
    put_in_maildir(gent, "1.eml", mail(CLIENT, "Vraag uit Gent", "vraag-1@example.net"))
    poll_all(settings)
    enabled = settings.with_overrides(autoreply_enabled=True)
    with session_scope(enabled) as session:
        ticket = session.scalars(select(Ticket)).one()
        inbound = session.scalars(select(Message).where(Message.ticket_id == ticket.id)).one()
        services.set_reply_address(session, settings.mailbox_urls[0], CLIENT, None, None)

        assert skip_reason(session, enabled, ticket, inbound) == "invalid_or_own_address"


@pytest.mark.parametrize("address", ["geen-adres", "twee@@example.org", "a b@example.org", "x@localhost", "<a@example.org>"])
def test_invalid_reply_address_rejected(settings, address):
    with session_scope(settings) as session:
        with pytest.raises(TeamError) as raised:
            services.set_reply_address(session, "maildir:/srv/mail/gent", address, None, None)

    assert repr(address) in str(raised.value)
    assert "geen geldig e-mailadres" in str(raised.value)


def test_long_reply_name_rejected(settings):
    with session_scope(settings) as session:
        with pytest.raises(TeamError) as raised:
            services.set_reply_address(session, "maildir:/srv/mail/gent", GENT_ADDRESS, "x" * 101, None)

    assert "101 tekens" in str(raised.value)


def test_route_without_team_keeps_reply_address(settings):
    mailbox = "maildir:/srv/mail/gent"
    with session_scope(settings) as session:
        team = services.create_team(session, "Gent", None)
        services.route_mailbox(session, mailbox, team, None)
        services.set_reply_address(session, mailbox, GENT_ADDRESS, "Helpdesk Gent", None)
        services.route_mailbox(session, mailbox, None, None)

    with session_scope(settings) as session:
        route = session.scalars(select(MailboxRoute)).one()
        assert route.team_id is None
        assert route.reply_address == GENT_ADDRESS
        services.set_reply_address(session, mailbox, None, None, None)

    with session_scope(settings) as session:
        assert session.scalars(select(MailboxRoute)).all() == []
        changes = [entry.detail for entry in session.scalars(select(AuditEntry).where(AuditEntry.object_type == "mailbox_route"))]
    assert {"mailbox": mailbox, "change": "reply_address", "set": True} in changes
    assert {"mailbox": mailbox, "change": "reply_address", "set": False} in changes
    assert all(GENT_ADDRESS not in str(change) for change in changes)


def test_cli_sets_reply_address(settings):
    url = settings.mailbox_urls[0]
    key = mailbox_key(url)

    created = run_cli(settings, "team", "create", "Gent")
    routed = run_cli(settings, "team", "route", url, "Gent")
    addressed = run_cli(settings, "team", "route", url, "--reply-address", GENT_ADDRESS, "--reply-name", "Helpdesk Gent")
    listed = run_cli(settings, "team", "list")

    for result in (created, routed, addressed, listed):
        assert result.exit_code == 0, result.output
    assert f"Replies on tickets of {key} come from Helpdesk Gent <{GENT_ADDRESS}>." in addressed.output
    assert f"mailbox {key} -> Gent, replies from Helpdesk Gent <{GENT_ADDRESS}>" in listed.output
    with session_scope(settings) as session:
        route = session.scalars(select(MailboxRoute)).one()
        assert route.team is not None
        assert route.team.name == "Gent"


def test_cli_rejects_invalid_reply_address(settings):
    url = settings.mailbox_urls[0]

    result = run_cli(settings, "team", "route", url, "--reply-address", "gent-at-example.org")

    assert result.exit_code != 0
    assert "'gent-at-example.org' is geen geldig e-mailadres" in result.output
    with session_scope(settings) as session:
        assert session.scalars(select(MailboxRoute)).all() == []


def test_cli_reply_name_needs_address(settings):
    result = run_cli(settings, "team", "route", settings.mailbox_urls[0], "--reply-name", "Helpdesk Gent")

    assert result.exit_code != 0
    assert "--reply-name needs --reply-address" in result.output


def test_admin_sets_reply_address(settings, admin_client):
    mailbox = settings.mailbox_urls[0]
    token = csrf_token(admin_client, "/admin/teams/")

    response = admin_client.post(
        "/admin/teams/routes",
        data={"csrf_token": token, "mailbox": mailbox_key(mailbox), "team": "0", "reply_address": GENT_ADDRESS, "reply_name": "Helpdesk Gent"},
    )

    assert response.status_code == 302
    with session_scope(settings) as session:
        route = session.scalars(select(MailboxRoute)).one()
        assert route.reply_address == GENT_ADDRESS
        assert route.reply_name == "Helpdesk Gent"
        assert route.team_id is None
    page = admin_client.get("/admin/teams/").get_data(as_text=True)
    assert f'value="{GENT_ADDRESS}"' in page
    assert "Antwoordadres" in page


def test_admin_rejects_invalid_reply_address(settings, admin_client):
    token = csrf_token(admin_client, "/admin/teams/")

    response = admin_client.post(
        "/admin/teams/routes",
        data={"csrf_token": token, "mailbox": mailbox_key(settings.mailbox_urls[0]), "team": "0", "reply_address": "gent@"},
        follow_redirects=True,
    )

    assert "Antwoordadres &#39;gent@&#39; is geen geldig e-mailadres" in response.get_data(as_text=True)
    with session_scope(settings) as session:
        assert session.scalars(select(MailboxRoute)).all() == []


def check_context(settings, smtp_url: str) -> CheckContext:
    return CheckContext(settings=settings.with_overrides(smtp_url=smtp_url), gettext=lambda text: text, timeout=5)


def test_check_warns_reply_domain_differs(settings):
    with session_scope(settings) as session:
        services.set_reply_address(session, "maildir:/srv/mail/gent", "gent@ander-domein.example.org", None, None)

    result = check_teams(check_context(settings, "smtps://vragen%40helpdesk.example.org:geheim@smtp.example.org"), database_ready=True)

    assert result.status is Status.WARNING
    assert "gent@ander-domein.example.org" in result.message
    assert "(helpdesk.example.org)" in result.message
    assert "geheim" not in result.message


def test_check_accepts_reply_domain_of_login(settings):
    with session_scope(settings) as session:
        services.set_reply_address(session, "maildir:/srv/mail/gent", GENT_ADDRESS, None, None)

    same_domain = check_teams(check_context(settings, "smtps://vragen%40HELPDESK.example.org:geheim@smtp.example.org"), database_ready=True)
    plain_login = check_teams(check_context(settings, "smtps://vragen:geheim@smtp.example.org"), database_ready=True)

    assert same_domain.status is Status.OK
    assert plain_login.status is Status.OK


def test_migration_keeps_routes_and_downgrades(database_url, tmp_path):
    settings = make_settings(tmp_path / "var", database_url)
    schema.upgrade(settings, "0004")
    engine = get_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO teams (id, name, created_at) VALUES (1, 'Gent', '2026-01-01')"))
        connection.execute(sa.text("INSERT INTO mailbox_routes (id, mailbox, team_id, updated_at) VALUES (1, 'maildir:/gent', 1, '2026-01-01')"))

    schema.upgrade(settings, "0005")
    with engine.begin() as connection:
        upgraded = connection.execute(sa.text("SELECT mailbox, team_id, reply_address, reply_name FROM mailbox_routes")).all()
        connection.execute(
            sa.text(
                "INSERT INTO mailbox_routes (id, mailbox, team_id, reply_address, updated_at)"
                " VALUES (2, 'maildir:/brussel', NULL, 'brussel@example.org', '2026-01-01')"
            )
        )
    command.downgrade(schema.alembic_config(settings), "0004")

    assert upgraded == [("maildir:/gent", 1, None, None)]
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT mailbox, team_id FROM mailbox_routes")).all() == [("maildir:/gent", 1)]
