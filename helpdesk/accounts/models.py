"""Staff accounts and the audit log of sensitive actions."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Optional

from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.base import NO_VALUE

from helpdesk.db import Base, utcnow


class Role(str, enum.Enum):
    AGENT = "agent"  # answers tickets
    EDITOR = "editor"  # also manages articles and publishes the FAQ
    ADMIN = "admin"  # also users, settings and retention


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="user_role", native_enum=False, length=16,
             values_callable=lambda members: [member.value for member in members]),
        default=Role.AGENT,
    )
    can_reveal: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(8), default="nl")
    # Fernet tokens under HELPDESK_ENCRYPTION_KEY (see accounts.totp). A value
    # written before encryption was introduced is a bare base32 secret, which
    # is encrypted the next time it is read.
    totp_secret: Mapped[Optional[str]] = mapped_column(String(255))
    totp_pending_secret: Mapped[Optional[str]] = mapped_column(String(255))  # offered, not yet confirmed
    totp_last_timecode: Mapped[Optional[int]] = mapped_column(Integer)  # 30-second step of the last accepted code
    # Part of the session id in the signed cookie. Raising it ends every session of the account.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[Optional[dt.datetime]] = mapped_column()
    last_login_at: Mapped[Optional[dt.datetime]] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


@event.listens_for(User.role, "set", active_history=True)
@event.listens_for(User.active, "set", active_history=True)
def _end_sessions_on_access_change(user: User, value, old_value, initiator) -> None:
    """End every session of an account whose role or active flag changes.

    A listener catches every place that changes them, the user admin form
    included, so a demoted or deactivated account keeps no open session.
    """
    if old_value is NO_VALUE or old_value is None or value == old_value:
        return
    user.session_version = (user.session_version or 0) + 1


class AuditEntry(Base):
    """A sensitive action: login, reveal, send, publish, delete, export, settings."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[Optional[str]] = mapped_column(String(64))
    object_id: Mapped[Optional[str]] = mapped_column(String(64))
    reason: Mapped[Optional[str]] = mapped_column(String(500))  # typed by staff, e.g. why they revealed
    detail: Mapped[dict] = mapped_column(default=dict)
