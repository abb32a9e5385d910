import datetime as dt

import pyotp
import pytest
from sqlalchemy import select

from helpdesk.accounts import services
from helpdesk.accounts.models import AuditEntry, Role, User
from helpdesk.accounts.services import MAX_FAILED_LOGINS, AccountError, LoginFailure, ReauthenticationError
from helpdesk.crypto import decrypt
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
        result = services.authenticate(session, settings, " anna@HELPDESK.test ", PASSWORD)
        assert result.ok
        assert result.user.id == user_id
        assert result.user.last_login_at is not None
    with session_scope(settings) as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.user_id == user_id)).all()
        assert actions == ["login"]


def test_authenticate_rejects_wrong_password_and_unknown_address(settings, user_id):
    with session_scope(settings) as session:
        wrong = services.authenticate(session, settings, "anna@helpdesk.test", "wrong password here")
        unknown = services.authenticate(session, settings, "nobody@helpdesk.test", PASSWORD)
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
            services.authenticate(session, settings, "anna@helpdesk.test", "wrong password here", now=now)
        locked = services.authenticate(session, settings, "anna@helpdesk.test", PASSWORD, now=now)
        assert locked.failure == LoginFailure.LOCKED
        assert locked.locked_until > now

    later = now + dt.timedelta(minutes=services.LOCKOUT_MINUTES + 1)
    with session_scope(settings) as session:
        assert services.authenticate(session, settings, "anna@helpdesk.test", PASSWORD, now=later).ok


def test_set_password_lifts_lockout(settings, user_id):
    with session_scope(settings) as session:
        for _ in range(MAX_FAILED_LOGINS):
            services.authenticate(session, settings, "anna@helpdesk.test", "wrong password here")
        services.set_password(session, session.get(User, user_id), "another long password")
        assert services.authenticate(session, settings, "anna@helpdesk.test", "another long password").ok


def test_inactive_user_cannot_log_in(settings, user_id):
    with session_scope(settings) as session:
        session.get(User, user_id).active = False
    with session_scope(settings) as session:
        assert services.authenticate(session, settings, "anna@helpdesk.test", PASSWORD).failure == LoginFailure.INACTIVE


def code_at(secret: str, when: dt.datetime) -> str:
    return pyotp.TOTP(secret).at(when)


def other_code(code: str) -> str:
    return str((int(code) + 500_000) % 1_000_000).zfill(6)


def enrol(settings, user_id: int, now: dt.datetime) -> str:
    """Turn TOTP on for the user with a code for `now` and return the secret."""
    with session_scope(settings) as session:
        user = session.get(User, user_id)
        secret = services.pending_totp_secret(settings, user)
        services.enable_totp(session, settings, user, PASSWORD, code_at(secret, now), now=now)
    return secret


def test_totp_required_once_enabled(settings, user_id):
    now = utcnow()
    with session_scope(settings) as session:
        user = session.get(User, user_id)
        secret = services.pending_totp_secret(settings, user)
        with pytest.raises(AccountError, match="does not match"):
            services.enable_totp(session, settings, user, PASSWORD, other_code(code_at(secret, now)), now=now)
        services.enable_totp(session, settings, user, PASSWORD, code_at(secret, now), now=now)
        assert "otpauth://totp/" in services.totp_uri(user, secret)

    later = now + dt.timedelta(seconds=30)
    with session_scope(settings) as session:
        assert services.authenticate(session, settings, "anna@helpdesk.test", PASSWORD, now=later).failure == LoginFailure.TOTP_REQUIRED
        wrong = other_code(code_at(secret, later))
        assert services.authenticate(session, settings, "anna@helpdesk.test", PASSWORD, wrong, now=later).failure == LoginFailure.TOTP_INVALID
        assert services.authenticate(session, settings, "anna@helpdesk.test", PASSWORD, code_at(secret, later), now=later).ok


def test_totp_code_is_accepted_once(settings, user_id):
    now = utcnow()
    secret = enrol(settings, user_id, now)

    # The enrolment code counts as used, even within its 30-second step.
    with session_scope(settings) as session:
        replay = services.authenticate(session, settings, "anna@helpdesk.test", PASSWORD, code_at(secret, now), now=now)
        assert replay.failure == LoginFailure.TOTP_REPLAYED

    later = now + dt.timedelta(seconds=30)
    with session_scope(settings) as session:
        assert services.authenticate(session, settings, "anna@helpdesk.test", PASSWORD, code_at(secret, later), now=later).ok
    with session_scope(settings) as session:
        second = services.authenticate(session, settings, "anna@helpdesk.test", PASSWORD, code_at(secret, later), now=later)
        assert second.failure == LoginFailure.TOTP_REPLAYED


def test_totp_rejects_code_older_than_last_used(settings, user_id):
    now = utcnow()
    secret = enrol(settings, user_id, now + dt.timedelta(seconds=30))

    # The code of the previous step is within the clock-drift window but older than the one used.
    with session_scope(settings) as session:
        result = services.authenticate(session, settings, "anna@helpdesk.test", PASSWORD, code_at(secret, now), now=now + dt.timedelta(seconds=30))
        assert result.failure == LoginFailure.TOTP_REPLAYED


