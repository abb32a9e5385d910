"""Checks of the database: the connection, the schema revision and the stored encrypted data."""

from __future__ import annotations

from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from helpdesk import schema
from helpdesk.accounts import totp
from helpdesk.accounts.models import User
from helpdesk.checks.masking import mask_url
from helpdesk.checks.results import CheckContext, CheckResult, Status, one_line
from helpdesk.config import ConfigError
from helpdesk.crypto import decrypt_bytes
from helpdesk.tickets.models import Message, Ticket

# libpq treats connect_timeout values below 2 seconds as 2.
MIN_POSTGRES_CONNECT_TIMEOUT_SECONDS = 2


def check_database(context: CheckContext) -> list[CheckResult]:
    """Connect to the database and compare its schema revision with the newest migration.

    Returns a "database" result and a "schema" result; the schema is skipped
    when the connection fails.
    """
    _ = context.gettext
    url = context.settings.database_url
    masked_url = mask_url(url)

    try:
        engine = _check_engine(url, context.timeout)
    except (ArgumentError, ValueError) as error:
        message = _("HELPDESK_DATABASE_URL {url} is ongeldig ({error}): gebruik postgresql://gebruiker:wachtwoord@host/naam of sqlite:////pad/helpdesk.sqlite3.")
        return [
            CheckResult("database", Status.FAILED, message.format(url=masked_url, error=one_line(error)), masked_url),
            _schema_skipped(context, masked_url),
        ]
    if engine is None:
        path = make_url(url).database or ""
        message = _("Het databasebestand {path} bestaat niet: maak het aan met `helpdesk db upgrade` of zet HELPDESK_DATABASE_URL op de juiste database.")
        return [
            CheckResult("database", Status.FAILED, message.format(path=path), masked_url),
            _schema_skipped(context, masked_url),
        ]

    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        message = _("De database {url} is niet bereikbaar ({error}): controleer of de server draait en of adres, gebruiker en wachtwoord in HELPDESK_DATABASE_URL kloppen.")
        return [
            CheckResult("database", Status.FAILED, message.format(url=masked_url, error=one_line(cause)), masked_url),
            _schema_skipped(context, masked_url),
        ]
    finally:
        engine.dispose()

    connected = CheckResult("database", Status.OK, _("De database {url} is bereikbaar.").format(url=masked_url), masked_url)
    return [connected, _schema_result(context, masked_url, current)]


