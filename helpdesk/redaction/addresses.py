"""Street addresses with a house number, and Dutch six-character postcodes.

One span covers the street, the number with its box or floor addition and,
when they follow in the same run, the postcode and the municipality. A street
name without a number, a city or a Belgian postcode alone is not reported.
"""

from __future__ import annotations

import re

from helpdesk.redaction.context import DIGIT, lowercase
from helpdesk.redaction.entities import Entity
from helpdesk.redaction.lexicon import lexicon

_SUFFIXES = (
    "steenweg|straat|straatje|laan|lei|weg|baan|dreef|plein|pleintje|markt|kaai|kade|gracht|dijk|singel|"
    "vest|wal|hof|hofje|pad|veld|hoek|dries|park|berg|dal|heide|akker|steeg|gang|plaats|erf|meers|burcht|"
    "poort|ring|rei|dam|zijde|oord|boulevard|square|straße|strasse"
)
_WORD = r"[A-ZÀ-Ý][\wÀ-ÿ'’.-]{0,40}"
# The suffix of a street name, found first because it is rare; the words before it are read afterwards.
_SUFFIX_END = re.compile(rf"(?:{_SUFFIXES})(?![\w-])")
# Up to three capitalised words before the suffixed word: "Koningin Astridlaan", "Grote Markt".
_STREET_BEFORE_SUFFIX = re.compile(rf"(?:{_WORD}[ \t]+){{0,3}}[A-Za-zÀ-ÿ][\wÀ-ÿ'’-]*$")
_FRENCH_STREET = re.compile(
    r"(?<![\w-])(?P<street>(?i:rue|avenue|av\.|boulevard|bd\.?|chaussée|chée|place|quai|chemin|allée|impasse|"
    r"clos|drève|rempart|galerie|passage|route|square|rond-point)[ \t]+"
    r"(?:(?:de la|de l'|de|du|des|d'|l'|la|le|les|aux|au|van|sous|sur)[ \t]*)?"
    rf"{_WORD}(?:[ \t]+(?:de|du|des|la|le|d'|l')?[ \t]*{_WORD}){{0,2}})",
)
_ENGLISH_STREET = re.compile(
    rf"(?<![\w-])(?P<street>{_WORD}(?:[ \t]+{_WORD})?[ \t]+"
    r"(?:Street|St\.|Road|Rd\.|Lane|Avenue|Ave\.|Drive|Close|Way|Square|Terrace))(?![\w])"
)
# Streets without a telling suffix ("Meir 12", "Ten Bosse 7") are found after words that announce an address.
_ADDRESS_CONTEXT = re.compile(
    r"(?i:(?:\bwoon(?:t|de|den)?|\bwonende|\bverblijf(?:t)?|\blogeer(?:t)?|\badres|\baddress|\badresse|"
    r"\bhabite|\bdomicilié(?:e)?|\blive[sd]?|\bstaying|\bgevestigd)"
    r"(?:[ \t]+(?:is|op|in|te|at|au|aan|à|on|:))?[ \t]*:?[ \t]*(?:(?:de|het|den|the|la|le)[ \t]+)?)"
    rf"(?P<street>{_WORD}(?:[ \t]+{_WORD}){{0,2}})(?=[ \t]*,?[ \t]*(?:nummer\s*|nr\.?\s*|n°\s*)?\d)",
)
# Flemish "op de Meir 12", "aan de Kouter 29": a capitalised name after a preposition and article.
_LETTERS_WORD = r"[A-ZÀ-Ý][^\W\d_]{1,30}(?:-[^\W\d_]{1,30})?"
_PREPOSITION_STREET = re.compile(
    rf"(?<![\w])(?:op|in|aan|langs) (?:de|het|den) (?P<street>{_LETTERS_WORD}(?: {_LETTERS_WORD})?)(?=[ \t]*,?[ \t]*\d)"
)
_NUMBER_FIRST_FRENCH = re.compile(
    r"(?<![\w,.])(?P<number>\d{1,4}(?:[ \t]?(?:bis|ter|[a-z]))?),?[ \t]+"
    r"(?:rue|avenue|boulevard|chaussée|place|quai|chemin|allée|impasse)[ \t]+"
    r"(?:(?:de la|de l'|de|du|des|d'|l')[ \t]*)?[A-ZÀ-Ý][\wÀ-ÿ'’-]*(?:[ \t]+[A-ZÀ-Ý][\wÀ-ÿ'’-]*)?",
    re.IGNORECASE,
)

