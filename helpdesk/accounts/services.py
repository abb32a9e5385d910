"""Staff accounts: password hashing, sign-in with lockout, TOTP and the audit log."""

from __future__ import annotations

import datetime as dt
import enum
import logging
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from helpdesk.accounts import totp
from helpdesk.accounts.models import AuditEntry, Role, User
from helpdesk.config import ConfigError, Settings
from helpdesk.db import as_utc, utcnow

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12
MAX_FAILED_LOGINS = 5
LOCKOUT_MINUTES = 15
LANGUAGES = ("nl", "fr", "en")

_hasher = PasswordHasher()
_EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Verified against when the address is unknown or the account is locked, so
# that these attempts take as long as one with a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class AccountError(ValueError):
    """An account cannot be created or changed; the message names the value and the fix."""


class ReauthenticationError(AccountError):
    """A wrong current password or TOTP code for a change to one's own account, or a locked account."""


class LoginFailure(str, enum.Enum):
    INVALID = "invalid"  # unknown address or wrong password: never tell which
    LOCKED = "locked"  # shown to the user exactly like INVALID
    INACTIVE = "inactive"
    TOTP_REQUIRED = "totp_required"
    TOTP_INVALID = "totp_invalid"
    TOTP_REPLAYED = "totp_replayed"  # a right code whose time step was already used


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    failure: LoginFailure | None = None
    locked_until: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


def normalize_email(email: str) -> str:
    return email.strip().lower()


def is_valid_email(email: str) -> bool:
    """Return whether `email` has the form name@example.org, the form that staff accounts need."""
    return bool(_EMAIL_PATTERN.match(email))


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"The password has {len(password)} characters: use at least {MIN_PASSWORD_LENGTH}."
        )
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    """Check `password` against the stored hash and upgrade the hash when its parameters are outdated."""
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return True


def create_user(
    session: Session,
    email: str,
    password: str,
    role: Role | str = Role.AGENT,
    display_name: str = "",
    language: str = "nl",
) -> User:
    """Add a staff account; raise AccountError for an invalid or taken address, role or password."""
    email = normalize_email(email)
    if not _EMAIL_PATTERN.match(email):
        raise AccountError(f"{email!r} is not a valid email address: use the form name@example.org.")
    if find_user(session, email) is not None:
        raise AccountError(f"An account for {email} already exists: reset its password instead.")
    try:
        role = Role(role)
    except ValueError:
        raise AccountError(f"{role!r} is not a role: use agent, editor or admin.") from None
    if language not in LANGUAGES:
        raise AccountError(f"{language!r} is not a supported language: use nl, fr or en.")

    user = User(
        email=email,
        display_name=display_name.strip(),
        password_hash=hash_password(password),
        role=role,
        language=language,
    )
    session.add(user)
    session.flush()
    logger.info("user created", extra={"user_id": user.id, "role": role.value})
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Replace the password, lift any lockout and end every session of the account."""
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    end_sessions(user)
    session.flush()


def end_sessions(user: User) -> None:
    """Invalidate every signed session cookie of `user`, on every device.

    The staff app stores the session version in the cookie and accepts a
    cookie only while it equals the stored one (admin.auth).
    """
    user.session_version = (user.session_version or 0) + 1


def authenticate(
    session: Session,
    settings: Settings,
    email: str,
    password: str,
    totp_code: str | None = None,
    now: dt.datetime | None = None,
) -> LoginResult:
    """Check a sign-in attempt, count failures and lock the account after MAX_FAILED_LOGINS in a row.

    Every attempt, failed or not, is written to the audit log. A locked account
    is rejected without checking the password, so guessing during the lockout
    gains nothing. The password is still hashed against a dummy, so that the
    reply to a locked account cannot be distinguished from an unknown address.
    """
    now = now or utcnow()
    user = find_user(session, email)
    if user is None:
        _verify_dummy(password)
        audit(session, None, "login_failed", "user", None, detail={"failure": LoginFailure.INVALID.value})
        return LoginResult(None, LoginFailure.INVALID)

    locked_until = as_utc(user.locked_until)
    if locked_until is not None and locked_until > now:
        _verify_dummy(password)
        audit(session, user, "login_failed", "user", user.id, detail={"failure": LoginFailure.LOCKED.value})
        return LoginResult(None, LoginFailure.LOCKED, locked_until)

    if not verify_password(user, password):
        return _record_failure(session, user, LoginFailure.INVALID, now)
    # Checked after the password, so that a deactivated account takes as long
    # as a wrong password. The staff app shows both with the same text.
    if not user.active:
        audit(session, user, "login_failed", "user", user.id, detail={"failure": LoginFailure.INACTIVE.value})
        return LoginResult(None, LoginFailure.INACTIVE)
    if user.totp_secret:
        if not totp_code:
            return LoginResult(None, LoginFailure.TOTP_REQUIRED)
        secret = totp_secret(settings, user)
        if not _accept_totp(session, user, secret, totp_code, now):
            replayed = totp.is_used_code(secret, totp_code, user.totp_last_timecode, now)
            return _record_failure(session, user, LoginFailure.TOTP_REPLAYED if replayed else LoginFailure.TOTP_INVALID, now)

    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit(session, user, "login", "user", user.id)
    return LoginResult(user)


def _verify_dummy(password: str) -> None:
    try:
        _hasher.verify(_DUMMY_HASH, password)
    except VerificationError:
        pass


def _record_failure(
    session: Session,
    user: User,
    failure: LoginFailure,
    now: dt.datetime,
    action: str = "login_failed",
    change: str | None = None,
) -> LoginResult:
    user.failed_logins = (user.failed_logins or 0) + 1
    detail = {"failure": failure.value, "failed_logins": user.failed_logins}
    if change is not None:
        detail["change"] = change
    if user.failed_logins >= MAX_FAILED_LOGINS:
        user.locked_until = now + dt.timedelta(minutes=LOCKOUT_MINUTES)
        user.failed_logins = 0
        detail["locked"] = True
        logger.warning("account locked after repeated failed logins", extra={"user_id": user.id})
    audit(session, user, action, "user", user.id, detail=detail)
    return LoginResult(None, failure, as_utc(user.locked_until))


def reauthenticate(
    session: Session,
    user: User,
    password: str,
    change: str,
    totp_code: str | None = None,
    secret: str | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Check that the signed-in user is present before `change`, or raise ReauthenticationError.

    A stolen session cookie alone must not change the password or the second
    factor. The current password is checked, and when `secret` is given,
    `totp_code` is checked against it with the replay protection of the
    sign-in. A wrong password or code counts towards the sign-in lockout and
    is audit-logged as "reauth_failed" with `change` (password, totp_enabled
    or totp_disabled). A locked account is rejected without checking either.
    """
    now = now or utcnow()
    locked_until = as_utc(user.locked_until)
    if locked_until is not None and locked_until > now:
        _verify_dummy(password)
        audit(session, user, "reauth_failed", "user", user.id, detail={"failure": LoginFailure.LOCKED.value, "change": change})
        raise ReauthenticationError(f"The account is locked until {locked_until.isoformat()}: wait or ask an administrator to unlock it.")

    if not verify_password(user, password):
        _record_failure(session, user, LoginFailure.INVALID, now, "reauth_failed", change)
        raise ReauthenticationError("The current password is wrong: enter the password you sign in with.")
    if secret is not None and not _accept_totp(session, user, secret, totp_code or "", now):
        _record_failure(session, user, LoginFailure.TOTP_INVALID, now, "reauth_failed", change)
        raise ReauthenticationError("The verification code does not match: check the time on your phone and try again.")

    user.failed_logins = 0