def test_totp_secrets_are_encrypted_at_rest(settings, user_id):
    with session_scope(settings) as session:
        user = session.get(User, user_id)
        pending = services.pending_totp_secret(settings, user)
        assert pending not in user.totp_pending_secret
        assert services.pending_totp_secret(settings, user) == pending

    secret = enrol(settings, user_id, utcnow())
    assert secret == pending
    with session_scope(settings) as session:
        user = session.get(User, user_id)
        assert user.totp_pending_secret is None
        assert secret not in user.totp_secret
        assert decrypt(settings, user.totp_secret.encode()) == secret


def test_plaintext_totp_secret_is_encrypted_on_sign_in(settings, user_id):
    secret = pyotp.random_base32()
    with session_scope(settings) as session:
        session.get(User, user_id).totp_secret = secret  # as stored before encryption was introduced

    with session_scope(settings) as session:
        assert services.authenticate(session, settings, "anna@helpdesk.test", PASSWORD, pyotp.TOTP(secret).now()).ok
    with session_scope(settings) as session:
        stored = session.get(User, user_id).totp_secret
        assert stored != secret
        assert decrypt(settings, stored.encode()) == secret


def test_enable_totp_needs_pending_secret(settings, user_id):
    with session_scope(settings) as session:
        with pytest.raises(AccountError, match="No TOTP secret is waiting"):
            services.enable_totp(session, settings, session.get(User, user_id), PASSWORD, "123456")


def test_enable_totp_needs_current_password(settings, user_id):
    now = utcnow()
    with session_scope(settings) as session:
        user = session.get(User, user_id)
        secret = services.pending_totp_secret(settings, user)
    with session_scope(settings) as session:
        with pytest.raises(ReauthenticationError, match="current password is wrong"):
            services.enable_totp(session, settings, session.get(User, user_id), "wrong password here", code_at(secret, now), now=now)

    with session_scope(settings) as session:
        user = session.get(User, user_id)
        assert user.totp_secret is None
        assert user.failed_logins == 1
        # The code was not checked, so it is still unused.
        assert user.totp_last_timecode is None
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "reauth_failed")).one()
        assert entry.detail["change"] == "totp_enabled"


def test_disable_own_totp_needs_password_and_code(settings, user_id):
    now = utcnow()
    secret = enrol(settings, user_id, now)
    later = now + dt.timedelta(seconds=30)
    attempts = [
        ("wrong password here", code_at(secret, later), "current password is wrong"),
        (PASSWORD, other_code(code_at(secret, later)), "does not match"),
        (PASSWORD, code_at(secret, now), "does not match"),  # the enrolment code, replayed
    ]
    for password, code, message in attempts:
        with session_scope(settings) as session:
            with pytest.raises(ReauthenticationError, match=message):
                services.disable_own_totp(session, settings, session.get(User, user_id), password, code, now=later)

    with session_scope(settings) as session:
        user = session.get(User, user_id)
        assert user.totp_secret is not None
        assert user.failed_logins == len(attempts)
        services.disable_own_totp(session, settings, user, PASSWORD, code_at(secret, later), now=later)
    with session_scope(settings) as session:
        assert session.get(User, user_id).totp_secret is None


def test_reauthentication_failures_lock_account(settings, user_id):
    now = utcnow()
    for _ in range(MAX_FAILED_LOGINS):
        with session_scope(settings) as session:
            with pytest.raises(ReauthenticationError):
                services.change_own_password(session, session.get(User, user_id), "wrong password here", "a brand new password", now=now)

    with session_scope(settings) as session:
        with pytest.raises(ReauthenticationError, match="locked"):
            services.change_own_password(session, session.get(User, user_id), PASSWORD, "a brand new password", now=now)
        assert services.authenticate(session, settings, "anna@helpdesk.test", PASSWORD, now=now).failure == LoginFailure.LOCKED
    with session_scope(settings) as session:
        assert services.verify_password(session.get(User, user_id), PASSWORD)


def test_locked_account_fails_like_unknown_address(settings, user_id, monkeypatch):
    now = utcnow()
    with session_scope(settings) as session:
        for _ in range(MAX_FAILED_LOGINS):
            services.authenticate(session, settings, "anna@helpdesk.test", "wrong password here", now=now)

    # Both paths hash the password once against the dummy hash, so they take equally long.
    dummy_checks = []
    verify_dummy = services._verify_dummy
    monkeypatch.setattr(services, "_verify_dummy", lambda password: dummy_checks.append(password) or verify_dummy(password))
    with session_scope(settings) as session:
        locked = services.authenticate(session, settings, "anna@helpdesk.test", PASSWORD, now=now)
        unknown = services.authenticate(session, settings, "nobody@helpdesk.test", PASSWORD, now=now)
    assert locked.failure == LoginFailure.LOCKED
    assert unknown.failure == LoginFailure.INVALID
    assert dummy_checks == [PASSWORD, PASSWORD]


def test_session_version_rises_on_access_changes(settings, user_id):
    def version() -> int:
        with session_scope(settings) as session:
            return session.get(User, user_id).session_version

    start = version()
    with session_scope(settings) as session:
        services.set_password(session, session.get(User, user_id), "another long password")
    assert version() == start + 1

    with session_scope(settings) as session:
        session.get(User, user_id).role = Role.EDITOR
    assert version() == start + 2

    with session_scope(settings) as session:
        session.get(User, user_id).active = False
    assert version() == start + 3

    with session_scope(settings) as session:
        user = session.get(User, user_id)
        user.role = Role.EDITOR
        user.active = False
        user.display_name = "Anna B."
    assert version() == start + 3


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