_NUMBER = re.compile(
    r"[ \t]*,?[ \t]*(?:(?:nummer|nr\.?|n°|no\.|huisnummer)[ \t]*)?"
    r"(?P<number>\d{1,4})(?!\d|[.,:]\d|/\d{1,2}/|[ \t]?(?:u\b|uur|h\b|min|keer|x\b|jaar|ans?\b|euro|eur\b|€|%|km|m\b|"
    r"dagen|weken|maanden|jaar|minuten|seconden|kg|cm|ml|mg|procent|personen|mensen|meisjes|vrouwen))"
    r"(?P<addition>(?:[ \t]?[A-Za-z](?![\w'’])|(?:[ \t]?[-/][ \t]?[A-Za-z0-9]{1,4}(?![\w]))"
    r"|,?[ \t]?(?:bus|bte|boîte|box|b\.?)[ \t]?\d{1,4}[A-Za-z]?(?![\w])|[ \t](?:hs|bis|ter|huis|[IVX]{1,3})(?![\w])"
    r"|,?[ \t]\d{1,2}(?:de|e|ste|er|ème)[ \t](?:verdieping|verdiep|étage|floor)){0,2})",
)
_CITY = (
    r"(?:(?:Den|De|Le|La|Sint|Saint|Sainte|St\.?|'s)[ \t-])?[A-ZÀ-Ý][\wÀ-ÿ'’-]*"
    r"(?:[ \t](?:op|aan|de|den|bij|ter|sur|lez|les|en|am|an|der)[ \t][A-ZÀ-Ý][\wÀ-ÿ'’-]*)?"
)
_POSTCODE_CITY = re.compile(
    r"(?:[ \t]*,[ \t]*|[ \t]+te[ \t]+|[ \t]*\n[ \t]*|[ \t]+|[ \t]*-[ \t]*)"
    rf"(?P<postcode>[1-9]\d{{3}}(?:[ \t]?[A-Z]{{2}}(?![\w]))?)(?:[ \t]+(?P<city>{_CITY}))?"
)
_CITY_ONLY = re.compile(rf"(?:,[ \t]*|[ \t]+te[ \t]+)(?P<city>{_CITY})(?=[ \t]*[\n.,;)]|$)")

# The first digit comes before the lookbehind that checks the character before it,
# which lets the regex engine skip quickly to the next digit.
DUTCH_POSTCODE = re.compile(r"[1-9](?<![\w-][1-9])\d{3}[ \t]?(?!SA|SD|SS)[A-Z]{2}(?![\w])")
# Two capitals after four digits that are a word or a unit rather than a postcode ("2022 EN ...").
_NOT_POSTCODE_LETTERS = {
    "EN", "OF", "IK", "JE", "IN", "OP", "TE", "AM", "PM", "DE", "ET", "LA", "LE", "EU", "OK", "NL", "BE",
    "FR", "UK", "US", "MB", "GB", "KB", "TB", "MG", "ML", "KM", "CM", "MM", "KG", "HZ", "MS", "TO", "IS",
}
_LEADING_NON_STREET = {
    "de", "het", "een", "in", "op", "aan", "naar", "van", "te", "bij", "ik", "we", "wij", "mijn", "zijn",
    "haar", "hun", "uw", "onze", "die", "dat", "deze", "via", "langs", "richting", "voor", "achter", "the",
    "la", "le", "les", "at", "on", "en", "of", "ook", "nu", "dan", "maar", "want", "also", "and", "et",
}


