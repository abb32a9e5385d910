"""Health checks for orchestrators: is a process ready, and do the mailbox polls succeed?

`readiness_checks` runs the database, schema and broker checks of
`helpdesk check`, the ones that the web app needs to serve requests, with a
short timeout. `mailbox_poll_checks` reads the last successful poll of
each configured mailbox from MailboxState. Both return `CheckResult`s whose
messages name no client data: English for the web probes, and in the
language of the `gettext` argument for `helpdesk health`. Their targets are
the masked URLs and mailbox keys of `helpdesk check`, without passwords.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
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


def broker_check(
    settings: Settings, timeout: float = READINESS_TIMEOUT_SECONDS, gettext: Callable[[str], str] | None = None
) -> CheckResult:
    """Check that the broker responds, as `helpdesk check` does; messages in English unless `gettext` is given."""
    return check_broker(_context(settings, timeout, gettext))


def _context(settings: Settings, timeout: float, gettext: Callable[[str], str] | None = None) -> CheckContext:
    return CheckContext(settings=settings, gettext=gettext or _english().gettext, timeout=timeout)


@lru_cache(maxsize=1)
def _english():
    # The catalogue is compiled from its .po file on every call of translations().
    return translations("en")


def default_poll_max_age(settings: Settings) -> float:
    """Return the seconds after which a mailbox without a successful poll counts as stale."""
    return max(POLL_STALE_INTERVALS * settings.poll_interval_seconds, MIN_POLL_MAX_AGE_SECONDS)


def mailbox_poll_checks(
    settings: Settings,
    max_age_seconds: float,
    now: dt.datetime | None = None,
    gettext: Callable[[str], str] | None = None,
) -> list[CheckResult]:
    """Return one result per configured mailbox: failed when its last successful poll is older than `max_age_seconds`.

    A mailbox that was never polled successfully fails too. The message
    includes the number of polls that failed in a row and, when there is
    one, the stored failure text, which names the server's error and never
    message content. Messages are English unless `gettext` is given.
    """
    _ = gettext or _english().gettext
    now = now or utcnow()
    try:
        mailboxes = [parse_mailbox_url(url) for url in settings.mailbox_urls]
    except ConfigError as error:
        message = _("Ongeldige mailbox-URL: {error}")
        return [CheckResult("mailbox", Status.FAILED, message.format(error=one_line(error)))]
    if not mailboxes:
        return [CheckResult("mailbox", Status.FAILED, _("HELPDESK_MAILBOX_URL is leeg: er wordt geen mailbox opgehaald."))]

    try:
        with session_scope(settings) as session:
            states = {
                (state.mailbox, state.folder): (as_utc(state.last_success_at), state.consecutive_failures, state.last_error)
                for state in session.scalars(select(MailboxState))
            }
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        message = _("De ophaalstatus kon niet uit de database gelezen worden ({error}).")
        return [CheckResult("mailbox", Status.FAILED, message.format(error=one_line(cause)))]

    results = []
    for mailbox in mailboxes:
        last_success, failures, last_error = states.get((mailbox.key, mailbox.folder), (None, 0, None))
        result = _poll_result(_, mailbox.key, mailbox.folder, last_success, failures or 0, last_error, max_age_seconds, now)
        results.append(result)
    return results


def _poll_result(
    _: Callable[[str], str],
    key: str,
    folder: str,
    last_success: dt.datetime | None,
    failures: int,
    last_error: str | None,
    max_age_seconds: float,
    now: dt.datetime,
) -> CheckResult:
    target = f"{safe_url(key)} {folder}"
    failure_text = _("; {failures} keer na elkaar mislukt").format(failures=failures) if failures else ""
    if last_error:
        failure_text += _("; laatste fout: {error}").format(error=one_line(last_error))

    if last_success is None:
        message = _("{target}: nog nooit met succes opgehaald{failures}.")
        return CheckResult("mailbox", Status.FAILED, message.format(target=target, failures=failure_text), target)
    age = (now - last_success).total_seconds()
    if age > max_age_seconds:
        message = _("{target}: laatst met succes opgehaald {age:.0f} s geleden, meer dan {max_age:.0f} s{failures}.")
        message = message.format(target=target, age=age, max_age=max_age_seconds, failures=failure_text)
        return CheckResult("mailbox", Status.FAILED, message, target)
    message = _("{target}: laatst met succes opgehaald {age:.0f} s geleden{failures}.")
    return CheckResult("mailbox", Status.OK, message.format(target=target, age=age, failures=failure_text), target)
