"""Licence plates: Belgian series since 1971, Dutch side codes 1 to 14, and any plate after a keyword."""

from __future__ import annotations

import re

from helpdesk.redaction.context import DIGIT, keyword_pattern, lowercase, near, uppercase
from helpdesk.redaction.entities import Entity
from helpdesk.redaction.lexicon import lexicon

_SEP = r"[-. ]"
# Belgian: 1-ABC-234 (since 2010), ABC-123 (1971-2008), 123-ABC (2008-2010).
_BELGIAN = [
    rf"[1-9]{_SEP}?[A-Z]{{3}}{_SEP}?\d{{3}}",
    rf"[A-Z]{{3}}{_SEP}\d{{3}}",
    rf"\d{{3}}{_SEP}[A-Z]{{3}}",
]
# Dutch side codes, written with dashes where letters and digits alternate.
_DUTCH = [
    r"[A-Z]{2}-\d{2}-\d{2}", r"\d{2}-\d{2}-[A-Z]{2}", r"\d{2}-[A-Z]{2}-\d{2}", r"[A-Z]{2}-\d{2}-[A-Z]{2}",
    r"[A-Z]{2}-[A-Z]{2}-\d{2}", r"\d{2}-[A-Z]{2}-[A-Z]{2}", r"\d{2}-[A-Z]{3}-\d", r"\d-[A-Z]{3}-\d{2}",
    r"[A-Z]{2}-\d{3}-[A-Z]", r"[A-Z]-\d{3}-[A-Z]{2}", r"[A-Z]{3}-\d{2}-[A-Z]", r"\d-[A-Z]{2}-\d{3}",
    r"[A-Z]-\d{2}-[A-Z]{3}", r"\d{3}-[A-Z]{2}-\d",
]
# French SIV plates (AB-123-CD), common on cars from across the border.
_FRENCH = [r"[A-Z]{2}-\d{3}-[A-Z]{2}"]
# Runs on the upper-cased text (see `context.uppercase`), which is faster than re.IGNORECASE.
PLATE = re.compile(r"(?<![\w/.-])(?:" + "|".join(_BELGIAN + _DUTCH + _FRENCH) + r")(?![\w/-]|\.\w)")
_PLATE_WORDS = keyword_pattern(
    "nummerplaat", "nummerplaten", "kenteken", "kentekenplaat", "plaat", "nrplaat", "plate", "plates",
    "licence", "license", "immatriculation", "plaque", "auto", "wagen", "camionette", "bestelwagen", "busje",
    "camper", "bmw", "audi", "mercedes", "opel", "golf", "volkswagen", "vw", "renault", "peugeot",
    "citroën", "toyota", "ford", "skoda", "volvo", "car", "voiture",
)
# Any plate-like token right after a plate keyword ("nummerplaat B-AB 1234", "plaat: 1ABC234"),
# matched on the lower-cased text.
_AFTER_KEYWORD = re.compile(
    r"(?:nummerplaat|kenteken(?:plaat)?|nrplaat|licen[cs]e plate|plaque(?: d'immatriculation)?|"
    r"immatriculation|plaat)(?:nummer)?\s*(?:is|was|:|nr\.?|van)?\s*[\"'“(]?"
    r"(?P<plate>(?=[a-z0-9 .\-]*\d)(?=[a-z0-9 .\-]*[a-z])[a-z0-9]{1,4}(?:[ .\-]?[a-z0-9]{1,4}){1,3})(?![\w-])",
)
_ROAD_OR_CODE = re.compile(r"[AENR]\d{1,3}|[A-Z]{2,3}\d?", re.IGNORECASE)


def _letters_are_a_word(plate: str) -> bool:
    letters = "".join(character for character in plate if character.isalpha()).casefold()
    return letters in lexicon().common_words


def _has_word_part(plate: str) -> bool:
    common_words = lexicon().common_words
    return any(
        part.isalpha() and part.islower() and len(part) > 2 and part in common_words
        for part in re.split(r"[ .-]", plate)
    )


def find_plates(text: str) -> list[Entity]:
    """Find licence plates; lower-case or spaced forms need a keyword or non-word letters."""
    found = []
    if not DIGIT.search(text):
        return found  # every plate contains a digit
    for match in PLATE.finditer(uppercase(text)):
        plate = match.group()
        # Dashes or dots between the groups mark a plate in any case ("1-abc-234"); spaced
        # or unseparated lower-case forms must not spell a word ("2 uur 145").
        clearly_written = "-" in plate or "." in plate
        if not clearly_written and _letters_are_a_word(plate) and not near(
            text, match.start(), match.end(), _PLATE_WORDS, 40
        ):
            continue  # "2 uur 145", "op 100 km": words and numbers, not a plate
        found.append(Entity(match.start(), match.end(), "LICENSE_PLATE"))

    for match in _AFTER_KEYWORD.finditer(lowercase(text)):
        start, end = match.span("plate")
        # A trailing lower-case word ("7-XTB-91 en mijn naam") is text after the plate.
        trailing = re.search(r"[ .][a-z]+$", text[start:end])
        if trailing:
            end = start + trailing.start()
        plate = text[start:end]
        if _ROAD_OR_CODE.fullmatch(plate) or _has_word_part(plate):
            continue
        found.append(Entity(start, end, "LICENSE_PLATE"))
    return found
