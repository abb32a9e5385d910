"""Walking the MIME tree of a mail: body text, HTML, attachments and report parts."""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32

from helpdesk.mail.calendar import calendar_summary
from helpdesk.mail.charsets import decode_bytes
from helpdesk.mail.headers import HeaderFields, decode_header_value, header_text, message_ids, parse_addresses
from helpdesk.mail.html import html_to_text
from helpdesk.mail.message import ParsedAttachment
from helpdesk.mail.problems import problem
from helpdesk.mail.tnef import TnefContent, read_tnef

# Deeper nesting only occurs in crafted mail; the rest is kept as attachments.
MAX_DEPTH = 25

TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}
CALENDAR_TYPES = {"text/calendar", "application/ics"}
SIGNATURE_TYPES = {"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"}
SMIME_TYPES = {"application/pkcs7-mime", "application/x-pkcs7-mime"}
DSN_TYPES = {"message/delivery-status", "message/global-delivery-status"}
ORIGINAL_MESSAGE_TYPES = {"message/rfc822", "message/global"}
ORIGINAL_HEADER_TYPES = {"text/rfc822-headers", "message/global-headers"}
MDN_TYPES = {"message/disposition-notification", "message/global-disposition-notification"}
PLAIN_TEXT_SUBTYPES = {"plain", "enriched", "richtext"}

FORWARD_SEPARATOR = "---------- Doorgestuurd bericht ----------"
UNSAFE_FILENAME_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
PATH_SEPARATORS = re.compile(r"[/\\]")
MAX_FILENAME_LENGTH = 255


@dataclass
class Segment:
    """One readable piece of the body, as plain text, HTML or both (from multipart/alternative)."""

    text: str | None = None
    html: str | None = None

    def readable(self) -> str:
        if self.text and self.text.strip():
            return self.text.strip("\r\n")
        if self.html:
            return html_to_text(self.html)
        return ""


@dataclass
class DeliveryStatus:
    action: str | None = None
    status: str | None = None
    diagnostic: str | None = None


class ContentCharsets:
    """The declared charset of each part, read from its Content-Type once."""

    def __init__(self) -> None:
        self._charsets: dict[Message, str | None] = {}

    def of(self, part: Message) -> str | None:
        """Return `part.get_content_charset()`, read once per part unless it raises."""
        if part in self._charsets:
            return self._charsets[part]
        charset = part.get_content_charset()
        self._charsets[part] = charset
        return charset


