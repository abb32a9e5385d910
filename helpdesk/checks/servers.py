"""Checks of the servers and folders that the helpdesk talks to: broker, mailboxes and SMTP.

Each check logs in the way the application does, with the same certificate
verification, and changes nothing on the server: a mailbox folder is opened
read-only and no mail is sent.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import redis
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from helpdesk.checks.addresses import is_local_host
from helpdesk.checks.masking import mask_url
from helpdesk.checks.results import CheckContext, CheckResult, Status, one_line
from helpdesk.config import ConfigError
from helpdesk.ingest.sources import ImapMailbox, MaildirMailbox, parse_mailbox_url
from helpdesk.outbound.transports import FileTransport, SmtpTransport, transport_for

MAILDIR_SUBFOLDERS = ("cur", "new", "tmp")
_NETWORK_ERRORS = (OSError, ssl.SSLError, socket.timeout)


def folder_problem(context: CheckContext, path: Path) -> str | None:
    """Return why the service cannot write into `path`, or None when it can.

    An existing folder is tested by creating and removing a file in it. A
    missing folder passes when its nearest existing parent is writable,
    because the application creates it on first use.
    """
    if path.exists():
        if not path.is_dir():
            return context.gettext("geen map")
        try:
            with tempfile.NamedTemporaryFile(dir=path, prefix=".helpdesk-check-"):
                pass
        except OSError as error:
            return error.strerror or one_line(error)
        return None

    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK):
        return context.gettext("ontbreekt, en {parent} is niet schrijfbaar").format(parent=parent)
    return None


def check_broker(context: CheckContext) -> CheckResult:
    """Ping a Redis broker, or check that a filesystem broker's folder is writable."""
    _ = context.gettext
    url = context.settings.broker_url
    masked_url = mask_url(url)
    parts = urlsplit(url)

    if parts.scheme in {"redis", "rediss"}:
        return _check_redis(context, url, masked_url)
    if parts.scheme == "filesystem":
        # The same reading as the Celery app: filesystem:///var/broker is /var/broker.
        folder_text = (parts.netloc + parts.path) if parts.netloc else parts.path
        folder = Path(folder_text).expanduser()
        problem = folder_problem(context, folder) if folder_text else _("geen map in het adres")
        if problem:
            message = _("De brokermap {folder} is niet bruikbaar ({problem}): maak de map aan en geef de gebruiker van de diensten schrijfrechten, of gebruik Redis.")
            return CheckResult("broker", Status.FAILED, message.format(folder=folder, problem=problem), masked_url)
        message = _("De brokermap {folder} is bruikbaar. Die werkt alleen als web, worker en beat op deze ene machine draaien.")
        return CheckResult("broker", Status.OK, message.format(folder=folder), masked_url)

    message = _("HELPDESK_BROKER_URL={url} gebruikt het onbekende schema {scheme!r}: gebruik redis://host:6379/0 of filesystem:///pad/naar/map.")
    return CheckResult("broker", Status.FAILED, message.format(url=masked_url, scheme=parts.scheme), masked_url)


def _check_redis(context: CheckContext, url: str, masked_url: str) -> CheckResult:
    _ = context.gettext
    client = redis.Redis.from_url(url, socket_connect_timeout=context.timeout, socket_timeout=context.timeout)
    try:
        client.ping()
    except redis.AuthenticationError as error:
        message = _("Redis op {url} weigert het wachtwoord ({error}): controleer het wachtwoord in HELPDESK_BROKER_URL.")
        return CheckResult("broker", Status.FAILED, message.format(url=masked_url, error=one_line(error)), masked_url)
    except redis.RedisError as error:
        message = _("Redis op {url} is niet bereikbaar ({error}): start Redis (systemctl start redis-server) of verbeter host en poort in HELPDESK_BROKER_URL.")
        return CheckResult("broker", Status.FAILED, message.format(url=masked_url, error=one_line(error)), masked_url)
    finally:
        client.close()
    return CheckResult("broker", Status.OK, _("Redis op {url} antwoordt.").format(url=masked_url), masked_url)


def check_mailboxes(context: CheckContext) -> list[CheckResult]:
    """Log in to each mailbox of HELPDESK_MAILBOX_URL, or check each Maildir folder."""
    _ = context.gettext
    if not context.settings.mailbox_urls:
        message = _("HELPDESK_MAILBOX_URL is leeg: zet het adres van de mailbox, zoals imaps://gebruiker:wachtwoord@mail.voorbeeld.be/INBOX.")
        return [CheckResult("mailbox", Status.FAILED, message)]
    return [_check_mailbox(context, url) for url in context.settings.mailbox_urls]


