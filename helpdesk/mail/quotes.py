"""Splitting the new part of a mail from quoted earlier mail and signatures.

Recognises Dutch, French and English reply headers ("Op ... schreef ...:",
"Le ... a écrit :", "On ... wrote:"), separator lines ("-----Original
Message-----"), Outlook header blocks ("Van:/Verzonden:", "From:/Sent:"),
"> " quotes, the "-- " signature separator and mobile footers
("Verzonden vanaf mijn iPhone").
"""

from __future__ import annotations

import re

# Lines longer than this are body text, never a reply header.
MAX_HEADER_LINE = 400

# A reply header may be wrapped over up to this many lines by the sender's client.
MAX_HEADER_WRAP = 3

REPLY_HEADERS = [
    re.compile(r"^On\b.{0,300}\bwrote\s*:?$", re.IGNORECASE),
    re.compile(r"^Op\b.{0,300}\b(?:schreef|geschreven)\b.{0,120}:$", re.IGNORECASE),
    re.compile(r"^Le\b.{0,300}\ba\s+écrit\s*:$", re.IGNORECASE),
    re.compile(r"^Am\b.{0,300}\bschrieb\b.{0,120}:$", re.IGNORECASE),
]
# The first words of REPLY_HEADERS. A line that starts otherwise cannot start
# a reply header, so the full patterns are not tried on it.
REPLY_HEADER_START = re.compile(r"^(?:On|Op|Le|Am)\b", re.IGNORECASE)

SEPARATOR = re.compile(
    r"^-{2,}\s*(?:original message|oorspronkelijk bericht|origineel bericht|message d'origine|"
    r"message original|forwarded message|doorgestuurd bericht|message transféré|"
    r"ursprüngliche nachricht|weitergeleitete nachricht)\s*-{2,}$",
    re.IGNORECASE,
)
UNDERSCORE_RULE = re.compile(r"^_{10,}$")
HEADER_FROM = re.compile(r"^\*?(?:from|van|de|von)\s?:", re.IGNORECASE)
HEADER_FOLLOWING = re.compile(
    r"^\*?(?:sent|date|to|subject|cc|verzonden|datum|aan|onderwerp|envoyé|date|à|objet|gesendet|an|betreff)\s?:",
    re.IGNORECASE,
)
MOBILE_FOOTER = re.compile(
    r"^(?:sent from my|sent from outlook|sent from mail for|get outlook for|"
    r"verzonden (?:vanaf|met|vanuit|via) |verstuurd (?:vanaf|met|vanuit|via) |"
    r"envoyé (?:de|depuis|avec|à partir de) |gesendet von |von meinem .* gesendet)",
    re.IGNORECASE,
)
MAX_FOOTER_LINE = 100
SIGNATURE_SEPARATOR = re.compile(r"^-- ?$")


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _joined(lines: list[str], index: int, count: int) -> str:
    return " ".join(line.strip() for line in lines[index:index + count])


def _reply_header_at(lines: list[str], index: int) -> bool:
    first = lines[index].strip()
    if not first or len(first) > MAX_HEADER_LINE or _is_quoted(first) or not REPLY_HEADER_START.match(first):
        return False
    for count in range(1, MAX_HEADER_WRAP + 1):
        if index + count > len(lines):
            break
        candidate = _joined(lines, index, count)
        if any(pattern.match(candidate) for pattern in REPLY_HEADERS):
            return True
    return False


def _header_block_at(lines: list[str], index: int) -> bool:
    """Return whether an Outlook-style header block ("From:" then "Sent:") starts here."""
    if not HEADER_FROM.match(lines[index].strip()):
        return False
    following = [line.strip() for line in lines[index + 1:index + 5] if line.strip()]
    return any(HEADER_FOLLOWING.match(line) for line in following[:3])


def find_quote_start(lines: list[str]) -> int | None:
    """Return the index of the first line of quoted earlier mail, or None."""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if SEPARATOR.match(stripped) or _reply_header_at(lines, index) or _header_block_at(lines, index):
            return index
        if UNDERSCORE_RULE.match(stripped) and index + 1 < len(lines):
            following = [item for item in lines[index + 1:index + 3] if item.strip()]
            if following and HEADER_FROM.match(following[0].strip()):
                return index
    return None


def _cut_signature(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        stripped = line.strip()
        if SIGNATURE_SEPARATOR.match(line.rstrip("\r")) or (
            len(stripped) <= MAX_FOOTER_LINE and MOBILE_FOOTER.match(stripped)
        ):
            return lines[:index]
    return lines


def _text_after_quote(lines: list[str]) -> list[str]:
    """Return the reply written below a ">" quote (bottom posting), or nothing.

    When the quote header is followed by unquoted text, that text is the
    earlier mail itself (Outlook style), so there is no new text after it.
    """
    body = lines[1:]
    first = next((line for line in body if line.strip()), "")
    if not _is_quoted(first):
        return []
    return [line for line in body if not _is_quoted(line)]


def split_new_text(text: str) -> str:
    """Return the part of `text` that the sender wrote now, without quotes or signature.

    Returns an empty string when the mail contains only quoted earlier mail.
    """
    lines = text.splitlines()
    start = find_quote_start(lines)

    if start is None:
        own = lines
    elif any(line.strip() and not _is_quoted(line) for line in lines[:start]):
        own = lines[:start]
    else:
        own = _text_after_quote(lines[start:])

    own = [line for line in own if not _is_quoted(line)]
    own = _cut_signature(own)
    return "\n".join(own).strip()
