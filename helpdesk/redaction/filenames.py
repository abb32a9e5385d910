"""Redaction of attachment filenames.

Filenames are short and use "_", "-" and "." between words, which the text
detectors read as user names ("uitslag_test.pdf", "IMG_2034.jpg"). A filename
therefore loses only the details that identify someone: e-mail addresses,
phone numbers, account and national numbers, licence plates, street addresses
and personal names. The extension always stays.
"""

from __future__ import annotations

import re

from helpdesk.redaction.api import PLACEHOLDERS, detect

# Handles and links are what word separators in ordinary filenames look like.
_IGNORED_TYPES = frozenset({"HANDLE", "URL"})
_WORD_SEPARATORS = re.compile(r"[_.]")
_ALL_SEPARATORS = re.compile(r"[_.\-]")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")


def redact_filename(filename: str) -> str:
    """Return `filename` with its identifying details replaced by Dutch placeholders and its extension kept."""
    if not filename:
        return ""
    extension = _EXTENSION.search(filename)
    stem = filename[: extension.start()] if extension else filename
    suffix = extension.group() if extension else ""

    # Detect on the name as written (e-mail addresses), with "_" and "." read
    # as spaces (plates such as 1-ABC-123 keep their dashes) and with every
    # separator read as a space ("cv_Marie_Dubois", "0470-12-34-56"). Each
    # view has the same length as the stem, so all spans line up with it.
    views = (stem, _WORD_SEPARATORS.sub(" ", stem), _ALL_SEPARATORS.sub(" ", stem))
    spans = [entity for view in views for entity in detect(view) if entity.type not in _IGNORED_TYPES]
    return _replace_spans(stem, spans) + suffix


def _replace_spans(stem: str, entities) -> str:
    parts: list[str] = []
    position = 0
    for entity in sorted(entities, key=lambda entity: (entity.start, -entity.end)):
        if entity.end <= position:
            continue  # inside a span already replaced
        parts.append(stem[position : max(position, entity.start)])
        parts.append(PLACEHOLDERS[entity.type])
        position = entity.end
    parts.append(stem[position:])
    return "".join(parts)
