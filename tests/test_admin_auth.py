import datetime as dt
import re
import time
from http.cookies import SimpleCookie

import pyotp
import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from admin.app import create_app
from admin.auth import rate_limit_storage_uri
from helpdesk.accounts import services as accounts
from helpdesk.accounts.models import AuditEntry, Role, User
from helpdesk.accounts.services import MAX_FAILED_LOGINS
from helpdesk.crypto import decrypt
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
from tests.services.ports import free_port


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


INVALID_OR_LOCKED = "Het e-mailadres of het wachtwoord klopt niet, of het account is geblokkeerd na te veel mislukte pogingen."
FLASH = re.compile(r'<div class="flash[^"]*"[^>]*>(.*?)</div>', re.DOTALL)


def flash_messages(response) -> list[str]:
    return FLASH.findall(response.get_data(as_text=True))


def test_wrong_password_is_rejected(client, agent):
    response = login(client, "agent@helpdesk.test", "not the password")
    assert response.status_code == 401
    assert INVALID_OR_LOCKED in response.get_data(as_text=True)
    assert client.get("/admin/queue/").status_code == 302


def test_lockout_after_repeated_failures(client, agent, settings):
    for _ in range(MAX_FAILED_LOGINS):
        login(client, "agent@helpdesk.test", "not the password")
    response = login(client, "agent@helpdesk.test")
    assert response.status_code == 401
    with session_scope(settings) as session:
        assert session.get(User, agent).locked_until is not None


def test_locked_account_looks_like_unknown_address(client, agent):
    for _ in range(MAX_FAILED_LOGINS):
        login(client, "agent@helpdesk.test", "not the password")
    locked = login(client, "agent@helpdesk.test")
    unknown = login(client, "nobody@helpdesk.test")
    assert locked.status_code == unknown.status_code
    assert flash_messages(locked) == flash_messages(unknown)
    assert INVALID_OR_LOCKED in flash_messages(locked)[0]


def test_deactivated_account_looks_like_wrong_password(client, agent, settings):
    with session_scope(settings) as session:
        session.get(User, agent).active = False
    deactivated = login(client, "agent@helpdesk.test")
    wrong = login(client, "agent@helpdesk.test", "not the password")

    assert deactivated.status_code == wrong.status_code
    assert flash_messages(deactivated) == flash_messages(wrong)
    assert "uitgeschakeld" not in deactivated.get_data(as_text=True)
    assert client.get("/admin/queue/").status_code == 302
    with session_scope(settings) as session:
        failures = [entry.detail.get("failure") for entry in session.scalars(select(AuditEntry).where(AuditEntry.action == "login_failed"))]
        assert "inactive" in failures


def test_login_rate_limit_per_address(client, agent):
    statuses = [login(client, "nobody@helpdesk.test", "not the password").status_code for _ in range(21)]
    assert statuses[:20] == [401] * 20
    assert statuses[20] == 429


def test_forwarded_for_is_ignored_without_trusted_proxies(client, agent):
    statuses = []
    for number in range(21):
        token = csrf_token(client, "/admin/login")
        data = {"email": "nobody@helpdesk.test", "password": "not the password", "csrf_token": token}
        statuses.append(client.post("/admin/login", data=data, headers={"X-Forwarded-For": f"203.0.113.{number}"}).status_code)
    assert statuses[:20] == [401] * 20
    assert statuses[20] == 429


def test_trusted_proxy_limits_each_forwarded_address(settings, agent):
    client = create_app(settings.with_overrides(trusted_proxies=1)).test_client()

    def attempt(address: str) -> int:
        token = csrf_token(client, "/admin/login")
        data = {"email": "nobody@helpdesk.test", "password": "not the password", "csrf_token": token}
        return client.post("/admin/login", data=data, headers={"X-Forwarded-For": address}).status_code

    statuses = [attempt("203.0.113.7") for _ in range(21)]
    assert statuses[:20] == [401] * 20
    assert statuses[20] == 429
    assert attempt("203.0.113.8") == 401


def test_rate_limit_storage_follows_broker(settings):
    assert rate_limit_storage_uri(settings) == "memory://"
    redis_settings = settings.with_overrides(broker_url="redis://127.0.0.1:6379/3")
    assert rate_limit_storage_uri(redis_settings) == "redis://127.0.0.1:6379/3"


@pytest.mark.redis
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_rate_limit_is_shared_through_redis(settings, agent, redis_url):
    shared = settings.with_overrides(broker_url=redis_url)
    first = create_app(shared).test_client()
    second = create_app(shared).test_client()

    statuses = [login(first, "nobody@helpdesk.test", "not the password").status_code for _ in range(10)]
    statuses += [login(second, "nobody@helpdesk.test", "not the password").status_code for _ in range(10)]
    assert statuses == [401] * 20
    assert login(first, "nobody@helpdesk.test", "not the password").status_code == 429
    assert login(second, "nobody@helpdesk.test", "not the password").status_code == 429


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_login_works_while_redis_is_down(settings, agent):
    unreachable = settings.with_overrides(broker_url=f"redis://127.0.0.1:{free_port()}/0")
    client = create_app(unreachable).test_client()

    assert login(client, "agent@helpdesk.test").status_code == 302
    assert client.get("/admin/queue/").status_code == 200


# TOTP


def test_totp_code_cannot_be_replayed(client, settings):
    secret = pyotp.random_base32()
    make_user(settings, "totp@helpdesk.test", Role.AGENT, totp_secret=secret)
    code = pyotp.TOTP(secret).now()
    assert login(client, "totp@helpdesk.test", code=code).status_code == 302
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/account/")})

    replay = login(client, "totp@helpdesk.test", code=code)
    assert replay.status_code == 401
    assert "Deze code is al gebruikt. Wacht op de volgende code." in replay.get_data(as_text=True)
    assert "Controleer de tijd op je telefoon" not in replay.get_data(as_text=True)


