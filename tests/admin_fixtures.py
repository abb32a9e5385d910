"""Fixtures and helpers for tests of the staff workplace and the public FAQ.

Test modules import the fixtures they use by name, because only the root
conftest may register plugins.
"""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from admin.app import create_app
from helpdesk.accounts import services as accounts
from helpdesk.accounts.models import Role, User
from helpdesk.crypto import address_hash, encrypt
from helpdesk.db import session_scope, utcnow
from helpdesk.tickets.models import Direction, Message, Ticket, TicketStatus

PASSWORD = "correct horse battery staple"
CLIENT_ADDRESS = "client.secret@example.net"

_CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def make_user(settings, email: str, role: Role = Role.AGENT, **fields) -> int:
    """Create a staff account with PASSWORD and return its id."""
    with session_scope(settings) as session:
        user = accounts.create_user(session, email, PASSWORD, role)
        for name, value in fields.items():
            setattr(user, name, value)
        session.flush()
        return user.id


def make_ticket(
    settings,
    subject: str = "Vraag over een test",
    body: str = "Ik heb een vraag over [naam].",
    *,
    sender: str = CLIENT_ADDRESS,
    status: TicketStatus = TicketStatus.NEW,
    new_text: str | None = None,
    html: str | None = None,
    message_id: str | None = None,
    **fields,
) -> int:
    """Store a ticket with one inbound message, as ingestion would, and return its id."""
    with session_scope(settings) as session:
        ticket = Ticket(
            subject=subject,
            status=status,
            sender_encrypted=encrypt(settings, sender),
            sender_hash=address_hash(settings, sender),
            **fields,
        )
        session.add(ticket)
        session.flush()
        session.add(
            Message(
                ticket_id=ticket.id,
                direction=Direction.INBOUND,
                message_id=message_id or f"question-{ticket.id}@client.example.net",
                subject=subject,
                body=body,
                new_text=body if new_text is None else new_text,
                html_sanitized=html,
                received_at=utcnow(),
            )
        )
        return ticket.id


def csrf_token(client: FlaskClient, url: str) -> str:
    """Load `url` and return the CSRF token of its first form."""
    response = client.get(url)
    match = _CSRF_PATTERN.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {url} (status {response.status_code})"
    return match.group(1) or match.group(2)


def login(client: FlaskClient, email: str, password: str = PASSWORD, code: str | None = None):
    token = csrf_token(client, "/admin/login")
    data = {"email": email, "password": password, "csrf_token": token}
    if code:
        data["code"] = code
    return client.post("/admin/login", data=data)


@pytest.fixture
def app(settings):
    application = create_app(settings)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def agent(settings) -> int:
    return make_user(settings, "agent@helpdesk.test", Role.AGENT, display_name="Agent Anna")


@pytest.fixture
def admin_user(settings) -> int:
    return make_user(settings, "admin@helpdesk.test", Role.ADMIN, display_name="Beheerder Bart")


@pytest.fixture
def agent_client(client, agent) -> FlaskClient:
    response = login(client, "agent@helpdesk.test")
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def load_user(settings, user_id: int) -> User:
    with session_scope(settings) as session:
        user = session.get(User, user_id)
        session.expunge(user)
        return user


@pytest.fixture
def inline_delivery(monkeypatch):
    """Unregister the send_reply task dispatcher so that replies are delivered inside the request."""
    from helpdesk.plugins import get_registry

    dispatchers = dict(get_registry().task_dispatchers)
    dispatchers.pop("send_reply", None)
    monkeypatch.setattr(get_registry(), "task_dispatchers", dispatchers)
