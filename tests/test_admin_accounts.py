"""Account rules in the staff workplace: TOTP per role, password reset, roles, audit log and macros."""

import datetime as dt
import re

import pyotp
import pytest
from sqlalchemy import select

from admin.app import create_app
from helpdesk.accounts import services as accounts
from helpdesk.accounts.models import AuditEntry, Role, User
from helpdesk.accounts.services import MAX_FAILED_LOGINS
from helpdesk.config import ConfigError
from helpdesk.db import session_scope
from helpdesk.tickets.macros import Macro
from tests.admin_fixtures import (  # noqa: F401 (pytest fixtures)
    PASSWORD,
    admin_user,
    agent,
    agent_client,
    app,
    client,
    csrf_token,
    login,
    make_user,
)


def totp_app(settings, roles: str = "admin,editor"):
    application = create_app(settings.with_overrides(totp_required_roles=roles))
    application.config["TESTING"] = True
    return application


def setup_secret(page: str) -> str:
    match = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page)
    assert match, "no TOTP secret on the set-up page"
    return match.group(1)


# TOTP required per role


def test_unknown_role_in_setting_fails_at_start(settings):
    with pytest.raises(ConfigError, match="HELPDESK_TOTP_REQUIRED_ROLES contains 'boss'"):
        create_app(settings.with_overrides(totp_required_roles="admin, boss"))


def test_required_role_must_set_up_totp_first(settings):
    make_user(settings, "editor@helpdesk.test", Role.EDITOR)
    client = totp_app(settings).test_client()
    response = login(client, "editor@helpdesk.test")
    assert response.status_code == 302

    for url in ("/admin/queue/", "/admin/account/", "/admin/stats/", "/admin/ticket/1"):
        blocked = client.get(url)
        assert blocked.status_code == 302, url
        assert blocked.headers["Location"] == "/admin/account/totp-setup", url

    page = client.get("/admin/account/totp-setup").get_data(as_text=True)
    assert "Voor jouw rol is tweestapsverificatie verplicht." in page
    assert "<svg" in page  # the QR code, drawn on the server
    secret = setup_secret(page)

    wrong = client.post("/admin/account/totp", data={"csrf_token": csrf_token(client, "/admin/account/totp-setup"), "password": PASSWORD, "code": "000000"})
    assert wrong.headers["Location"] == "/admin/account/totp-setup"
    done = client.post(
        "/admin/account/totp",
        data={"csrf_token": csrf_token(client, "/admin/account/totp-setup"), "password": PASSWORD, "code": pyotp.TOTP(secret).now()},
    )
    assert done.headers["Location"] == "/admin/queue/"
    assert client.get("/admin/queue/").status_code == 200


def test_required_role_login_then_needs_code(settings):
    secret = pyotp.random_base32()
    make_user(settings, "boss@helpdesk.test", Role.ADMIN, totp_secret=secret)
    client = totp_app(settings).test_client()
    assert login(client, "boss@helpdesk.test").status_code == 401
    assert login(client, "boss@helpdesk.test", code=pyotp.TOTP(secret).now()).status_code == 302
    assert client.get("/admin/queue/").status_code == 200


def test_role_outside_setting_is_not_forced(settings, agent):
    client = totp_app(settings, "admin").test_client()
    login(client, "agent@helpdesk.test")
    assert client.get("/admin/queue/").status_code == 200


def test_required_role_cannot_turn_totp_off(settings):
    secret = pyotp.random_base32()
    make_user(settings, "boss@helpdesk.test", Role.ADMIN, totp_secret=secret)
    client = totp_app(settings).test_client()
    login(client, "boss@helpdesk.test", code=pyotp.TOTP(secret).now())
    assert "Tweestapsverificatie uitzetten" not in client.get("/admin/account/").get_data(as_text=True)
    client.post("/admin/account/totp/off", data={"csrf_token": csrf_token(client, "/admin/account/")})
    with session_scope(settings) as session:
        assert accounts.totp_secret(settings, session.scalar(select(User).where(User.email == "boss@helpdesk.test"))) == secret


def test_public_pages_ignore_totp_rule(settings):
    make_user(settings, "editor@helpdesk.test", Role.EDITOR)
    client = totp_app(settings).test_client()
    login(client, "editor@helpdesk.test")
    assert client.get("/faq/nl/").status_code == 200


