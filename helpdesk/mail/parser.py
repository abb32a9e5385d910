"""`parse_message`: raw bytes in, a decoded ParsedMessage out, whatever the input."""

from __future__ import annotations

import email
import hashlib
import re
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32

from helpdesk.mail.automatic import automatic_reason, looks_like_bounce
from helpdesk.mail.body import BodyWalker, ContentCharsets, sender_of
from helpdesk.mail.headers import (
    HeaderFields,
    decode_header_value,
    header_text,
    message_ids,
    parse_addresses,
    parse_date,
)
from helpdesk.mail.message import BounceInfo, ParsedMessage
from helpdesk.mail.problems import problem
from helpdesk.mail.quotes import split_new_text

# A plain-text bounce quotes the returned mail; its Message-ID line leads back to our reply.
QUOTED_MESSAGE_ID = re.compile(r"^\s*Message-ID:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)

# Headers of a too-large mail are read from this many first bytes only.
MAX_HEADER_BYTES = 256 * 1024

MAX_DIAGNOSTIC_LENGTH = 500

# The stdlib parser (email.feedparser) ends the header block at the first line
# that does not match this pattern. When real headers follow such a line, it
# is a header continuation that lost its indentation.
HEADER_LINE = re.compile(rb"^(?:From |[\041-\071\073-\176]*:|[\t ])")
KNOWN_HEADER = re.compile(
    rb"^(?:from|to|cc|subject|date|message-id|mime-version|content-[a-z-]+|received|return-path|"
    rb"reply-to|in-reply-to|references|sender|x-[a-z0-9-]+|dkim-signature|delivered-to):",
    re.IGNORECASE,
)
BYTE_ORDER_MARK = b"\xef\xbb\xbf"
# The end of the header block is searched in this many leading bytes first,
# then in four times as many, and so on.
HEADER_SCAN_BYTES = 16 * 1024


def generated_message_id(raw: bytes) -> str:
    """Return a stable stand-in Message-ID derived from the raw bytes."""
    return f"sha256.{hashlib.sha256(raw).hexdigest()}@generated.invalid"


def parse_message(raw: bytes, max_bytes: int | None = None) -> ParsedMessage:
    """Decode one raw mail. Bad input never raises: any Exception becomes `unreadable`.

    A mail over `max_bytes` gets only its headers read and `too_large` set.
    A mail that cannot be read has `unreadable` set to its problem code. Both keep
    whatever headers could be decoded.
    """
    if isinstance(raw, str):
        raw = raw.encode("utf-8", errors="surrogateescape")
    raw = bytes(raw)

    if max_bytes is not None and len(raw) > max_bytes:
        parsed = _parse_headers_only(raw)
        parsed.too_large = True
        parsed.problems.append(problem("too_large", len(raw)))
        return parsed

    try:
        return _parse_full(raw)
    except Exception as error:  # noqa: BLE001 - the contract is to never raise; the raw mail is kept by the caller
        parsed = _parse_headers_only(raw)
        parsed.unreadable = problem("parse_failed", type(error).__name__)
        parsed.problems.append(parsed.unreadable)
        return parsed


def _parse_full(raw: bytes) -> ParsedMessage:
    repaired = repair_header_block(raw)
    message = email.message_from_bytes(repaired, policy=compat32)
    has_body = _has_body(message)
    charsets = ContentCharsets()
    charset = parsed_charset(message, charsets)
    parsed = _headers(message, raw, charset if has_body else None)
    if repaired != raw:
        parsed.problems.append(problem("headers_repaired"))

    not_mail = not_mail_reason(message)
    if not_mail is not None:
        # The body of such input is noise, so it is not decoded: the caller keeps the raw bytes.
        parsed.unreadable = not_mail
        parsed.problems.append(not_mail)
        return parsed

    walker = BodyWalker(fallback_charset=charset, charsets=charsets)
    walker.walk(message)

    parsed.text = _clean(walker.text()).strip()
    html = walker.html()
    parsed.html = _clean(html) if html else None
    parsed.attachments = walker.attachments
    parsed.problems.extend(walker.problems)
    for attachment in parsed.attachments:
        attachment.filename = _clean(attachment.filename)

    new_text = split_new_text(parsed.text)
    if not new_text and not parsed.is_reply:
        # Nothing but a forwarded or quoted mail as a first contact: that is the question.
        new_text = parsed.text
    parsed.new_text = new_text

    if walker.encrypted and not parsed.text.strip():
        parsed.unreadable = walker.encrypted
    parsed.bounce = _bounce_info(parsed, walker)
    return parsed


def not_mail_reason(message: Message) -> str | None:
    """Return the problem code when parsed input is no e-mail at all (random bytes, a stray file), or None for a mail.

    Input without header fields, or with only fields that no mail program
    writes, is no mail. A real mail may lack Date or Message-ID, but in
    practice it has at least one well-known header such as From, To or Subject.
    """
    names = [name for name in message.keys() if name]
    if not names:
        return problem("no_headers")
    if not any(KNOWN_HEADER.match(f"{name}:".encode("ascii", errors="replace")) for name in names):
        return problem("no_known_headers")
    return None


def repair_header_block(raw: bytes) -> bytes:
    """Return `raw` with unindented header continuation lines indented again.

    A stray line is only treated as a continuation when a well-known header
    follows it before the blank line, so a body that lacks the separating blank
    line stays a body.
    """
    if raw.startswith(BYTE_ORDER_MARK):
        raw = raw[len(BYTE_ORDER_MARK):]

    lines = header_block_lines(raw)
    end = len(lines)
    stray = [index for index in range(end) if not HEADER_LINE.match(lines[index])]
    if not stray:
        return raw

    body_start = sum(len(line) for line in lines)
    last_known = max((index for index in range(end) if KNOWN_HEADER.match(lines[index])), default=-1)
    for index in stray:
        if index < last_known and index > 0:
            lines[index] = b" " + lines[index]
    return b"".join(lines) + raw[body_start:]


def header_block_lines(raw: bytes) -> list[bytes]:
    """Return the lines before the first blank line, split as `raw.splitlines(keepends=True)` splits them.

    Only a growing prefix of `raw` is split, because the body of a mail with
    attachments can be megabytes long.
    """
    size = HEADER_SCAN_BYTES
    while True:
        complete = size >= len(raw)
        lines = raw[:size].splitlines(keepends=True)
        if not complete:
            # The prefix may end inside a line, or between the CR and LF of one line break.
            lines.pop()
        for index, line in enumerate(lines):
            if not line.strip():
                return lines[:index]
        if complete:
            return lines
        size *= 4


def _parse_headers_only(raw: bytes) -> ParsedMessage:
    try:
        message = BytesHeaderParser(policy=compat32).parsebytes(repair_header_block(raw[:MAX_HEADER_BYTES]))
        return _headers(message, raw, parsed_charset(message) if _has_body(message) else None)
    except Exception as error:  # noqa: BLE001 - even the headers may be beyond repair
        return ParsedMessage(
            message_id=generated_message_id(raw),
            message_id_generated=True,
            in_reply_to=[],
            references=[],
            subject="",
            from_address="",
            from_name="",
            to=[],
            cc=[],
            date=None,
            text="",
            new_text="",
            html=None,
            problems=[problem("headers_unreadable", type(error).__name__)],
            size=len(raw),
        )


def parsed_charset(message: Message, charsets: ContentCharsets | None = None) -> str | None:
    """Return the first declared body charset: clients that put 8-bit bytes in headers use it there too."""
    if charsets is None:
        charsets = ContentCharsets()
    for part in message.walk():
        try:
            charset = charsets.of(part)
        except Exception:  # noqa: BLE001 - a malformed Content-Type parameter counts as no charset
            charset = None
        if charset:
            return charset
    return None


def _has_body(message: Message) -> bool:
    return message.is_multipart() or message.get_payload() is not None


def _headers(message: Message, raw: bytes, charset: str | None) -> ParsedMessage:
    """Decode the header fields, trying `charset` first for 8-bit bytes in them."""
    fields = HeaderFields(message)
    problems: list[str] = []

    ids = [_clean(message_id) for message_id in message_ids(header_text(fields, "Message-ID"))]
    generated = not ids
    if generated:
        problems.append(problem("message_id_missing"))

    date_value = header_text(fields, "Date")
    date = parse_date(date_value)
    if date is None:
        problems.append(problem("date_invalid" if date_value else "date_missing"))

    subject = _clean(header_text(fields, "Subject", charset))
    from_address, from_name = sender_of(fields, charset)
    automatic = automatic_reason(message, fields, from_address, subject)

    return ParsedMessage(
        message_id=ids[0] if ids else generated_message_id(raw),
        message_id_generated=generated,
        in_reply_to=_header_ids(fields, "In-Reply-To"),
        references=_header_ids(fields, "References"),
        subject=subject,
        from_address=_clean(from_address),
        from_name=_clean(from_name),
        to=parse_addresses(fields, "To", charset),
        cc=parse_addresses(fields, "Cc", charset),
        date=date,
        text="",
        new_text="",
        html=None,
        automatic=automatic,
        problems=problems,
        size=len(raw),
    )


def _header_ids(fields: HeaderFields, name: str) -> list[str]:
    values = " ".join(decode_header_value(value) for value in fields.values(name))
    return [_clean(message_id) for message_id in message_ids(values)]


def _bounce_info(parsed: ParsedMessage, walker: BodyWalker) -> BounceInfo | None:
    status = walker.delivery_status
    if status is None and not looks_like_bounce(parsed.automatic):
        return None

    ids = list(dict.fromkeys(walker.original_ids))
    if not ids:
        quoted = [match.group(1) for match in QUOTED_MESSAGE_ID.finditer(parsed.text)]
        ids = [message_id for message_id in message_ids(" ".join(quoted)) if message_id != parsed.message_id]
    if status is None and not ids:
        return None

    diagnostic = status.diagnostic if status else None
    return BounceInfo(
        original_message_ids=ids,
        action=status.action if status else None,
        status=status.status if status else None,
        diagnostic=diagnostic[:MAX_DIAGNOSTIC_LENGTH] if diagnostic else None,
    )


def _clean(text: str) -> str:
    """Remove NUL characters and lone surrogates, which databases reject."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text.encode("utf-8", errors="replace").decode("utf-8")
