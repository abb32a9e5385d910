"""Composing replies: subjects, Message-IDs, threading headers and the MIME message."""

from __future__ import annotations

import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.config import TEMPLATES_DIR, Settings
from helpdesk.db import utcnow
from helpdesk.teams.reply_addresses import Sender
from helpdesk.tickets.models import Direction, Message, Ticket

# Reply markers that mail programs put before a subject: English, Dutch
# ("Antw"), German ("AW") and Scandinavian ("SV") ones, repeated or not.
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|antw|aw|sv)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
# helpdesk.mail.parser.generated_message_id replaces a missing Message-ID with
# an id on this domain. No mail program knows such an id, so replies leave it out.
GENERATED_ID_SUFFIX = "@generated.invalid"

# A long thread keeps its first id and the newest ones, so that the header
# stays a reasonable size while mail programs can still find the thread.
MAX_REFERENCES = 20


@lru_cache(maxsize=1)
def mail_templates() -> Environment:
    """Return the Jinja2 environment for the plain-text mail templates in templates/mail/."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR / "mail"),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def reply_subject(ticket: Ticket) -> str:
    """Return "Re: <subject> [#<id>]" without stacking earlier reply markers or references."""
    subject = " ".join((ticket.subject or "").split())
    subject = subject.replace(ticket.reference, " ")
    subject = " ".join(_REPLY_PREFIX.sub("", subject).split())
    if subject:
        return f"Re: {subject} {ticket.reference}"
    return f"Re: {ticket.reference}"


def new_message_id(settings: Settings) -> str:
    """Return a new unique Message-ID on the domain of HELPDESK_FROM_ADDRESS, without angle brackets."""
    domain = settings.from_address.rpartition("@")[2] or "helpdesk.invalid"
    return make_msgid(domain=domain).strip("<>")


def message_ids(header_value: str | None) -> list[str]:
    """Split a References or In-Reply-To value into ids without angle brackets."""
    if not header_value:
        return []
    bracketed = _MESSAGE_ID.findall(header_value)
    if bracketed:
        return bracketed
    return header_value.split()


def latest_client_message(session: Session, ticket: Ticket) -> Message | None:
    """Return the newest inbound message of `ticket`, preferring mail that a person wrote."""
    inbound = (
        select(Message)
        .where(Message.ticket_id == ticket.id, Message.direction == Direction.INBOUND)
        .order_by(Message.is_automatic, Message.received_at.desc(), Message.id.desc())
        .limit(1)
    )
    return session.scalars(inbound).first()


def threading_ids(session: Session, ticket: Ticket) -> tuple[str | None, list[str]]:
    """Return In-Reply-To and References for a reply on `ticket`, as ids without brackets.

    The reply refers to the client's newest message, so that the client's mail
    program shows it in the same conversation.
    """
    parent = latest_client_message(session, ticket)
    if parent is None or not parent.message_id:
        return None, []

    references = [*message_ids(parent.references), parent.message_id]
    references = [reference for reference in references if not reference.endswith(GENERATED_ID_SUFFIX)]
    if not references:
        return None, []
    references = list(dict.fromkeys(references))
    if len(references) > MAX_REFERENCES:
        references = references[:1] + references[-(MAX_REFERENCES - 1):]
    in_reply_to = parent.message_id if parent.message_id in references else None
    return in_reply_to, references


def recipient_address(raw: str) -> str | None:
    """Return the bare address in a stored sender value, or None when it is not an address."""
    _name, address = parseaddr(raw)
    local, _, domain = address.rpartition("@")
    if not local or not domain or any(character.isspace() for character in address):
        return None
    return address


def build_email(settings: Settings, message: Message, recipient: str, sender: Sender | None = None) -> EmailMessage:
    """Build the MIME message for a stored outbound `message` addressed to `recipient`.

    `sender` is the From, normally the reply address of the ticket's mailbox
    (helpdesk.teams.reply_addresses.reply_sender); without it the mail comes
    from HELPDESK_FROM_ADDRESS.
    """
    sender = sender or Sender(settings.from_address, settings.from_name)
    email = EmailMessage()
    local, _, domain = sender.address.rpartition("@")
    email["From"] = Address(display_name=sender.name, username=local, domain=domain)
    email["To"] = recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(utcnow())
    email["Message-ID"] = f"<{message.message_id}>"
    if message.in_reply_to:
        email["In-Reply-To"] = f"<{message.in_reply_to}>"
    references = message_ids(message.references)
    if references:
        email["References"] = " ".join(f"<{reference}>" for reference in references)

    # RFC 3834: a staff answer is written by a person ("no"), the
    # acknowledgement is not. Exchange reads X-Auto-Response-Suppress and then
    # sends no out-of-office answer to the acknowledgement.
    if message.is_acknowledgement:
        email["Auto-Submitted"] = "auto-replied"
        email["X-Auto-Response-Suppress"] = "All"
    else:
        email["Auto-Submitted"] = "no"
    body = message.body.replace("\r\n", "\n")
    if not body.endswith("\n"):
        body += "\n"
    email.set_content(body, charset="utf-8", cte="quoted-printable")

    # After set_content, which removes every Content-* header set before it.
    if message.language:
        email["Content-Language"] = message.language
    return email