# Turning one's own TOTP on and off needs the password and a code

REAUTH_FAILED = "Het huidige wachtwoord of de code klopt niet"
FLASH = re.compile(r'<div class="flash[^"]*"[^>]*>(.*?)</div>', re.DOTALL)


def reauth_failures(settings, user_id: int) -> list[str]:
    with session_scope(settings) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "reauth_failed", AuditEntry.object_id == str(user_id)))
        return [entry.detail.get("change") for entry in entries]


def enrol_agent(settings, agent_client, agent) -> str:
    """Turn TOTP on for the signed-in agent through the account page and return the secret."""
    secret = setup_secret(agent_client.get("/admin/account/").get_data(as_text=True))
    form = {"csrf_token": csrf_token(agent_client, "/admin/account/"), "password": PASSWORD, "code": pyotp.TOTP(secret).now()}
    agent_client.post("/admin/account/totp", data=form)
    with session_scope(settings) as session:
        assert session.get(User, agent).totp_secret is not None
    return secret


def next_code(secret: str) -> str:
    """Return the code of the next 30-second step, because the current one may be used up already."""
    return pyotp.TOTP(secret).at(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=30))


@pytest.mark.parametrize("password", [None, "not the password"], ids=["no-password", "wrong-password"])
def test_totp_enable_needs_password(agent_client, agent, settings, password):
    secret = setup_secret(agent_client.get("/admin/account/").get_data(as_text=True))
    form = {"csrf_token": csrf_token(agent_client, "/admin/account/"), "code": pyotp.TOTP(secret).now()}
    if password is not None:
        form["password"] = password

    response = agent_client.post("/admin/account/totp", data=form, follow_redirects=True)

    with session_scope(settings) as session:
        assert session.get(User, agent).totp_secret is None
    flashes = FLASH.findall(response.get_data(as_text=True))
    if password is None:
        assert "Vul je huidige wachtwoord en de code uit je app in." in flashes
    else:
        assert REAUTH_FAILED in flashes[0]
        assert reauth_failures(settings, agent) == ["totp_enabled"]


def test_totp_enable_rejects_wrong_code(agent_client, agent, settings):
    agent_client.get("/admin/account/")
    form = {"csrf_token": csrf_token(agent_client, "/admin/account/"), "password": PASSWORD, "code": "000000"}

    agent_client.post("/admin/account/totp", data=form)

    with session_scope(settings) as session:
        user = session.get(User, agent)
        assert user.totp_secret is None
        assert user.failed_logins == 1
    assert reauth_failures(settings, agent) == ["totp_enabled"]


@pytest.mark.parametrize("case", ["no-code", "wrong-password", "wrong-code", "replayed-code"])
def test_totp_disable_needs_password_and_code(agent_client, agent, settings, case):
    secret = enrol_agent(settings, agent_client, agent)
    with session_scope(settings) as session:
        enrolment_code = pyotp.TOTP(secret).generate_otp(session.get(User, agent).totp_last_timecode)
    form = {
        "no-code": {"password": PASSWORD},
        "wrong-password": {"password": "not the password", "code": next_code(secret)},
        "wrong-code": {"password": PASSWORD, "code": "000000"},
        "replayed-code": {"password": PASSWORD, "code": enrolment_code},
    }[case]

    response = agent_client.post("/admin/account/totp/off", data={"csrf_token": csrf_token(agent_client, "/admin/account/"), **form}, follow_redirects=True)

    with session_scope(settings) as session:
        assert session.get(User, agent).totp_secret is not None
    assert len(FLASH.findall(response.get_data(as_text=True))) == 1
    expected_failures = [] if case == "no-code" else ["totp_disabled"]
    assert reauth_failures(settings, agent) == expected_failures


def test_totp_disable_with_password_and_code(agent_client, agent, settings):
    secret = enrol_agent(settings, agent_client, agent)
    form = {"csrf_token": csrf_token(agent_client, "/admin/account/"), "password": PASSWORD, "code": next_code(secret)}

    response = agent_client.post("/admin/account/totp/off", data=form, follow_redirects=True)

    assert "Tweestapsverificatie staat uit." in FLASH.findall(response.get_data(as_text=True))
    with session_scope(settings) as session:
        assert session.get(User, agent).totp_secret is None
        changes = [entry.detail.get("change") for entry in session.scalars(select(AuditEntry).where(AuditEntry.action == "settings"))]
        assert "totp_disabled" in changes


