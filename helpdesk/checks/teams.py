"""Check of the teams: mailbox routes to mailboxes that are no longer fetched, reply addresses and teams without members."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from helpdesk.checks.results import CheckContext, CheckResult, Status, one_line
from helpdesk.config import ConfigError
from helpdesk.ingest.sources import mailbox_key
from helpdesk.teams.models import MailboxRoute, Team, team_members


def check_teams(context: CheckContext, database_ready: bool) -> CheckResult:
    """Warn about routes of mailboxes missing from HELPDESK_MAILBOX_URL, reply addresses and teams without members."""
    _ = context.gettext
    if not database_ready:
        return CheckResult("teams", Status.SKIPPED, _("De teams zijn niet gecontroleerd, omdat de database niet in orde is."))

    engine = create_engine(context.settings.database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            routes = connection.execute(select(MailboxRoute.mailbox, Team.name).join(Team, Team.id == MailboxRoute.team_id)).all()
            reply_addresses = connection.execute(
                select(MailboxRoute.mailbox, MailboxRoute.reply_address)
                .where(MailboxRoute.reply_address.is_not(None))
                .order_by(MailboxRoute.mailbox)
            ).all()
            member_counts = connection.execute(
                select(Team.name, func.count(team_members.c.user_id))
                .outerjoin(team_members, team_members.c.team_id == Team.id)
                .group_by(Team.id, Team.name)
            ).all()
    except SQLAlchemyError as error:
        message = _("De teams konden niet gelezen worden ({error}).")
        return CheckResult("teams", Status.FAILED, message.format(error=one_line(getattr(error, "orig", error))))
    finally:
        engine.dispose()

    configured = set()
    for url in context.settings.mailbox_urls:
        try:
            configured.add(mailbox_key(url))
        except ConfigError:
            continue  # the mailbox check reports invalid URLs
    stale = sorted(mailbox for mailbox, _team in routes if mailbox not in configured)
    if stale:
        message = _("Mailbox {mailbox} heeft een route naar een team, maar staat niet in HELPDESK_MAILBOX_URL: zet de mailbox terug of verwijder de route op de pagina Teams en mailboxen.")
        return CheckResult("teams", Status.WARNING, message.format(mailbox=stale[0]), stale[0])

    login_domain = _smtp_login_domain(context.settings.smtp_url)
    foreign = [(mailbox, address) for mailbox, address in reply_addresses if login_domain and _domain(address) != login_domain]
    if foreign:
        mailbox, address = foreign[0]
        message = _("Antwoordadres {address} van mailbox {mailbox} ligt op een ander domein dan de SMTP-login ({domain}): de mailserver kan die antwoorden weigeren of als vervalst laten markeren. Laat de SMTP-server ook voor dat domein verzenden (SPF en DKIM) of kies een adres op {domain}.")
        return CheckResult("teams", Status.WARNING, message.format(address=address, mailbox=mailbox, domain=login_domain), mailbox)

    empty = sorted(name for name, count in member_counts if count == 0)
    if empty:
        message = _("Team {team} heeft geen leden, dus alleen beheerders zien zijn tickets: voeg leden toe op de pagina Teams en mailboxen.")
        return CheckResult("teams", Status.WARNING, message.format(team=empty[0]), empty[0])

    if not member_counts:
        return CheckResult("teams", Status.OK, _("Er zijn geen teams: iedereen ziet alle tickets."))
    message = _("{teams} teams met leden, {routes} mailboxen met een route naar een team.")
    return CheckResult("teams", Status.OK, message.format(teams=len(member_counts), routes=len(routes)))


def _domain(address: str) -> str:
    return address.rpartition("@")[2].strip().lower()


def _smtp_login_domain(smtp_url: str) -> str | None:
    """Return the domain of the SMTP login name, or None when the login is no address or there is no login."""
    username = unquote(urlsplit(smtp_url.strip()).username or "")
    if "@" not in username:
        return None
    return _domain(username)
