"""The redaction interface: entity types, placeholders and the three entry points."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from helpdesk.prepared_cache import lent
from helpdesk.redaction.detector import detect_entities
from helpdesk.redaction.entities import Entity

PLACEHOLDERS = {
    "PERSON": "[naam]",
    "EMAIL": "[e-mailadres]",
    "PHONE": "[telefoonnummer]",
    "ADDRESS": "[adres]",
    "IBAN": "[rekeningnummer]",
    "NATIONAL_ID": "[rijksregisternummer]",
    "LICENSE_PLATE": "[nummerplaat]",
    "URL": "[link]",
    "HANDLE": "[gebruikersnaam]",
    "IP_ADDRESS": "[ip-adres]",
    "DATE_OF_BIRTH": "[geboortedatum]",
}
ENTITY_TYPES = tuple(PLACEHOLDERS)


@dataclass(frozen=True)
class Redacted:
    text: str
    entities: list[Entity]


# The last text redacted and its result. Ingestion redacts the same text twice
# in a row for most mails: the subject of a new ticket and of its message, and
# the body and new text of a mail that quotes nothing.
_last: tuple[str, Redacted] | None = None

# Results computed in other processes, by text (see helpdesk.ingest.prepare).
# Entries are pure results of their key, so threads may share them and a
# missing entry only costs the detection.
_prepared: dict[str, Redacted] = {}
# The results that `redact` computes in a thread while `recording()` is active there, by text.
_recording = threading.local()


def detect(text: str) -> list[Entity]:
    """Return the identifying details in `text`, sorted and not overlapping."""
    return detect_entities(text)


def redact(text: str) -> Redacted:
    """Replace every detected detail by its Dutch placeholder."""
    global _last
    last = _last
    if last is not None and last[0] == text:
        redacted = last[1]
    else:
        redacted = _prepared.get(text) or _redact(text)
        _last = (text, redacted)
    recorded = getattr(_recording, "results", None)
    if recorded is not None:
        recorded[text] = redacted
    return Redacted(redacted.text, list(redacted.entities))


@contextmanager
def recording() -> Iterator[dict[str, Redacted]]:
    """Collect every result that `redact` computes inside the block, by text, to hand to another process."""
    recorded: dict[str, Redacted] = {}
    _recording.results = recorded
    try:
        yield recorded
    finally:
        _recording.results = None


@contextmanager
def prepared(results: dict[str, Redacted]) -> Iterator[None]:
    """Let `redact` return these results, computed elsewhere, instead of detecting again inside the block."""
    with lent(_prepared, results):
        yield


def _redact(text: str) -> Redacted:
    entities = detect(text)
    parts: list[str] = []
    position = 0
    for entity in entities:
        parts.append(text[position:entity.start])
        parts.append(PLACEHOLDERS[entity.type])
        position = entity.end
    parts.append(text[position:])
    return Redacted("".join(parts), entities)


def publication_problems(text: str) -> list[str]:
    """Return one Dutch sentence per detail that forbids publishing `text`."""
    return [
        f"Tekst bevat nog een identificerend gegeven ({entity.type}) op positie {entity.start}."
        for entity in detect(text)
    ]