def test_totp_guesses_lock_account(agent_client, agent, settings):
    secret = enrol_agent(settings, agent_client, agent)
    for _ in range(MAX_FAILED_LOGINS):
        form = {"csrf_token": csrf_token(agent_client, "/admin/account/"), "password": PASSWORD, "code": "000000"}
        agent_client.post("/admin/account/totp/off", data=form)

    # Locked, even the right password and code are rejected.
    form = {"csrf_token": csrf_token(agent_client, "/admin/account/"), "password": PASSWORD, "code": next_code(secret)}
    agent_client.post("/admin/account/totp/off", data=form)
    with session_scope(settings) as session:
        user = session.get(User, agent)
        assert user.locked_until is not None
        assert user.totp_secret is not None


# Password and TOTP reset by an administrator


def user_form(client, user_id: int, **changes) -> dict:
    page = client.get(f"/admin/users/edit/?id={user_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    form = {"csrf_token": token, "email": "agent@helpdesk.test", "display_name": "Agent Anna", "role": "agent", "language": "nl", "active": "y"}
    form.update(changes)
    return form


def test_admin_resets_password_and_lockout(client, admin_user, agent, settings):
    with session_scope(settings) as session:
        session.get(User, agent).locked_until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=10)
    login(client, "admin@helpdesk.test")
    response = client.post(f"/admin/users/edit/?id={agent}", data=user_form(client, agent, password="a brand new password"))
    assert response.status_code == 302

    with session_scope(settings) as session:
        user = session.get(User, agent)
        assert accounts.verify_password(user, "a brand new password")
        assert user.locked_until is None
        changes = [(entry.user_id, entry.detail.get("change")) for entry in session.scalars(select(AuditEntry).where(AuditEntry.object_id == str(agent)))]
        assert (admin_user, "password_reset") in changes

    other = create_app(settings).test_client()
    assert login(other, "agent@helpdesk.test", "a brand new password").status_code == 302


def test_admin_rejects_short_password(client, admin_user, agent, settings):
    login(client, "admin@helpdesk.test")
    client.post(f"/admin/users/edit/?id={agent}", data=user_form(client, agent, password="short"))
    with session_scope(settings) as session:
        assert accounts.verify_password(session.get(User, agent), PASSWORD)


def test_admin_resets_totp(client, admin_user, agent, settings):
    with session_scope(settings) as session:
        session.get(User, agent).totp_secret = pyotp.random_base32()
    login(client, "admin@helpdesk.test")
    client.post(f"/admin/users/edit/?id={agent}", data=user_form(client, agent, reset_totp="y"))
    with session_scope(settings) as session:
        assert session.get(User, agent).totp_secret is None
        assert session.scalar(select(AuditEntry).where(AuditEntry.detail["change"].as_string() == "totp_disabled")) is not None


# Roles


@pytest.mark.parametrize(
    ("role", "forbidden", "allowed"),
    [
        (Role.AGENT, ["/admin/users/", "/admin/audit/", "/admin/macros/", "/admin/macros/new/", "/admin/editor/"], ["/admin/queue/", "/admin/stats/", "/admin/account/"]),
        (Role.EDITOR, ["/admin/users/", "/admin/audit/"], ["/admin/queue/", "/admin/macros/", "/admin/macros/new/", "/admin/stats/"]),
        (Role.ADMIN, [], ["/admin/users/", "/admin/audit/", "/admin/macros/", "/admin/stats/"]),
    ],
)
def test_role_separation(client, settings, role, forbidden, allowed):
    make_user(settings, "staff@helpdesk.test", role)
    login(client, "staff@helpdesk.test")
    for url in forbidden:
        assert client.get(url).status_code == 403, url
    for url in allowed:
        assert client.get(url).status_code == 200, url
    menu = client.get("/admin/queue/").get_data(as_text=True)
    for url in forbidden:
        assert f'href="{url}"' not in menu, url


