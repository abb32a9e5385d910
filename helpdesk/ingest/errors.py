"""Telling a database outage apart from a mail that cannot be stored.

A mail whose ingestion fails is quarantined, so that one bad mail does not
block its mailbox. A failure of the database itself is no fault of the
mail, and quarantining would hide a healthy mail from staff. Such errors
propagate instead, the mail is not marked processed, and the next poll
ingests it again.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

# SQLSTATE classes and codes of failures that a later attempt can overcome:
# 08 connection exception, 40 transaction rollback (deadlock, serialization),
# 53 insufficient resources, 57 operator intervention (server shut down,
# backend terminated, query cancelled), 58 system error, 55P03 lock not available.
TRANSIENT_SQLSTATE_CLASSES = {"08", "40", "53", "57", "58"}
TRANSIENT_SQLSTATES = {"55P03"}


def is_connection_error(error: BaseException) -> bool:
    """Return whether `error`, or an error it was raised from or during, is a database outage.

    An OperationalError counts when its SQLSTATE is one of the transient
    ones above, or when it has none: SQLite reports none, and its
    OperationalErrors are a locked or unreadable file. Other SQLSTATEs, such
    as class 54 for an index row too large, would fail again on every retry,
    so that mail is quarantined.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _is_outage(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _is_outage(error: BaseException) -> bool:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate is None:
        return True
    return sqlstate in TRANSIENT_SQLSTATES or sqlstate[:2] in TRANSIENT_SQLSTATE_CLASSES
