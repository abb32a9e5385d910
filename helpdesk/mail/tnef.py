"""Outlook's TNEF attachment (winmail.dat): its body and the files inside it."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field

from striprtf.striprtf import rtf_to_text
from tnefparse import TNEF

from helpdesk.mail.charsets import decode_bytes
from helpdesk.mail.message import ParsedAttachment
from helpdesk.mail.problems import problem


@dataclass
class TnefContent:
    text: str | None = None
    html: str | None = None
    attachments: list[ParsedAttachment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return decode_bytes(value.rstrip(b"\x00")).text
    return str(value).rstrip("\x00")


def _rtf_text(tnef: TNEF, problems: list[str]) -> str | None:
    try:
        rtf = tnef.rtfbody  # decompressed through the compressed_rtf package
    except Exception as error:  # noqa: BLE001 - broken compressed RTF must not stop parsing
        problems.append(problem("tnef_rtf_failed", type(error).__name__))
        return None
    if not rtf:
        return None
    try:
        return rtf_to_text(rtf.decode("cp1252", errors="replace"), errors="ignore").strip()
    except Exception as error:  # noqa: BLE001 - striprtf fails on some malformed RTF
        problems.append(problem("tnef_rtf_failed", type(error).__name__))
        return None


def _filename(attachment: object, number: int) -> str:
    try:
        name = attachment.long_filename()
    except Exception:  # noqa: BLE001 - a damaged name property counts as no name
        name = ""
    if isinstance(name, bytes):
        name = decode_bytes(name).text
    name = (name or "").strip("\x00").strip()
    return name or f"bijlage-{number}.bin"


def read_tnef(data: bytes) -> TnefContent | None:
    """Return the body and files of a winmail.dat, or None when it is not valid TNEF."""
    try:
        tnef = TNEF(data, do_checksum=False)
    except Exception:  # noqa: BLE001 - tnefparse raises ValueError, struct.error and IndexError on bad input
        return None

    content = TnefContent()
    content.html = _as_text(tnef.htmlbody)
    content.text = _as_text(tnef.body)
    if not content.text and not content.html:
        content.text = _rtf_text(tnef, content.problems)

    for number, attachment in enumerate(tnef.attachments, start=1):
        filename = _filename(attachment, number)
        payload = attachment.data if isinstance(attachment.data, bytes) else b""
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        content.attachments.append(ParsedAttachment(filename=filename, content_type=content_type, data=payload))
    return content
