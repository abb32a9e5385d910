import datetime as dt

import pyotp
import pytest
from sqlalchemy import select

from helpdesk.accounts import services
from helpdesk.accounts.models import AuditEntry, Role, User
from helpdesk.accounts.services import MAX_FAILED_LOGINS, AccountError, LoginFailure
from helpdesk.db import session_scope, utcnow

PASSWORD = "correct horse battery staple"


@pytest.fixture
def user_id(settings) -> int:
    with session_scope(settings) as session:
        return services.create_user(session, "Anna@Helpdesk.test", PASSWORD, Role.AGENT, "Anna").id


def test_create_user_stores_argon2_hash(settings, user_id):
    with session_scope(settings) as session:
        user = session.get(User, user_id)
        assert user.email == "anna@helpdesk.test"
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert services.verify_password(user, PASSWORD)
        assert not services.verify_password(user, PASSWORD + "x")


@pytest.mark.parametrize(
    ("email", "password", "role", "message"),
    [
        ("not-an-address", PASSWORD, "agent", "not a valid email address"),
        ("ANNA@helpdesk.test", PASSWORD, "agent", "already exists"),
        ("new@helpdesk.test", "short", "agent", "at least 12"),
        ("new@helpdesk.test", PASSWORD, "boss", "is not a role"),
    ],
)
def test_create_user_rejects_bad_values(settings, user_id, email, password, role, message):
    with session_scope(settings) as session:
        with pytest.raises(AccountError, match=message):
            services.create_user(session, email, password, role)


def test_authenticate_accepts_right_password(settings, user_id):
    with session_scope(settings) as session:
        result = services.authenticate(session, " anna@HELPDESK.test ", PASSWORD)
        assert result.ok
        assert result.user.id == user_id
        assert result.user.last_login_at is not None
    with session_scope(settings) as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.user_id == user_id)).all()
        assert actions == ["login"]


def test_authenticate_rejects_wrong_password_and_unknown_address(settings, user_id):
    with session_scope(settings) as session:
        wrong = services.authenticate(session, "anna@helpdesk.test", "wrong password here")
        unknown = services.authenticate(session, "nobody@helpdesk.test", PASSWORD)
        assert wrong.failure == LoginFailure.INVALID
        assert unknown.failure == LoginFailure.INVALID
        assert wrong.user is None
        assert session.get(User, user_id).failed_logins == 1
    with session_scope(settings) as session:
        failures = session.scalars(select(AuditEntry).where(AuditEntry.action == "login_failed")).all()
        assert len(failures) == 2


def test_lockout_after_repeated_failures(settings, user_id):
    now = utcnow()
    with session_scope(settings) as session:
        for _ in range(MAX_FAILED_LOGINS):
            services.authenticate(session, "anna@helpdesk.test", "wrong password here", now=now)
        locked = services.authenticate(session, "anna@helpdesk.test", PASSWORD, now=now)
        assert locked.failure == LoginFailure.LOCKED
        assert locked.locked_until > now

    later = now + dt.timedelta(minutes=services.LOCKOUT_MINUTES + 1)
    with session_scope(settings) as session:
        assert services.authenticate(session, "anna@helpdesk.test", PASSWORD, now=later).ok


def test_set_password_lifts_lockout(settings, user_id):
    with session_scope(settings) as session:
        for _ in range(MAX_FAILED_LOGINS):
            services.authenticate(session, "anna@helpdesk.test", "wrong password here")
        services.set_password(session, session.get(User, user_id), "another long password")
        assert services.authenticate(session, "anna@helpdesk.test", "another long password").ok


def test_inactive_user_cannot_log_in(settings, user_id):
    with session_scope(settings) as session:
        session.get(User, user_id).active = False
    with session_scope(settings) as session:
        assert services.authenticate(session, "anna@helpdesk.test", PASSWORD).failure == LoginFailure.INACTIVE


def test_totp_required_once_enabled(settings, user_id):
    secret = services.new_totp_secret()
    with session_scope(settings) as session:
        user = session.get(User, user_id)
        with pytest.raises(AccountError, match="does not match"):
            services.enable_totp(session, user, secret, "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
        services.enable_totp(session, user, secret, pyotp.TOTP(secret).now())
        assert "otpauth://totp/" in services.totp_uri(user, secret)

    with session_scope(settings) as session:
        assert services.authenticate(session, "anna@helpdesk.test", PASSWORD).failure == LoginFailure.TOTP_REQUIRED
        wrong_code = str((int(pyotp.TOTP(secret).now()) + 500_000) % 1_000_000).zfill(6)
        assert services.authenticate(session, "anna@helpdesk.test", PASSWORD, wrong_code).failure == LoginFailure.TOTP_INVALID
        assert services.authenticate(session, "anna@helpdesk.test", PASSWORD, pyotp.TOTP(secret).now()).ok


def test_audit_records_action_and_reason(settings, user_id):
    with session_scope(settings) as session:
        user = session.get(User, user_id)
        services.audit(session, user, "export", "ticket", 12, reason="  client asked for a copy  ", detail={"rows": 3})
    with session_scope(settings) as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "export"))
        assert entry.user_id == user_id
        assert entry.object_type == "ticket"
        assert entry.object_id == "12"
        assert entry.reason == "client asked for a copy"
        assert entry.detail == {"rows": 3}
