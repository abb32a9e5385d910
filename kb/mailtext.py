"""Reading a raw mail for `helpdesk suggest` and the evaluation: subject, full text and new text.

The core mail parser (`helpdesk.mail.parse_message`) does the real work. The
small standard-library fallback below runs only where that parser is not
installed, so that suggestions still work on a partial checkout.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from email import policy

import html2text


@dataclass(frozen=True)
class MailText:
    subject: str
    text: str  # whole decoded text, quotes included
    new_text: str  # without quoted earlier mail and signature


def _core_parser():
    try:
        from helpdesk.mail.parse import parse_message
    except ImportError:
        try:
            from helpdesk.mail import parse_message
        except ImportError:
            return None
    return parse_message


def parse_mail(raw: bytes) -> MailText:
    """Decode a raw mail with the core parser, or with the fallback when it is absent."""
    parse_message = _core_parser()
    if parse_message is None:
        return _fallback_parse(raw)
    parsed = parse_message(raw)
    return MailText(subject=parsed.subject or "", text=parsed.text or "", new_text=parsed.new_text or "")


# Lines that open a quoted earlier mail in Dutch, French and English mail clients.
_QUOTE_HEADER = re.compile(
    r"^\s*(?:op .{0,200}schreef|le .{0,200}a [ée]crit|on .{0,200}wrote|-{2,} ?(?:original message|oorspronkelijk bericht|message d'origine|doorgestuurd bericht) ?-{2,}|(?:from|van|de)\s*:.*@)",
    re.IGNORECASE,
)


def _fallback_parse(raw: bytes) -> MailText:
    message = email.message_from_bytes(raw, policy=policy.default)
    subject = str(message.get("subject", "") or "")
    text = ""
    body = message.get_body(preferencelist=("plain", "html"))
    if body is not None:
        try:
            content = body.get_content()
        except (LookupError, UnicodeDecodeError):
            content = body.get_payload(decode=True).decode("utf-8", errors="replace")
        if body.get_content_type() == "text/html":
            converter = html2text.HTML2Text()
            converter.body_width = 0
            converter.ignore_images = True
            content = converter.handle(content)
        text = content.replace("\r\n", "\n")
    return MailText(subject=subject, text=text.strip(), new_text=_strip_quotes(text))


def _strip_quotes(text: str) -> str:
    kept = []
    for line in text.splitlines():
        if line.rstrip() == "--" or line.startswith("-- ") or _QUOTE_HEADER.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept).strip()