def change_own_password(session: Session, user: User, current_password: str, new_password: str, now: dt.datetime | None = None) -> None:
    """Set a new password chosen by the user after checking the current one, and end every session.

    Raise ReauthenticationError for a wrong current password or a locked
    account, and AccountError for a new password that is too short.
    """
    reauthenticate(session, user, current_password, "password", now=now)
    set_password(session, user, new_password)
    audit(session, user, "settings", "user", user.id, detail={"change": "password"})


def reset_password(session: Session, user: User, password: str, actor: User) -> None:
    """Set a new password chosen by an administrator, lift any lockout and audit-log who did it."""
    set_password(session, user, password)
    audit(session, actor, "settings", "user", user.id, detail={"change": "password_reset"})
    logger.info("password reset by administrator", extra={"user_id": user.id, "actor_id": actor.id})


def unlock(session: Session, user: User, actor: User | None) -> None:
    user.failed_logins = 0
    user.locked_until = None
    audit(session, actor, "settings", "user", user.id, detail={"change": "unlock"})


def totp_uri(user: User, secret: str) -> str:
    return totp.provisioning_uri(user.email, secret)


def totp_secret(settings: Settings, user: User) -> str | None:
    """Return the user's TOTP secret in plain text, encrypting a value stored before encryption was introduced."""
    if not user.totp_secret:
        return None
    secret = totp.unseal(settings, user.totp_secret)
    if not totp.is_sealed(user.totp_secret):
        user.totp_secret = totp.seal(settings, secret)
        logger.info("stored TOTP secret encrypted", extra={"user_id": user.id})
    return secret


def pending_totp_secret(settings: Settings, user: User) -> str:
    """Return the secret offered to the user for enrolment, creating and storing one when there is none.

    The secret stays on the server until the user confirms it with a code, so
    a client cannot choose the secret it enrols.
    """
    if user.totp_pending_secret:
        return totp.unseal(settings, user.totp_pending_secret)
    secret = totp.new_secret()
    user.totp_pending_secret = totp.seal(settings, secret)
    return secret


def enable_totp(
    session: Session, settings: Settings, user: User, password: str, code: str, now: dt.datetime | None = None
) -> None:
    """Turn on TOTP once the user gives the current password and a code of the pending secret, and end every session.

    Raise ReauthenticationError for a wrong password or code (see
    reauthenticate). Sessions signed in with the password alone end, so the
    caller signs the current browser in again.
    """
    if not user.totp_pending_secret:
        raise AccountError("No TOTP secret is waiting for confirmation: open the account page to get one.")
    secret = totp.unseal(settings, user.totp_pending_secret)
    reauthenticate(session, user, password, "totp_enabled", code, secret, now)
    user.totp_secret = totp.seal(settings, secret)
    user.totp_pending_secret = None
    end_sessions(user)
    audit(session, user, "settings", "user", user.id, detail={"change": "totp_enabled"})


