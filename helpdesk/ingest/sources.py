"""Mailbox URLs: `maildir:<path>`, `imap://` and `imaps://`, and their stable keys.

Examples:
    maildir:/var/lib/helpdesk/mailbox
    imaps://vragen%40example.org:secret@mail.example.org/INBOX
    imap://user:secret@mail.example.org:143/INBOX?starttls=1&cafile=/etc/ssl/ca.pem

The key names a mailbox in the database and in logs. It never contains the
password, and it stays the same when only the password changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from helpdesk.config import ConfigError

MAX_KEY_LENGTH = 128
DEFAULT_PORTS = {"imap": 143, "imaps": 993}
TRUE_VALUES = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class MaildirMailbox:
    path: Path

    @property
    def key(self) -> str:
        return _shorten(f"maildir:{self.path}")

    folder = "new"


@dataclass(frozen=True)
class ImapMailbox:
    scheme: str  # imap or imaps
    host: str
    port: int
    user: str
    password: str
    folder: str = "INBOX"
    starttls: bool = False
    ca_file: str | None = None

    @property
    def key(self) -> str:
        return _shorten(f"{self.scheme}://{self.user}@{self.host}:{self.port}")

    @property
    def uses_tls(self) -> bool:
        return self.scheme == "imaps" or self.starttls


def _shorten(key: str) -> str:
    if len(key) <= MAX_KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f"{key[:MAX_KEY_LENGTH - 17]}~{digest}"


def parse_mailbox_url(url: str) -> MaildirMailbox | ImapMailbox:
    """Return the mailbox described by `url`; raise ConfigError naming the problem."""
    if url.startswith("maildir:"):
        path = url.removeprefix("maildir:")
        if path.startswith("//"):
            path = path[2:]
        if not path:
            raise ConfigError("HELPDESK_MAILBOX_URL 'maildir:' has no path: use maildir:/path/to/folder.")
        return MaildirMailbox(Path(path).expanduser().resolve())

    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS:
        raise ConfigError(
            f"HELPDESK_MAILBOX_URL scheme {parts.scheme!r} is not supported: use maildir:, imap:// or imaps://."
        )
    if not parts.hostname:
        raise ConfigError(f"HELPDESK_MAILBOX_URL {safe_url(url)!r} has no host name.")
    if not parts.username or parts.password is None:
        raise ConfigError(f"HELPDESK_MAILBOX_URL {safe_url(url)!r} needs a user and password: imaps://user:password@host/INBOX.")

    query = parse_qs(parts.query)
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise ConfigError(f"HELPDESK_MAILBOX_URL {safe_url(url)!r} has an invalid port number.") from None
    starttls = query.get("starttls", ["0"])[-1].lower() in TRUE_VALUES
    if starttls and parts.scheme == "imaps":
        raise ConfigError(f"HELPDESK_MAILBOX_URL {safe_url(url)!r}: starttls applies to imap://, not imaps://.")

    return ImapMailbox(
        scheme=parts.scheme,
        host=parts.hostname,
        port=port,
        user=unquote(parts.username),
        password=unquote(parts.password),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
        starttls=starttls,
        ca_file=query.get("cafile", [None])[-1],
    )


def safe_url(url: str) -> str:
    """Return `url` with the password replaced, for error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def mailbox_key(url: str) -> str:
    return parse_mailbox_url(url).key