def _check_mailbox(context: CheckContext, url: str) -> CheckResult:
    masked_url = mask_url(url)
    try:
        mailbox = parse_mailbox_url(url)
    except ConfigError as error:
        message = context.gettext("Het mailboxadres {url} is ongeldig: {error}")
        return CheckResult("mailbox", Status.FAILED, message.format(url=masked_url, error=one_line(error)), masked_url)

    if isinstance(mailbox, MaildirMailbox):
        return _check_maildir(context, mailbox.path, masked_url)
    return _check_imap(context, mailbox, masked_url)


def _check_maildir(context: CheckContext, folder: Path, masked_url: str) -> CheckResult:
    _ = context.gettext
    missing = [name for name in MAILDIR_SUBFOLDERS if not (folder / name).is_dir()]
    if missing:
        message = _("De Maildir {folder} bestaat niet of mist de mappen {missing}: maak ze aan met `mkdir -p {folder}/cur {folder}/new {folder}/tmp`.")
        return CheckResult("mailbox", Status.FAILED, message.format(folder=folder, missing=", ".join(missing)), masked_url)

    for name in MAILDIR_SUBFOLDERS:
        problem = folder_problem(context, folder / name)
        if problem:
            message = _("De Maildir-map {folder} is niet schrijfbaar ({problem}): geef de gebruiker van de diensten schrijfrechten.")
            return CheckResult("mailbox", Status.FAILED, message.format(folder=folder / name, problem=problem), masked_url)
    return CheckResult("mailbox", Status.OK, _("De Maildir {folder} is schrijfbaar.").format(folder=folder), masked_url)


def _check_imap(context: CheckContext, mailbox: ImapMailbox, masked_url: str) -> CheckResult:
    _ = context.gettext
    if not mailbox.uses_tls and not is_local_host(mailbox.host):
        message = _("{url} zou het wachtwoord onversleuteld versturen: gebruik imaps:// of voeg ?starttls=1 toe.")
        return CheckResult("mailbox", Status.FAILED, message.format(url=masked_url), masked_url)

    tls = ssl.create_default_context(cafile=mailbox.ca_file)
    try:
        client = IMAPClient(
            mailbox.host, port=mailbox.port, ssl=mailbox.scheme == "imaps", ssl_context=tls, timeout=context.timeout
        )
    except ssl.SSLCertVerificationError as error:
        return _certificate_failure(context, "mailbox", masked_url, error)
    except _NETWORK_ERRORS as error:
        message = _("De IMAP-server van {url} is niet bereikbaar ({error}): controleer host en poort en of de server draait.")
        return CheckResult("mailbox", Status.FAILED, message.format(url=masked_url, error=one_line(error)), masked_url)

    try:
        if mailbox.starttls:
            client.starttls(tls)
        client.login(mailbox.user, mailbox.password)
        client.select_folder(mailbox.folder, readonly=True)
    except ssl.SSLCertVerificationError as error:
        return _certificate_failure(context, "mailbox", masked_url, error)
    except LoginError as error:
        message = _("De IMAP-server van {url} weigert de login ({error}): controleer gebruiker en wachtwoord.")
        return CheckResult("mailbox", Status.FAILED, message.format(url=masked_url, error=one_line(error)), masked_url)
    except IMAPClientError as error:
        message = _("De map {folder} van {url} is niet te openen ({error}): controleer de mapnaam in het adres.")
        return CheckResult(
            "mailbox", Status.FAILED, message.format(folder=mailbox.folder, url=masked_url, error=one_line(error)), masked_url
        )
    except _NETWORK_ERRORS as error:
        message = _("De verbinding met de IMAP-server van {url} viel weg ({error}).")
        return CheckResult("mailbox", Status.FAILED, message.format(url=masked_url, error=one_line(error)), masked_url)
    finally:
        _logout(client)

    message = _("Inloggen op {url} lukt en de map {folder} is te openen.")
    return CheckResult("mailbox", Status.OK, message.format(url=masked_url, folder=mailbox.folder), masked_url)


def _logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except (IMAPClientError, *_NETWORK_ERRORS):
        client.shutdown()


def _certificate_failure(context: CheckContext, name: str, masked_url: str, error: Exception) -> CheckResult:
    message = context.gettext("Het certificaat van de server van {url} is niet te vertrouwen ({error}): gebruik de naam die in het certificaat staat, of geef met ?cafile=/pad/naar/ca.pem de uitgever op.")
    return CheckResult(name, Status.FAILED, message.format(url=masked_url, error=one_line(error)), masked_url)