def _accept_totp(session: Session, user: User, secret: str, code: str, now: dt.datetime) -> bool:
    """Check `code` and record its time step, so the same code is not accepted a second time.

    The step is recorded with a conditional UPDATE, so of two requests that
    race with one code only the first one to write succeeds.
    """
    step = totp.accepted_timecode(secret, code, user.totp_last_timecode, now)
    if step is None:
        return False
    newer = or_(User.totp_last_timecode.is_(None), User.totp_last_timecode < step)
    result = session.execute(
        update(User).where(User.id == user.id, newer).values(totp_last_timecode=step),
        execution_options={"synchronize_session": "fetch"},
    )
    return result.rowcount == 1


def disable_own_totp(
    session: Session, settings: Settings, user: User, password: str, code: str, now: dt.datetime | None = None
) -> None:
    """Turn off the user's own TOTP after checking the current password and a current code, and end every session.

    Raise ReauthenticationError for a wrong password or code (see
    reauthenticate). The caller signs the current browser in again.
    """
    if not user.totp_secret:
        raise AccountError("TOTP is already off for this account: there is nothing to turn off.")
    reauthenticate(session, user, password, "totp_disabled", code, totp_secret(settings, user), now)
    disable_totp(session, user, user)


def disable_totp(session: Session, user: User, actor: User | None) -> None:
    """Turn off TOTP and end every session, such as one on a lost phone.

    Only an administrator's reset for another user calls this directly. A user
    turning off their own TOTP goes through disable_own_totp.
    """
    user.totp_secret = None
    user.totp_pending_secret = None
    end_sessions(user)
    audit(session, actor, "settings", "user", user.id, detail={"change": "totp_disabled"})


def totp_required_roles(settings: Settings) -> frozenset[Role]:
    """Return the roles that must use TOTP (HELPDESK_TOTP_REQUIRED_ROLES); raise ConfigError for an unknown role."""
    roles = set()
    for name in settings.totp_required_roles.split(","):
        name = name.strip().lower()
        if not name:
            continue
        try:
            roles.add(Role(name))
        except ValueError:
            raise ConfigError(
                f"HELPDESK_TOTP_REQUIRED_ROLES contains {name!r}, which is not a role: use agent, editor and admin, separated by commas."
            ) from None
    return frozenset(roles)


def totp_required(settings: Settings, user: User) -> bool:
    return user.role in totp_required_roles(settings)


def needs_totp_setup(settings: Settings, user: User) -> bool:
    """Return whether the user's role requires TOTP and the user has not set it up yet."""
    return not user.totp_secret and totp_required(settings, user)


def audit(
    session: Session,
    user: User | None,
    action: str,
    object_type: str | None,
    object_id: int | str | None,
    reason: str | None = None,
    detail: dict | None = None,
) -> AuditEntry:
    """Record a sensitive action (login, reveal, send, publish, delete, export, settings).

    `detail` contains ids and states only, never message text or addresses.
    """
    entry = AuditEntry(
        user_id=user.id if user is not None else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else None,
        reason=(reason or None) and reason.strip()[:500],
        detail=detail or {},
    )
    session.add(entry)
    return entry


AUDIT_PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditQuery:
    """Filters of the audit log; None filters nothing. `since` is inclusive, `until` exclusive."""

    action: str | None = None
    user_id: int | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    page: int = 1


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    page_size: int = AUDIT_PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def audit_page(session: Session, query: AuditQuery) -> AuditPage:
    """Return one page of audit entries matching `query`, newest first, and the number of matches."""
    conditions = []
    if query.action:
        conditions.append(AuditEntry.action == query.action)
    if query.user_id is not None:
        conditions.append(AuditEntry.user_id == query.user_id)
    if query.object_type:
        conditions.append(AuditEntry.object_type == query.object_type)
    if query.object_id:
        conditions.append(AuditEntry.object_id == query.object_id)
    if query.since is not None:
        conditions.append(AuditEntry.created_at >= query.since)
    if query.until is not None:
        conditions.append(AuditEntry.created_at < query.until)

    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions)) or 0
    last_page = max(1, -(-total // AUDIT_PAGE_SIZE))
    page = min(max(query.page, 1), last_page)
    entries = session.scalars(
        select(AuditEntry)
        .where(*conditions)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(AUDIT_PAGE_SIZE)
        .offset((page - 1) * AUDIT_PAGE_SIZE)
    ).all()
    return AuditPage(entries=list(entries), total=total, page=page)


def audit_choices(session: Session) -> tuple[list[str], list[str]]:
    """Return the distinct actions and object types in the audit log, for the filter lists."""
    actions = session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)).all()
    types = session.scalars(select(AuditEntry.object_type).where(AuditEntry.object_type.is_not(None)).distinct().order_by(AuditEntry.object_type)).all()
    return list(actions), list(types)
