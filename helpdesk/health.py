"""Health checks for orchestrators: is a process ready, and do the mailbox polls succeed?

`readiness_checks` runs the database, schema and broker checks of
`helpdesk check`, the ones that the web app needs to serve requests, with a
short timeout. `mailbox_poll_checks` reads the last successful poll of
each configured mailbox from MailboxState. Both return `CheckResult`s with
English messages that name no client data. Their targets are the masked
URLs and mailbox keys of `helpdesk check`, without passwords.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from helpdesk.checks.database import check_database
from helpdesk.checks.i18n import translations
from helpdesk.checks.results import CheckContext, CheckResult, Status, one_line
from helpdesk.checks.servers import check_broker
from helpdesk.config import ConfigError, Settings
from helpdesk.db import as_utc, session_scope, utcnow
from helpdesk.ingest.models import MailboxState
from helpdesk.ingest.sources import parse_mailbox_url, safe_url

# An orchestrator's probe usually gives up after a few seconds, so each server
# gets less than that. PostgreSQL's connect_timeout is at least 2 seconds.
READINESS_TIMEOUT_SECONDS = 3.0

# Polls of a mailbox count as stale after this many poll intervals without success.
POLL_STALE_INTERVALS = 3
# A floor under that limit, because one poll of a large backlog takes longer than a short interval.
MIN_POLL_MAX_AGE_SECONDS = 300.0


def readiness_checks(settings: Settings, timeout: float = READINESS_TIMEOUT_SECONDS) -> list[CheckResult]:
    """Check that the database is reachable and at the newest migration, and that the broker responds."""
    context = _context(settings, timeout)
    return [*check_database(context), check_broker(context)]


def broker_check(settings: Settings, timeout: float = READINESS_TIMEOUT_SECONDS) -> CheckResult:
    """Check that the broker responds, as `helpdesk check` does."""
    return check_broker(_context(settings, timeout))


def _context(settings: Settings, timeout: float) -> CheckContext:
    return CheckContext(settings=settings, gettext=_english().gettext, timeout=timeout)


@lru_cache(maxsize=1)
def _english():
    # The catalogue is compiled from its .po file on every call of translations().
    return translations("en")


def default_poll_max_age(settings: Settings) -> float:
    """Return the seconds after which a mailbox without a successful poll counts as stale."""
    return max(POLL_STALE_INTERVALS * settings.poll_interval_seconds, MIN_POLL_MAX_AGE_SECONDS)


def mailbox_poll_checks(settings: Settings, max_age_seconds: float, now: dt.datetime | None = None) -> list[CheckResult]:
    """Return one result per configured mailbox: failed when its last successful poll is older than `max_age_seconds`.

    A mailbox that was never polled successfully fails too. The message
    includes the number of polls that failed in a row and, when there is
    one, the stored failure text, which names the server's error and never
    message content.
    """
    now = now or utcnow()
    try:
        mailboxes = [parse_mailbox_url(url) for url in settings.mailbox_urls]
    except ConfigError as error:
        return [CheckResult("mailbox", Status.FAILED, f"Invalid mailbox URL: {one_line(error)}")]
    if not mailboxes:
        return [CheckResult("mailbox", Status.FAILED, "HELPDESK_MAILBOX_URL is empty: no mailbox is polled.")]

    try:
        with session_scope(settings) as session:
            states = {
                (state.mailbox, state.folder): (as_utc(state.last_success_at), state.consecutive_failures, state.last_error)
                for state in session.scalars(select(MailboxState))
            }
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        return [CheckResult("mailbox", Status.FAILED, f"The poll state could not be read from the database ({one_line(cause)}).")]

    results = []
    for mailbox in mailboxes:
        last_success, failures, last_error = states.get((mailbox.key, mailbox.folder), (None, 0, None))
        results.append(_poll_result(mailbox.key, mailbox.folder, last_success, failures or 0, last_error, max_age_seconds, now))
    return results


def _poll_result(
    key: str,
    folder: str,
    last_success: dt.datetime | None,
    failures: int,
    last_error: str | None,
    max_age_seconds: float,
    now: dt.datetime,
) -> CheckResult:
    target = f"{safe_url(key)} {folder}"
    failure_text = f"; {failures} failed polls in a row" if failures else ""
    if last_error:
        failure_text += f"; last error: {one_line(last_error)}"

    if last_success is None:
        return CheckResult("mailbox", Status.FAILED, f"{target}: never polled successfully{failure_text}.", target)
    age = (now - last_success).total_seconds()
    if age > max_age_seconds:
        message = f"{target}: last successful poll {age:.0f} s ago, more than {max_age_seconds:.0f} s{failure_text}."
        return CheckResult("mailbox", Status.FAILED, message, target)
    return CheckResult("mailbox", Status.OK, f"{target}: last successful poll {age:.0f} s ago{failure_text}.", target)