@dataclass
class BodyWalker:
    """Collects the parts of one MIME tree; a child walker handles each alternative."""

    fallback_charset: str | None = None
    charsets: ContentCharsets = field(default_factory=ContentCharsets)
    segments: list[Segment] = field(default_factory=list)
    calendar_lines: list[str] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    original_ids: list[str] = field(default_factory=list)
    delivery_status: DeliveryStatus | None = None
    encrypted: str | None = None

    # Results

    def text(self) -> str:
        pieces = [segment.readable() for segment in self.segments]
        pieces.extend(self.calendar_lines)
        return "\n\n".join(piece for piece in pieces if piece.strip())

    def html(self) -> str | None:
        parts = [segment.html for segment in self.segments if segment.html]
        return "\n".join(parts) if parts else None

    def plain_text(self) -> str:
        return "\n\n".join(segment.text for segment in self.segments if segment.text and segment.text.strip())

    # Walking

    def walk(self, part: Message, depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            self.problems.append(problem("mime_too_deep", MAX_DEPTH))
            self._add_attachment(part, data=_as_bytes(part))
            return

        if part.is_multipart():
            self._walk_multipart(part, depth)
        else:
            self._walk_leaf(part)

    def _child(self) -> "BodyWalker":
        return BodyWalker(fallback_charset=self.fallback_charset, charsets=self.charsets)

    def _absorb(self, child: "BodyWalker", keep_text: bool = True) -> None:
        if keep_text:
            self.segments.extend(child.segments)
        self.calendar_lines.extend(child.calendar_lines)
        self.attachments.extend(child.attachments)
        self.problems.extend(child.problems)
        self.original_ids.extend(child.original_ids)
        self.delivery_status = self.delivery_status or child.delivery_status
        self.encrypted = self.encrypted or child.encrypted

    def _walk_multipart(self, part: Message, depth: int) -> None:
        children = [child for child in (part.get_payload() or []) if isinstance(child, Message)]
        subtype = part.get_content_subtype()

        if part.get_content_maintype() == "message":
            self._walk_attached_message(part, children, depth)
        elif subtype == "alternative":
            self._walk_alternative(children, depth)
        elif subtype == "related":
            self._walk_related(part, children, depth)
        elif subtype == "report":
            self._walk_report(children, depth)
        elif subtype == "signed":
            for child in children[:1]:
                self.walk(child, depth + 1)
        elif subtype == "encrypted":
            self.encrypted = problem("pgp_encrypted")
            for child in children[1:]:
                self._add_attachment(child, data=_as_bytes(child))
        else:
            if not children:
                self.problems.append(problem("multipart_empty"))
            for child in children:
                self.walk(child, depth + 1)

    def _walk_alternative(self, children: list[Message], depth: int) -> None:
        walkers = []
        for child in children:
            walker = self._child()
            walker.walk(child, depth + 1)
            walkers.append(walker)

        # The first plain text and the last (richest) HTML version.
        plain = next((walker.plain_text() for walker in walkers if walker.plain_text().strip()), None)
        html = next((walker.html() for walker in reversed(walkers) if walker.html()), None)
        if plain is None and html is None:
            fallback = next((walker for walker in walkers if walker.text().strip()), None)
            if fallback is not None:
                self.segments.extend(fallback.segments)
        else:
            self.segments.append(Segment(text=plain, html=html))
        for walker in walkers:
            self._absorb(walker, keep_text=False)

    def _walk_related(self, part: Message, children: list[Message], depth: int) -> None:
        if not children:
            self.problems.append(problem("multipart_empty"))
            return
        start = str(part.get_param("start") or "").strip("<>")
        root = next((child for child in children if _content_id(child) == start), children[0]) if start else children[0]

        self.walk(root, depth + 1)
        for child in children:
            if child is root:
                continue
            if child.is_multipart():
                self.walk(child, depth + 1)
            else:
                self._add_attachment(child, inline=True)

    def _walk_report(self, children: list[Message], depth: int) -> None:
        for child in children:
            content_type = child.get_content_type()
            if content_type in DSN_TYPES:
                self._read_delivery_status(child)
            elif content_type in ORIGINAL_MESSAGE_TYPES:
                self.original_ids.extend(_original_ids_of_message(child))
            elif content_type in ORIGINAL_HEADER_TYPES:
                self.original_ids.extend(_original_ids_of_headers(_as_text(child)))
            elif content_type in MDN_TYPES:
                fields = HeaderParser(policy=compat32).parsestr(_as_text(child))
                self.original_ids.extend(message_ids(fields.get("Original-Message-ID")))
            else:
                self.walk(child, depth + 1)

    def _walk_attached_message(self, part: Message, children: list[Message], depth: int) -> None:
        content_type = part.get_content_type()
        if not children:
            self._add_attachment(part, data=_as_bytes(part))
            return
        if content_type == "message/partial":
            self.problems.append(problem("partial_fragment"))
        if content_type not in ORIGINAL_MESSAGE_TYPES and content_type != "message/partial":
            self._add_attachment(part, data=_as_bytes(part))
            return

        inner = children[0]
        walker = self._child()
        walker.walk(inner, depth + 1)
        header_lines = [FORWARD_SEPARATOR]
        inner_fields = HeaderFields(inner)
        for label, name in (("Van", "From"), ("Datum", "Date"), ("Onderwerp", "Subject"), ("Aan", "To")):
            value = header_text(inner_fields, name, self.fallback_charset)
            if value:
                header_lines.append(f"{label}: {value}")
        inner_text = walker.text()
        self.segments.append(Segment(text="\n".join(header_lines) + "\n\n" + inner_text))
        self._absorb(walker, keep_text=False)

    def _walk_leaf(self, part: Message) -> None:
        content_type = part.get_content_type()
        maintype, subtype = content_type.split("/")  # get_content_type() always returns one slash
        disposition = _disposition(part)
        filename = _filename(part, self.fallback_charset)

        if content_type in TNEF_TYPES or (filename or "").lower() == "winmail.dat":
            self._read_tnef(part, filename)
        elif content_type in CALENDAR_TYPES:
            self._read_calendar(part, filename)
        elif content_type in DSN_TYPES:
            self._read_delivery_status(part)
        elif content_type in ORIGINAL_HEADER_TYPES:
            self.original_ids.extend(_original_ids_of_headers(_as_text(part)))
        elif content_type in SIGNATURE_TYPES:
            return  # a detached signature carries no content for staff
        elif content_type in SMIME_TYPES:
            smime_type = str(part.get_param("smime-type") or "").lower()
            if smime_type == "signed-data":
                self.encrypted = problem("smime_opaque_signed")
            else:
                self.encrypted = problem("smime_encrypted")
            self._add_attachment(part, filename=filename)
        elif maintype == "text" and disposition != "attachment" and subtype == "html" and not filename:
            self.segments.append(Segment(html=self._decoded_text(part)))
        elif maintype == "text" and subtype in PLAIN_TEXT_SUBTYPES and disposition != "attachment" and (
            not filename or disposition == "inline"
        ):
            self.segments.append(Segment(text=self._decoded_text(part)))
        else:
            self._add_attachment(part, filename=filename)

    # Leaf readers

    def _decoded_text(self, part: Message) -> str:
        data = _payload(part, self.problems)
        charset = self.charsets.of(part)
        decoded = decode_bytes(data, charset)
        if decoded.problem:
            self.problems.append(decoded.problem)
        return decoded.text.replace("\r\n", "\n").replace("\r", "\n")

    def _read_tnef(self, part: Message, filename: str | None) -> None:
        data = _payload(part, self.problems)
        content: TnefContent | None = read_tnef(data)
        if content is None:
            self.problems.append(problem("tnef_unreadable"))
            self._add_attachment(part, filename=filename or "winmail.dat", data=data)
            return
        if content.text or content.html:
            self.segments.append(Segment(text=content.text, html=content.html))
        self.attachments.extend(content.attachments)
        self.problems.extend(content.problems)

    def _read_calendar(self, part: Message, filename: str | None) -> None:
        text = self._decoded_text(part)
        summary, problem = calendar_summary(text)
        if summary:
            self.calendar_lines.append(summary)
        if problem:
            self.problems.append(problem)
        self._add_attachment(part, filename=filename or "uitnodiging.ics")

    def _read_delivery_status(self, part: Message) -> None:
        status = DeliveryStatus()
        for block in _status_blocks(part):
            action = (block.get("Action") or "").strip().lower()
            if not action:
                continue
            status.action = status.action or action
            if action == "failed" or status.status is None:
                status.action = action
                status.status = (block.get("Status") or "").strip() or None
                diagnostic = decode_header_value(block.get("Diagnostic-Code") or "")
                status.diagnostic = diagnostic or None
            if action == "failed":
                break
        self.delivery_status = status

    def _add_attachment(
        self,
        part: Message,
        filename: str | None = None,
        data: bytes | None = None,
        inline: bool = False,
    ) -> None:
        if data is None:
            data = _payload(part, self.problems)
        content_type = part.get_content_type()
        name = filename or _filename(part, self.fallback_charset) or _default_filename(content_type, len(self.attachments) + 1)
        self.attachments.append(
            ParsedAttachment(
                filename=name,
                content_type=content_type,
                data=data,
                content_id=_content_id(part),
                inline=inline or _disposition(part) == "inline",
            )
        )


def _payload(part: Message, problems: list[str]) -> bytes:
    """Return the part's decoded bytes, falling back to the undecoded payload."""
    try:
        data = part.get_payload(decode=True)
    except Exception as error:  # noqa: BLE001 - the stdlib raises several types on broken encodings
        problems.append(problem("transfer_encoding_failed", type(error).__name__))
        data = None
    if data is None:
        return _as_bytes(part)
    if part.defects:
        names = sorted({type(defect).__name__ for defect in part.defects})
        problems.append(problem("mime_defects", ",".join(names)))
    return data


def _as_bytes(part: Message) -> bytes:
    payload = part.get_payload()
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode("utf-8", errors="surrogateescape")
    try:
        return part.as_bytes()
    except Exception:  # noqa: BLE001 - re-serialising a damaged tree may fail; the raw mail is kept anyway
        return b""


def _as_text(part: Message) -> str:
    payload = part.get_payload(decode=False)
    if isinstance(payload, list):
        return "\n".join(child.as_string() for child in payload if isinstance(child, Message))
    if isinstance(payload, str):
        return payload
    return ""


def _status_blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    text = payload if isinstance(payload, str) else ""
    parser = HeaderParser(policy=compat32)
    return [parser.parsestr(block) for block in re.split(r"\r?\n\s*\r?\n", text) if block.strip()]


def _original_ids_of_message(part: Message) -> list[str]:
    inner = part.get_payload()
    if isinstance(inner, list) and inner and isinstance(inner[0], Message):
        return message_ids(header_text(HeaderFields(inner[0]), "Message-ID"))
    return _original_ids_of_headers(_as_text(part))


def _original_ids_of_headers(text: str) -> list[str]:
    headers = HeaderParser(policy=compat32).parsestr(text)
    return message_ids(headers.get("Message-ID"))


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:  # noqa: BLE001 - a malformed Content-Disposition counts as absent
        return None


def _content_id(part: Message) -> str | None:
    value = part.get("Content-ID")
    if not value:
        return None
    text = str(value).encode("utf-8", errors="replace").decode("utf-8")
    return text.strip().strip("<>").strip()[:255] or None


def _filename(part: Message, fallback_charset: str | None) -> str | None:
    """Return the part's file name (RFC 2231 or RFC 2047 encoded), made safe to store."""
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001 - malformed parameters count as no file name
        return None
    if not name:
        return None
    name = decode_header_value(name, fallback_charset)
    name = PATH_SEPARATORS.split(name)[-1]
    name = UNSAFE_FILENAME_CHARACTERS.sub("_", name).strip(" .")
    return name[-MAX_FILENAME_LENGTH:] or None


def _default_filename(content_type: str, number: int) -> str:
    extension = mimetypes.guess_extension(content_type) or ".bin"
    return f"bijlage-{number}{extension}"


def sender_of(fields: HeaderFields, fallback_charset: str | None) -> tuple[str, str]:
    """Return the address and display name of the first From address."""
    addresses = parse_addresses(fields, "From", fallback_charset)
    if not addresses:
        return "", ""
    return addresses[0].address, addresses[0].name