def test_agent_cannot_post_macro(agent_client, settings):
    response = agent_client.post("/admin/macros/new/", data={"csrf_token": csrf_token(agent_client, "/admin/queue/"), "title": "x", "language": "nl", "body": "y"})
    assert response.status_code == 403
    with session_scope(settings) as session:
        assert session.scalars(select(Macro)).all() == []


def test_editor_creates_macro(client, settings):
    editor_id = make_user(settings, "editor@helpdesk.test", Role.EDITOR)
    login(client, "editor@helpdesk.test")
    form = {"csrf_token": csrf_token(client, "/admin/macros/new/"), "title": "  Testcentra  ", "language": "fr", "body": "Va au centre de dépistage.", "active": "y"}
    assert client.post("/admin/macros/new/", data=form).status_code == 302
    empty = {**form, "csrf_token": csrf_token(client, "/admin/macros/new/"), "title": "Leeg", "body": "   "}
    client.post("/admin/macros/new/", data=empty)

    with session_scope(settings) as session:
        macros = session.scalars(select(Macro)).all()
        assert [(macro.title, macro.language, macro.updated_by_id) for macro in macros] == [("Testcentra", "fr", editor_id)]
        entry = session.scalar(select(AuditEntry).where(AuditEntry.object_type == "macro"))
        assert entry.detail == {"change": "macro_created"}


# Audit log


@pytest.fixture
def audit_entries(settings, admin_user, agent):
    with session_scope(settings) as session:
        admin, staff_member = session.get(User, admin_user), session.get(User, agent)
        rows = [
            accounts.audit(session, admin, "reveal", "message", 7, reason="controle van de afscherming"),
            accounts.audit(session, staff_member, "send", "message", 8),
            accounts.audit(session, admin, "erase", "ticket", 3, reason="verzoek van de cliënt"),
        ]
        rows[0].created_at = dt.datetime(2026, 11, 2, 10, tzinfo=dt.timezone.utc)
        rows[1].created_at = dt.datetime(2026, 11, 15, 23, 30, tzinfo=dt.timezone.utc)  # 16 November, 0:30 in Brussels
        rows[2].created_at = dt.datetime(2026, 11, 20, 9, tzinfo=dt.timezone.utc)


def audit_rows(client, query: str) -> list[str]:
    response = client.get(f"/admin/audit/{query}")
    assert response.status_code == 200
    body = response.get_data(as_text=True).split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    # The page shows Dutch labels: map them back to the stored action codes.
    codes = {"origineel bekeken": "reveal", "verzonden": "send", "gewist": "erase"}
    return [codes[label] for label in re.findall(r"<td>(origineel bekeken|verzonden|gewist)</td>", body)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?action=reveal", ["reveal"]),
        ("?object_type=message", ["send", "reveal"]),
        ("?since=2026-11-16", ["erase", "send"]),
        ("?until=2026-11-15", ["reveal"]),
        ("?since=2026-11-16&until=2026-11-16", ["send"]),
        ("?object_type=ticket&object_id=3", ["erase"]),
    ],
)
def test_audit_log_filters(client, audit_entries, query, expected):
    login(client, "admin@helpdesk.test")
    assert [action for action in audit_rows(client, query) if action != "login"] == expected


def test_audit_log_filters_on_user(client, audit_entries, agent):
    login(client, "admin@helpdesk.test")
    assert audit_rows(client, f"?user={agent}") == ["send"]


def test_audit_log_rejects_bad_date(client, audit_entries):
    login(client, "admin@helpdesk.test")
    response = client.get("/admin/audit/?since=gisteren")
    assert response.status_code == 400
    assert "is geen datum" in response.get_data(as_text=True)


def test_audit_log_shows_reason_and_links_ticket(client, audit_entries):
    login(client, "admin@helpdesk.test")
    page = client.get("/admin/audit/").get_data(as_text=True)
    assert "controle van de afscherming" in page
    assert 'href="/admin/ticket/3"' in page
    for name in ("action", "user", "object_type", "object_id", "since", "until"):
        field_id = re.search(rf'<(?:input|select) id="([^"]+)"[^>]*name="{name}"', page)
        assert field_id, name
        assert f'<label for="{field_id.group(1)}">' in page, name