def test_totp_enrolment_ignores_posted_secret(agent_client, agent, settings):
    chosen = pyotp.random_base32()
    form = {"csrf_token": csrf_token(agent_client, "/admin/account/"), "secret": chosen, "password": PASSWORD, "code": pyotp.TOTP(chosen).now()}
    agent_client.post("/admin/account/totp", data=form)
    with session_scope(settings) as session:
        assert session.get(User, agent).totp_secret is None


def test_totp_enrolment_uses_server_secret(agent_client, agent, settings):
    page = agent_client.get("/admin/account/").get_data(as_text=True)
    shown = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    assert 'name="secret"' not in page
    # Reloading the page offers the same secret, so an app set up from the first view still works.
    assert shown in agent_client.get("/admin/account/").get_data(as_text=True)

    form = {"csrf_token": csrf_token(agent_client, "/admin/account/"), "password": PASSWORD, "code": pyotp.TOTP(shown).now()}
    agent_client.post("/admin/account/totp", data=form)
    with session_scope(settings) as session:
        user = session.get(User, agent)
        assert user.totp_secret is not None
        assert shown not in user.totp_secret
        assert decrypt(settings, user.totp_secret.encode()) == shown
        changes = [entry.detail.get("change") for entry in session.scalars(select(AuditEntry).where(AuditEntry.action == "settings"))]
        assert "totp_enabled" in changes


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


# Ending sessions


def copied_client(app, client):
    """Return a second client with a copy of `client`'s session cookie, as a thief would have."""
    thief = app.test_client()
    thief.set_cookie("helpdesk_session", client.get_cookie("helpdesk_session").value)
    assert thief.get("/admin/queue/").status_code == 200
    return thief


def test_logout_ends_copied_session(app, agent_client):
    thief = copied_client(app, agent_client)
    agent_client.post("/admin/logout", data={"csrf_token": csrf_token(agent_client, "/admin/account/")})
    response = thief.get("/admin/queue/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")


def test_password_change_ends_other_sessions(app, agent_client, settings):
    thief = copied_client(app, agent_client)
    form = {"csrf_token": csrf_token(agent_client, "/admin/account/"), "current": PASSWORD, "new": "a brand new password"}
    response = agent_client.post("/admin/account/password", data=form)
    assert response.status_code == 302
    assert thief.get("/admin/queue/").status_code == 302
    # The browser that changed the password stays signed in.
    assert agent_client.get("/admin/queue/").status_code == 200
    with session_scope(settings) as session:
        changes = [entry.detail.get("change") for entry in session.scalars(select(AuditEntry).where(AuditEntry.action == "settings"))]
        assert "password" in changes


def test_password_change_needs_current_password(agent_client, agent, settings):
    form = {"csrf_token": csrf_token(agent_client, "/admin/account/"), "current": "not the password", "new": "a brand new password"}
    response = agent_client.post("/admin/account/password", data=form, follow_redirects=True)

    assert "Het huidige wachtwoord klopt niet" in flash_messages(response)[0]
    with session_scope(settings) as session:
        user = session.get(User, agent)
        assert accounts.verify_password(user, PASSWORD)
        assert user.failed_logins == 1
        failures = session.scalars(select(AuditEntry).where(AuditEntry.action == "reauth_failed")).all()
        assert [entry.detail.get("change") for entry in failures] == ["password"]


def test_password_guesses_lock_account(agent_client, agent, settings):
    for _ in range(MAX_FAILED_LOGINS):
        form = {"csrf_token": csrf_token(agent_client, "/admin/account/"), "current": "not the password", "new": "a brand new password"}
        agent_client.post("/admin/account/password", data=form)

    # Locked, the right password does not change anything either.
    form = {"csrf_token": csrf_token(agent_client, "/admin/account/"), "current": PASSWORD, "new": "a brand new password"}
    agent_client.post("/admin/account/password", data=form)
    with session_scope(settings) as session:
        user = session.get(User, agent)
        assert user.locked_until is not None
        assert accounts.verify_password(user, PASSWORD)
    assert login(create_app(settings).test_client(), "agent@helpdesk.test").status_code == 401


def admin_edits_agent(settings, agent: int, **changes) -> int:
    """Sign in as administrator in a separate client, post the user form of `agent` and return the status."""
    make_user(settings, "boss@helpdesk.test", Role.ADMIN)
    admin_client = create_app(settings).test_client()
    login(admin_client, "boss@helpdesk.test")
    page = admin_client.get(f"/admin/users/edit/?id={agent}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    form = {"csrf_token": token, "email": "agent@helpdesk.test", "display_name": "Agent Anna", "role": "agent", "language": "nl", "active": "y"}
    form.update(changes)
    form = {name: value for name, value in form.items() if value is not None}
    return admin_client.post(f"/admin/users/edit/?id={agent}", data=form).status_code


@pytest.mark.parametrize(
    "changes",
    [{"password": "a brand new password"}, {"active": None}, {"role": "editor"}],
    ids=["password-reset", "deactivation", "role-change"],
)
def test_admin_change_ends_agent_sessions(agent_client, agent, settings, changes):
    assert admin_edits_agent(settings, agent, **changes) == 302
    response = agent_client.get("/admin/queue/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")


def test_admin_edit_without_access_change_keeps_session(agent_client, agent, settings):
    assert admin_edits_agent(settings, agent, display_name="Anna Agent") == 302
    assert agent_client.get("/admin/queue/").status_code == 200


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