def check_smtp(context: CheckContext) -> CheckResult:
    """Connect to the SMTP server and log in with the settings of HELPDESK_SMTP_URL, without sending mail."""
    _ = context.gettext
    masked_url = mask_url(context.settings.smtp_url)
    try:
        transport = transport_for(context.settings)
    except ConfigError as error:
        message = _("HELPDESK_SMTP_URL is ongeldig: {error}")
        return CheckResult("smtp", Status.FAILED, message.format(error=one_line(error)), masked_url)

    if isinstance(transport, FileTransport):
        problem = folder_problem(context, transport.folder)
        if problem:
            message = _("De uitgaande map {folder} is niet schrijfbaar ({problem}): geef de gebruiker van de diensten schrijfrechten.")
            return CheckResult("smtp", Status.FAILED, message.format(folder=transport.folder, problem=problem), masked_url)
        message = _("Antwoorden worden als bestanden in {folder} gezet en niet verstuurd: zet HELPDESK_SMTP_URL op de SMTP-server om cliënten te antwoorden.")
        return CheckResult("smtp", Status.WARNING, message.format(folder=transport.folder), masked_url)
    return _check_smtp_server(context, transport, masked_url)


def _check_smtp_server(context: CheckContext, transport: SmtpTransport, masked_url: str) -> CheckResult:
    _ = context.gettext
    encrypted = transport.implicit_tls or transport.starttls
    if transport.username and not encrypted and not is_local_host(transport.host):
        message = _("{url} zou het wachtwoord onversleuteld versturen: gebruik smtps:// of voeg ?starttls=1 toe.")
        return CheckResult("smtp", Status.FAILED, message.format(url=masked_url), masked_url)

    tls = ssl.create_default_context(cafile=transport.cafile)
    try:
        if transport.implicit_tls:
            client = smtplib.SMTP_SSL(transport.host, transport.port, timeout=context.timeout, context=tls)
        else:
            client = smtplib.SMTP(transport.host, transport.port, timeout=context.timeout)
    except ssl.SSLCertVerificationError as error:
        return _certificate_failure(context, "smtp", masked_url, error)
    except (smtplib.SMTPException, *_NETWORK_ERRORS) as error:
        message = _("De SMTP-server {url} is niet bereikbaar ({error}): controleer host en poort in HELPDESK_SMTP_URL en of de server draait.")
        return CheckResult("smtp", Status.FAILED, message.format(url=masked_url, error=one_line(error)), masked_url)

    try:
        client.ehlo(transport.helo_name)
        if transport.starttls:
            client.starttls(context=tls)
            client.ehlo(transport.helo_name)
        if transport.username:
            client.login(transport.username, transport.password or "")
    except ssl.SSLCertVerificationError as error:
        return _certificate_failure(context, "smtp", masked_url, error)
    except smtplib.SMTPAuthenticationError as error:
        message = _("De SMTP-server {url} weigert de login ({error}): controleer gebruiker en wachtwoord in HELPDESK_SMTP_URL.")
        return CheckResult("smtp", Status.FAILED, message.format(url=masked_url, error=_smtp_reply(error)), masked_url)
    except smtplib.SMTPNotSupportedError as error:
        message = _("De SMTP-server {url} kent een gevraagde functie niet ({error}): laat ?starttls=1 of de gebruiker weg, of gebruik de poort voor verzending (587 of 465).")
        return CheckResult("smtp", Status.FAILED, message.format(url=masked_url, error=one_line(error)), masked_url)
    except (smtplib.SMTPException, *_NETWORK_ERRORS) as error:
        message = _("Het gesprek met de SMTP-server {url} mislukte ({error}).")
        return CheckResult("smtp", Status.FAILED, message.format(url=masked_url, error=one_line(error)), masked_url)
    finally:
        _quit(client)

    if transport.username:
        message = _("Inloggen op de SMTP-server {url} lukt.")
    else:
        message = _("De SMTP-server {url} antwoordt; er is geen login ingesteld.")
    return CheckResult("smtp", Status.OK, message.format(url=masked_url), masked_url)


def _smtp_reply(error: smtplib.SMTPResponseException) -> str:
    reply = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) else str(error.smtp_error)
    return one_line(f"{error.smtp_code} {reply}")


def _quit(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, *_NETWORK_ERRORS):
        client.close()
