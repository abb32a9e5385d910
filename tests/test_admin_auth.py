import datetime as dt
import time
from http.cookies import SimpleCookie

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from admin.app import create_app
from helpdesk.accounts.models import AuditEntry, Role, User
from helpdesk.accounts.services import MAX_FAILED_LOGINS
from helpdesk.db import session_scope
from tests.admin_fixtures import (  # noqa: F401 (pytest fixtures)
    PASSWORD,
    admin_user,
    agent,
    agent_client,
    app,
    client,
    csrf_token,
    login,
    make_ticket,
    make_user,
)


def test_staff_pages_require_login(client):
    for url in ("/admin/", "/admin/queue/", "/admin/ticket/1", "/admin/users/", "/admin/account/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/admin/login?next="), url


def test_login_redirects_to_requested_page(client, agent):
    token = csrf_token(client, "/admin/login")
    response = client.post(
        "/admin/login?next=/admin/account/", data={"email": "agent@helpdesk.test", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/account/"
    assert client.get("/admin/queue/").status_code == 200


def test_login_ignores_offsite_next(client, agent):
    token = csrf_token(client, "/admin/login")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post(
            f"/admin/login?next={target}", data={"email": "agent@helpdesk.test", "password": PASSWORD, "csrf_token": token}
        )
        assert response.headers["Location"] == "/admin/queue/", target
        client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/account/")})
        token = csrf_token(client, "/admin/login")


def test_wrong_password_is_rejected(client, agent):
    response = login(client, "agent@helpdesk.test", "not the password")
    assert response.status_code == 401
    assert "Het e-mailadres of het wachtwoord klopt niet." in response.get_data(as_text=True)
    assert client.get("/admin/queue/").status_code == 302


def test_lockout_after_repeated_failures(client, agent, settings):
    for _ in range(MAX_FAILED_LOGINS):
        login(client, "agent@helpdesk.test", "not the password")
    response = login(client, "agent@helpdesk.test")
    assert response.status_code == 401
    assert "geblokkeerd" in response.get_data(as_text=True)
    with session_scope(settings) as session:
        assert session.get(User, agent).locked_until is not None


def test_login_rate_limit_per_address(client, agent):
    statuses = [login(client, "nobody@helpdesk.test", "not the password").status_code for _ in range(21)]
    assert statuses[:20] == [401] * 20
    assert statuses[20] == 429


def test_post_without_csrf_token_is_rejected(client, agent, settings):
    response = client.post("/admin/login", data={"email": "agent@helpdesk.test", "password": PASSWORD})
    assert response.status_code == 400

    login(client, "agent@helpdesk.test")
    ticket_id = make_ticket(settings)
    response = client.post(f"/admin/ticket/{ticket_id}/note", data={"body": "zonder token"})
    assert response.status_code == 400
    response = client.post(f"/admin/ticket/{ticket_id}/note", data={"body": "met fout token", "csrf_token": "forged"})
    assert response.status_code == 400


def test_agent_cannot_reach_admin_pages(agent_client):
    for url in ("/admin/users/", "/admin/users/new/", "/admin/audit/"):
        assert agent_client.get(url).status_code == 403, url
    page = agent_client.get("/admin/queue/").get_data(as_text=True)
    assert "/admin/users/" not in page
    assert "/admin/audit/" not in page


def test_admin_reaches_admin_pages(client, admin_user):
    login(client, "admin@helpdesk.test")
    for url in ("/admin/users/", "/admin/users/new/", "/admin/audit/", f"/admin/audit/?user={admin_user}"):
        assert client.get(url).status_code == 200, url


def test_editor_cannot_manage_users(client, settings):
    make_user(settings, "editor@helpdesk.test", Role.EDITOR)
    login(client, "editor@helpdesk.test")
    assert client.get("/admin/queue/").status_code == 200
    assert client.get("/admin/users/").status_code == 403


def test_logout_needs_post_with_token(agent_client, settings):
    assert agent_client.get("/admin/logout").status_code == 405
    assert agent_client.post("/admin/logout").status_code == 400
    response = agent_client.post("/admin/logout", data={"csrf_token": csrf_token(agent_client, "/admin/account/")})
    assert response.status_code == 302
    assert agent_client.get("/admin/queue/").status_code == 302
    with session_scope(settings) as session:
        actions = session.scalars(select(AuditEntry.action)).all()
        assert "login" in actions
        assert "logout" in actions


def test_session_cookie_flags(agent, settings):
    https_app = create_app(settings.with_overrides(public_url="https://helpdesk.example.org"))
    response = https_app.test_client().get("/admin/login")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_session_expires_after_idle_minutes(client, agent, settings):
    response = login(client, "agent@helpdesk.test")
    morsel = SimpleCookie(response.headers["Set-Cookie"])["helpdesk_session"]
    expires = dt.datetime.strptime(morsel["expires"], "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=dt.timezone.utc)
    idle = dt.timedelta(minutes=settings.session_idle_minutes)
    assert dt.timedelta(0) < expires - dt.datetime.now(dt.timezone.utc) <= idle


def test_server_rejects_idle_session_cookie(client, agent, app, settings, monkeypatch):
    login(client, "agent@helpdesk.test")
    with app.test_request_context():
        session_cookie = client.get_cookie("helpdesk_session")
        serializer = app.session_interface.get_signing_serializer(app)
        data = serializer.loads(session_cookie.value)

        # Re-sign the same session as if it was last used longer ago than the idle timeout.
        stale = int(time.time()) - settings.session_idle_minutes * 60 - 60
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: stale)
        old_cookie = serializer.dumps(data)
        monkeypatch.undo()

    client.set_cookie("helpdesk_session", old_cookie)
    response = client.get("/admin/queue/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")


@pytest.mark.parametrize(("language", "label"), [("nl", "Wachtrij"), ("fr", "File d'attente"), ("en", "Queue")])
def test_screens_follow_user_language(client, settings, language, label):
    make_user(settings, f"{language}@helpdesk.test", Role.AGENT, language=language)
    login(client, f"{language}@helpdesk.test")
    page = client.get("/admin/queue/").get_data(as_text=True)
    assert f'<html lang="{language}">' in page
    assert label in page


def test_admin_creates_user_with_password(client, admin_user, settings):
    login(client, "admin@helpdesk.test")
    token = csrf_token(client, "/admin/users/new/")
    form = {
        "csrf_token": token,
        "email": "New.Agent@Helpdesk.test",
        "display_name": "Nieuwe Medewerker",
        "role": "agent",
        "language": "fr",
        "active": "y",
        "password": "a long enough password",
    }
    response = client.post("/admin/users/new/", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)

    with session_scope(settings) as session:
        user = session.scalar(select(User).where(User.email == "new.agent@helpdesk.test"))
        assert user.role == Role.AGENT
        assert user.language == "fr"
        assert user.password_hash.startswith("$argon2id$")
        changes = [entry.detail.get("change") for entry in session.scalars(select(AuditEntry).where(AuditEntry.action == "settings"))]
        assert changes == ["user_created"]


def test_admin_user_form_needs_password(client, admin_user, settings):
    login(client, "admin@helpdesk.test")
    token = csrf_token(client, "/admin/users/new/")
    form = {"csrf_token": token, "email": "nopass@helpdesk.test", "role": "agent", "language": "nl", "active": "y"}
    client.post("/admin/users/new/", data=form)
    with session_scope(settings) as session:
        assert session.scalar(select(User).where(User.email == "nopass@helpdesk.test")) is None
