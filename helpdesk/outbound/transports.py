"""Transports that hand a composed mail over: a file outbox or an SMTP server.

`transport_for(settings)` picks one from HELPDESK_SMTP_URL:

- `file:<folder>` writes one .eml file per mail into the folder (the default).
- `smtp://[user:password@]host[:port]` talks plain SMTP (port 25), upgraded
  with STARTTLS when the URL has `?starttls=1`.
- `smtps://[user:password@]host[:port]` talks SMTP over TLS (port 465).

SMTP URLs also take `timeout` (seconds for the connection and for each
command, default 30) and `cafile` (a PEM file of trusted certificates). The
server certificate is always verified, against the system's trusted
certificates unless `cafile` is given.
"""

from __future__ import annotations

import hashlib
import os
import smtplib
import ssl
import tempfile
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from helpdesk.config import ConfigError, Settings
from helpdesk.db import utcnow

DEFAULT_SMTP_TIMEOUT_SECONDS = 30.0
_SMTP_OPTIONS = {"starttls", "timeout", "cafile"}


class DeliveryError(Exception):
    """A mail was not accepted.

    `permanent` is true when the server rejected this mail for good (a 5xx
    reply to the sender, a recipient or the data), so sending it again cannot
    help. `code` is the SMTP reply code when the server gave one.
    """

    def __init__(self, reply: str, *, permanent: bool = False, code: int | None = None) -> None:
        super().__init__(reply)
        self.reply = reply
        self.permanent = permanent
        self.code = code


class Transport(Protocol):
    def send(self, message: EmailMessage, envelope_from: str, envelope_to: str) -> None:
        """Hand `message` over for delivery to `envelope_to`; raise DeliveryError on failure."""


@dataclass(frozen=True)
class FileTransport:
    """A folder that receives one .eml file per mail, for the demo and for tests."""

    folder: Path

    def send(self, message: EmailMessage, envelope_from: str, envelope_to: str) -> None:
        data = message.as_bytes()
        name = f"{utcnow():%Y%m%dT%H%M%S%f}-{hashlib.sha256(data).hexdigest()[:16]}.eml"

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # Write under a hidden temporary name and rename, so that readers
            # of the folder only ever see complete files.
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, self.folder / name)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as error:
            raise DeliveryError(f"writing to the outbox folder {self.folder} failed: {error.strerror}") from error


@dataclass(frozen=True)
class SmtpTransport:
    host: str
    port: int
    implicit_tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = DEFAULT_SMTP_TIMEOUT_SECONDS
    cafile: str | None = None
    helo_name: str | None = None

    def send(self, message: EmailMessage, envelope_from: str, envelope_to: str) -> None:
        try:
            client = self._connect()
        except (smtplib.SMTPException, OSError) as error:
            raise self._connection_error(error) from error

        try:
            self._start_session(client)
            client.send_message(message, envelope_from, [envelope_to])
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            raise DeliveryError(_reply_text(code, reply), permanent=_is_permanent(code), code=code) from error
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
            raise DeliveryError(
                _reply_text(error.smtp_code, error.smtp_error),
                permanent=_is_permanent(error.smtp_code),
                code=error.smtp_code,
            ) from error
        except smtplib.SMTPAuthenticationError as error:
            # A wrong password is a settings problem, not a problem of this
            # mail: keep retrying so that queued mail goes out once it is fixed.
            raise DeliveryError(
                f"SMTP login failed ({_reply_text(error.smtp_code, error.smtp_error)}): "
                "check the user and password in HELPDESK_SMTP_URL",
                code=error.smtp_code,
            ) from error
        except smtplib.SMTPResponseException as error:
            raise DeliveryError(_reply_text(error.smtp_code, error.smtp_error), code=error.smtp_code) from error
        except (smtplib.SMTPException, OSError) as error:
            raise self._connection_error(error) from error
        finally:
            _close(client)

    def _connect(self) -> smtplib.SMTP:
        if self.implicit_tls:
            return smtplib.SMTP_SSL(
                self.host, self.port, local_hostname=self.helo_name, timeout=self.timeout, context=self._tls_context()
            )
        return smtplib.SMTP(self.host, self.port, local_hostname=self.helo_name, timeout=self.timeout)

    def _start_session(self, client: smtplib.SMTP) -> None:
        client.ehlo()
        if self.starttls:
            client.starttls(context=self._tls_context())
            client.ehlo()
        if self.username:
            client.login(self.username, self.password or "")

    def _tls_context(self) -> ssl.SSLContext:
        # create_default_context verifies the certificate and the host name.
        return ssl.create_default_context(cafile=self.cafile)

    def _connection_error(self, error: Exception) -> DeliveryError:
        detail = str(error) or type(error).__name__
        return DeliveryError(f"SMTP connection to {self.host}:{self.port} failed: {detail}")


def _is_permanent(code: int) -> bool:
    return 500 <= code < 600


def _reply_text(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", errors="replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {text}".strip()


def _close(client: smtplib.SMTP) -> None:
    # The mail is accepted once DATA succeeded; a failing QUIT must not turn
    # that into a failure (and a second copy on retry).
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def transport_for(settings: Settings) -> Transport:
    """Build the transport that HELPDESK_SMTP_URL describes.

    Raises ConfigError naming the problem; the message never contains the password.
    """
    url = settings.smtp_url.strip()
    helo_name = settings.from_address.rpartition("@")[2] or None

    if url.startswith("file:"):
        path = url.removeprefix("file:")
        if path.startswith("//"):
            path = path[2:]
        if not path:
            raise ConfigError("HELPDESK_SMTP_URL=file: has no folder: use file:/path/to/outbox.")
        return FileTransport(Path(path).expanduser().resolve())

    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"}:
        raise ConfigError(
            f"HELPDESK_SMTP_URL has the unknown scheme {parts.scheme!r}: "
            "use file:/folder, smtp://host:port or smtps://host:port."
        )
    display_url = f"{parts.scheme}://{parts.hostname or ''}"
    if not parts.hostname:
        raise ConfigError(f"HELPDESK_SMTP_URL={display_url} has no host name: use smtp://host:port.")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError:
        raise ConfigError(f"HELPDESK_SMTP_URL for {display_url} has an invalid port: use a number such as 587.") from None

    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = sorted(set(options) - _SMTP_OPTIONS)
    if unknown:
        raise ConfigError(
            f"HELPDESK_SMTP_URL for {display_url} has unknown options {', '.join(unknown)}: "
            f"use only {', '.join(sorted(_SMTP_OPTIONS))}."
        )

    return SmtpTransport(
        host=parts.hostname,
        port=port,
        implicit_tls=parts.scheme == "smtps",
        starttls=_option_flag(display_url, options.get("starttls", "0")),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        timeout=_option_timeout(display_url, options.get("timeout")),
        cafile=options.get("cafile") or None,
        helo_name=helo_name,
    )


def _option_flag(display_url: str, raw: str) -> bool:
    if raw.lower() in {"1", "true", "yes"}:
        return True
    if raw.lower() in {"0", "false", "no"}:
        return False
    raise ConfigError(f"HELPDESK_SMTP_URL for {display_url} has starttls={raw!r}: use starttls=1 or leave it out.")


def _option_timeout(display_url: str, raw: str | None) -> float:
    if raw is None:
        return DEFAULT_SMTP_TIMEOUT_SECONDS
    try:
        timeout = float(raw)
    except ValueError:
        timeout = 0.0
    if timeout <= 0:
        raise ConfigError(f"HELPDESK_SMTP_URL for {display_url} has timeout={raw!r}: use a positive number of seconds.")
    return timeout
