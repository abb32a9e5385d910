"""The redaction interface: entity types, placeholders and the three entry points."""

from __future__ import annotations

import re
from dataclasses import dataclass

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
class Entity:
    start: int
    end: int
    type: str


@dataclass(frozen=True)
class Redacted:
    text: str
    entities: list[Entity]


# TODO: minimal first detector (addresses, links, phone numbers only); the full
# detector replaces _find_entities.
_PATTERNS = [
    ("EMAIL", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("URL", re.compile(r"https?://\S+|www\.\S+")),
    ("PHONE", re.compile(r"(?:\+|00)?\d[\d ./-]{7,}\d")),
]


def _find_entities(text: str) -> list[Entity]:
    found: list[Entity] = []
    for entity_type, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            if not any(e.start < match.end() and match.start() < e.end for e in found):
                found.append(Entity(match.start(), match.end(), entity_type))
    return sorted(found, key=lambda e: e.start)


def detect(text: str) -> list[Entity]:
    """Return the identifying details in `text`, sorted and not overlapping."""
    return _find_entities(text)


def redact(text: str) -> Redacted:
    """Replace every detected detail by its Dutch placeholder."""
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
