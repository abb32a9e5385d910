"""The address that replies come from, per mailbox, and recognising mail from any of our addresses.

A reply comes from the reply address of the ticket's mailbox, so that a
client who wrote to antwerpen@… gets the reply from antwerpen@… and the
client's next reply comes back into the same mailbox. A mailbox without a
reply address uses HELPDESK_FROM_ADDRESS and HELPDESK_FROM_NAME.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.config import Settings
from helpdesk.teams.models import MailboxRoute

# Ingestion checks every mail against the reply addresses, so the set is read
# from the database at most once per this many seconds and process. A change
# on the admin page or the CLI clears the cache of its own process at once.
# NOTE: another process (a Celery worker) sees a new reply address only after
# up to OWN_ADDRESSES_TTL_SECONDS, and until then opens a ticket for its mail.
OWN_ADDRESSES_TTL_SECONDS = 60.0

_cache_lock = threading.Lock()
_cache: dict[str, tuple[float, frozenset[str]]] = {}


@dataclass(frozen=True)
class Sender:
    """The From of a reply: an address and a display name, which may be empty."""

    address: str
    name: str


def reply_sender(session: Session, settings: Settings, mailbox: str | None) -> Sender:
    """Return the From of replies on tickets of `mailbox` (a mailbox key), else the central address."""
    route = None
    if mailbox:
        route = session.execute(
            select(MailboxRoute.reply_address, MailboxRoute.reply_name).where(MailboxRoute.mailbox == mailbox)
        ).first()
    if route is None or not route.reply_address:
        return Sender(settings.from_address, settings.from_name)

    # A mailbox with its own address but no own name keeps the helpdesk's name.
    return Sender(route.reply_address, route.reply_name or settings.from_name)


def own_addresses(session: Session, settings: Settings) -> frozenset[str]:
    """Return HELPDESK_FROM_ADDRESS and every mailbox's reply address, in lower case."""
    key = settings.database_url
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None and cached[0] > now:
        return cached[1] | {settings.from_address.strip().lower()}

    # Without autoflush, because ingestion writes a whole batch in one flush
    # and this query runs in the middle of it.
    with session.no_autoflush:
        stored = session.scalars(select(MailboxRoute.reply_address).where(MailboxRoute.reply_address.is_not(None))).all()
    addresses = frozenset(address.strip().lower() for address in stored if address)
    with _cache_lock:
        _cache[key] = (now + OWN_ADDRESSES_TTL_SECONDS, addresses)
    return addresses | {settings.from_address.strip().lower()}


def is_own_address(session: Session, settings: Settings, address: str | None) -> bool:
    """Return whether `address` is one that the helpdesk sends from, so its mail must not open a ticket."""
    if not address:
        return False
    return address.strip().lower() in own_addresses(session, settings)


def forget_own_addresses() -> None:
    """Clear the cached reply addresses, after a change or between tests."""
    with _cache_lock:
        _cache.clear()