def _check_engine(url: str, timeout: float) -> Engine | None:
    """Return an engine for one check, or None when an SQLite file is missing.

    The application's engine would create a missing SQLite file and wait on
    an unreachable PostgreSQL server for the operating system's TCP timeout,
    so the check builds its own engine with a connect timeout.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if not path or path == ":memory:" or not Path(path).is_file():
            return None
        return create_engine(parsed, poolclass=NullPool)

    connect_args = {}
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        connect_args["connect_timeout"] = max(MIN_POSTGRES_CONNECT_TIMEOUT_SECONDS, round(timeout))
    return create_engine(parsed, poolclass=NullPool, connect_args=connect_args)


def _schema_skipped(context: CheckContext, masked_url: str) -> CheckResult:
    message = context.gettext("Het databaseschema is niet gecontroleerd, omdat de database niet bereikbaar is.")
    return CheckResult("schema", Status.SKIPPED, message, masked_url)


def _schema_result(context: CheckContext, masked_url: str, current: set[str]) -> CheckResult:
    _ = context.gettext
    script = ScriptDirectory.from_config(schema.alembic_config(context.settings))
    heads = set(script.get_heads())
    newest = ", ".join(sorted(heads))

    if current == heads:
        message = _("Het databaseschema is op de nieuwste versie ({revision}).").format(revision=newest)
        return CheckResult("schema", Status.OK, message, masked_url)
    if not current:
        message = _("De database heeft nog geen tabellen: voer `helpdesk db upgrade` uit.")
        return CheckResult("schema", Status.FAILED, message, masked_url)

    unknown = sorted(revision for revision in current if not _is_known(script, revision))
    if unknown:
        message = _("De database staat op versie {revision}, die deze versie van de helpdesk niet kent: installeer de nieuwere versie van de helpdesk die de database bijwerkte, of zet een back-up terug.")
        return CheckResult("schema", Status.FAILED, message.format(revision=", ".join(unknown)), masked_url)

    message = _("Het databaseschema staat op versie {current}, de nieuwste is {newest}: maak een back-up en voer dan `helpdesk db upgrade` uit.")
    return CheckResult("schema", Status.FAILED, message.format(current=", ".join(sorted(current)), newest=newest), masked_url)


def _is_known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False


def check_stored_data(context: CheckContext, database_ready: bool, key_valid: bool) -> CheckResult:
    """Decrypt the newest stored sender address and original, to catch a key that differs from the data's."""
    _ = context.gettext
    if not database_ready or not key_valid:
        message = _("Versleutelde gegevens zijn niet gecontroleerd, omdat de database of de sleutel niet in orde is.")
        return CheckResult("stored_data", Status.SKIPPED, message)

    engine = _check_engine(context.settings.database_url, context.timeout)
    try:
        with engine.connect() as connection:
            samples = [
                connection.scalar(
                    select(Ticket.sender_encrypted)
                    .where(Ticket.sender_encrypted.is_not(None))
                    .order_by(Ticket.id.desc())
                    .limit(1)
                ),
                connection.scalar(
                    select(Message.original_encrypted)
                    .where(Message.original_encrypted.is_not(None))
                    .order_by(Message.id.desc())
                    .limit(1)
                ),
            ]
    except SQLAlchemyError as error:
        message = _("Versleutelde gegevens konden niet gelezen worden ({error}).")
        return CheckResult("stored_data", Status.FAILED, message.format(error=one_line(getattr(error, "orig", error))))
    finally:
        engine.dispose()

    tokens = [sample for sample in samples if sample is not None]
    if not tokens:
        return CheckResult("stored_data", Status.OK, _("Er zijn nog geen versleutelde gegevens opgeslagen."))
    try:
        for token in tokens:
            decrypt_bytes(context.settings, bytes(token))
    except ConfigError:
        message = _("De opgeslagen adressen en originelen zijn niet te ontcijferen met HELPDESK_ENCRYPTION_KEY: zet de sleutel terug die in gebruik was toen ze opgeslagen werden (keys.env in de back-up).")
        return CheckResult("stored_data", Status.FAILED, message)
    return CheckResult("stored_data", Status.OK, _("De opgeslagen adressen en originelen zijn te ontcijferen met de sleutel."))


def check_totp_secrets(context: CheckContext, database_ready: bool, key_valid: bool) -> CheckResult:
    """Decrypt every stored TOTP secret and count the ones still stored in plain text."""
    _ = context.gettext
    if not database_ready or not key_valid:
        message = _("De TOTP-sleutels zijn niet gecontroleerd, omdat de database of de sleutel niet in orde is.")
        return CheckResult("totp_secrets", Status.SKIPPED, message)

    engine = _check_engine(context.settings.database_url, context.timeout)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(User.totp_secret, User.totp_pending_secret)).all()
    except SQLAlchemyError as error:
        message = _("De TOTP-sleutels konden niet gelezen worden ({error}).")
        return CheckResult("totp_secrets", Status.FAILED, message.format(error=one_line(getattr(error, "orig", error))))
    finally:
        engine.dispose()

    stored = [value for row in rows for value in row if value]
    plaintext = sum(1 for value in stored if not totp.is_sealed(value))
    unreadable = 0
    for value in stored:
        try:
            totp.unseal(context.settings, value)
        except ConfigError:
            unreadable += 1

    if unreadable:
        message = _("{count} TOTP-sleutels zijn niet te ontcijferen met HELPDESK_ENCRYPTION_KEY: zet de sleutel terug die in gebruik was toen ze opgeslagen werden, of laat een beheerder de tweestapsverificatie van die accounts resetten.")
        return CheckResult("totp_secrets", Status.FAILED, message.format(count=unreadable))
    if plaintext:
        message = _("{count} TOTP-sleutels staan nog onversleuteld in de database. De helpdesk versleutelt elke sleutel zodra de medewerker zich aanmeldt.")
        return CheckResult("totp_secrets", Status.WARNING, message.format(count=plaintext))
    if not stored:
        return CheckResult("totp_secrets", Status.OK, _("Er zijn nog geen TOTP-sleutels opgeslagen."))
    message = _("De {count} opgeslagen TOTP-sleutels zijn versleuteld en te ontcijferen.")
    return CheckResult("totp_secrets", Status.OK, message.format(count=len(stored)))