def _street_start(text: str, start: int, end: int) -> int:
    """Skip leading function words that the capitalised-word pattern took for part of the street."""
    while True:
        word = re.match(r"[\wÀ-ÿ'’.-]+\s+", text[start:end])
        if not word or word.group().strip().casefold() not in _LEADING_NON_STREET:
            return start
        start += word.end()


def _extend_with_tail(text: str, street_start: int, street_end: int) -> Entity | None:
    number = _NUMBER.match(text, street_end)
    if not number:
        return None
    value = int(number.group("number"))
    if 1900 <= value <= 2100 and len(number.group("number")) == 4:
        return None  # a year after a street name, not a house number
    end = number.end()
    place = _POSTCODE_CITY.match(text, end)
    if place and ("\n" not in place.group() or place.group().lstrip(" \t").startswith("\n")):
        end = place.end()
    else:
        city = _CITY_ONLY.match(text, end)
        if city:
            end = city.end("city")
    return Entity(street_start, end, "ADDRESS")


def _is_suffix_street(text: str, start: int, end: int) -> bool:
    street = text[start:end]
    last = street.split()[-1]
    if re.fullmatch(_SUFFIXES, last, re.IGNORECASE):
        # A bare "Markt" or "weg" is a street only after a capitalised word ("Grote Markt").
        return len(street.split()) > 1 and last[0].isupper()
    return len(last) >= 6


# Cheap checks on the lower-cased text that decide whether a pattern can match at all.
_HINTS = {
    "french": re.compile(
        r"rue|avenue|av\.|boulevard|bd|chaussée|chée|place|quai|chemin|allée|impasse|clos|drève|rempart|"
        r"galerie|passage|route|square|rond-point"
    ),
    "english": re.compile(r"street|st\.|road|rd\.|lane|avenue|ave\.|drive|close|way|square|terrace"),
    "context": re.compile(r"woon|wonende|verblijf|logeer|adres|address|habite|domicili|live|staying|gevestigd"),
}


def find_addresses(text: str) -> list[Entity]:
    """Find street addresses with a number, and Dutch postcodes on their own."""
    found = []
    if not DIGIT.search(text):
        return found  # every address has a house number or a postcode
    lowered = lowercase(text)
    for match in _SUFFIX_END.finditer(lowered):
        end = match.end()
        if not _NUMBER.match(text, end):
            continue
        line_start = text.rfind("\n", 0, end) + 1
        street = _STREET_BEFORE_SUFFIX.search(text, max(line_start, end - 80), end)
        if not street:
            continue
        start = _street_start(text, street.start(), end)
        if start < end and _is_suffix_street(text, start, end):
            entity = _extend_with_tail(text, start, end)
            if entity:
                found.append(entity)

    patterns = [_PREPOSITION_STREET]
    if _HINTS["french"].search(lowered):
        patterns.append(_FRENCH_STREET)
    if _HINTS["english"].search(lowered):
        patterns.append(_ENGLISH_STREET)
    if _HINTS["context"].search(lowered):
        patterns.append(_ADDRESS_CONTEXT)
    for pattern in patterns:
        for match in pattern.finditer(text):
            start = _street_start(text, match.start("street"), match.end("street"))
            end = match.end("street")
            if start >= end:
                continue
            if pattern in (_ADDRESS_CONTEXT, _PREPOSITION_STREET) and text[start:end].casefold() in lexicon().places:
                continue  # "woon in Nederland, 5611 EM": a country or city before a number
            entity = _extend_with_tail(text, start, end)
            if entity:
                found.append(entity)

    number_first = _NUMBER_FIRST_FRENCH.finditer(text) if _HINTS["french"].search(lowered) else ()
    for match in number_first:
        end = match.end()
        place = _POSTCODE_CITY.match(text, end)
        if place and "\n" not in place.group():
            end = place.end()
        found.append(Entity(match.start(), end, "ADDRESS"))

    for match in DUTCH_POSTCODE.finditer(text):
        if match.group()[-2:] not in _NOT_POSTCODE_LETTERS:
            found.append(Entity(match.start(), match.end(), "ADDRESS"))
    return found
