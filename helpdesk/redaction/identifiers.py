"""Bank accounts (IBAN, old Belgian account numbers) and national identity numbers.

Check digits are validated with python-stdnum. A number that fails its check
is still reported when its shape is unmistakable or a keyword names it,
because people mistype numbers and the remaining digits still identify.
"""

from __future__ import annotations

import re

from stdnum import iban as stdnum_iban
from stdnum.be import bis, nn
from stdnum.nl import bsn

from helpdesk.redaction.context import DIGIT, keyword_pattern, lowercase, near, uppercase
from helpdesk.redaction.entities import Entity

# IBAN lengths from the SWIFT IBAN registry for the countries seen in Belgian and Dutch mail.
IBAN_LENGTHS = {
    "AD": 24, "AL": 28, "AT": 20, "BA": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22,
    "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MA": 28, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "RS": 22, "SE": 24, "SI": 19,
    "SK": 24, "TN": 24, "TR": 26, "UA": 29, "XK": 20,
}
# Matched on the upper-cased text. Belgian and Dutch IBANs have a fixed shape (digits only, or four
# bank letters then digits), so text after "be 20" cannot be read as an account number.
_IBAN_CANDIDATE = re.compile(
    r"(?<![A-Z0-9])(?:"
    r"(?P<be>BE)\s?\d{2}(?:[ .\-]?\d){11,13}"
    r"|(?P<nl>NL)\s?\d{2}[ .\-]?[A-Z]{4}(?:[ .\-]?\d){9,11}"
    rf"|(?P<country>{'|'.join(code for code in IBAN_LENGTHS if code not in ('BE', 'NL'))})\s?\d{{2}}(?:[ .\-]?[A-Z0-9]){{8,31}}"
    r")(?![A-Z0-9])"
)
# Patterns over digits start with \d and check the character before it in a lookbehind, which
# lets the regex engine skip quickly to the next digit.
_OLD_BELGIAN_ACCOUNT = re.compile(r"\d(?<![\d-]\d)\d{2}[-. ]\d{7}[-. ]\d{2}(?![\d-])")
_ACCOUNT_WORDS = keyword_pattern(
    "iban", "rekening", "rekeningnummer", "rekeningnr", "rek", "bankrekening", "account", "bank", "compte",
    "overschrijven", "storten", "gestort", "betalen", "betaald", "virement", "bic",
)

_NATIONAL_NUMBER = re.compile(
    r"\d(?<![\d.+/-]\d)\d[ .]?\d{2}[ .]?\d{2}[ .\-/]?\d{3}[ .\-/]?\d{2}(?![\d])"
)
_PRINTED_NATIONAL_NUMBER = re.compile(r"\d{2}\.\d{2}\.\d{2}[-/ ]\d{3}[.\- ]\d{2}")
_NATIONAL_NUMBER_WORDS = keyword_pattern(
    "rijksregister", "rijksregisternummer", "rijksregisternr", "rr", "rrn", "rr-nummer", "insz", "niss",
    "inss", "bis", "bisnummer", "bis-nummer", "nationaal nummer", "identificatienummer", "numéro national",
    "registre national", "national number", "national register", "id-nummer", "idnummer",
    "rijksregisternummer:", "n° national",
)
_ANY_DOCUMENT_WORD = re.compile(
    r"paspoort|passport|passeport|identit|id-kaart|idkaart|eid|e-id|kaartnummer|documentnummer|"
    r"document number|rijbewijs|driving licen|permis|verblijf|titre de s"
)
_BSN = re.compile(
    r"\d(?<![\d.\-/+]\d)(?:\d{8}|\d{3}[ .]\d{2}[ .]\d{3}|\d{2}[ .]\d{3}[ .]\d{3}|\d{7})(?![\d])"
)
_BSN_WORDS = keyword_pattern("bsn", "burgerservicenummer", "sofinummer", "sofi-nummer", "sofinr", "sofi-nr", "sofi")
_DOCUMENT_NUMBER = re.compile(
    r"(?<![\w-])(?i:paspoort|paspoortnummer|passport|passeport|identiteitskaart|identiteitskaartnummer|id-kaart|"
    r"idkaart|eid|e-id|kaartnummer|documentnummer|document number|rijbewijs|rijbewijsnummer|"
    r"driving licen[cs]e|permis de conduire|carte d'identité|verblijfskaart|verblijfsvergunning|"
    r"titre de séjour)"
    r"(?:[^\n\d.?!]|\.(?!\s)){0,30}?(?<![\w-])"
    r"(?P<number>(?:[A-Z]{1,3} ?)?\d[\dA-Z]*(?:[ .\-/]\d[\dA-Z]*){0,3})(?![\w-])"
)


def _iban_length_ok(country: str, compact: str) -> bool:
    expected = IBAN_LENGTHS.get(country)
    if expected is None:
        return False
    if country in ("BE", "NL"):
        # Belgian and Dutch IBANs are reported by their shape, also with a wrong
        # check or one digit too few or too many, since people mistype them.
        return expected - 1 <= len(compact) <= expected + 1
    return len(compact) == expected


def find_ibans(text: str) -> list[Entity]:
    """Find IBANs in any grouping and case, and old Belgian account numbers."""
    found = []
    if not DIGIT.search(text):
        return found  # both kinds of account number contain digits
    raised = uppercase(text)
    for match in _IBAN_CANDIDATE.finditer(raised):
        country = match.group("be") or match.group("nl") or match.group("country")
        if country not in IBAN_LENGTHS:
            continue
        expected = IBAN_LENGTHS[country]
        end = _cut_to_length(text, match.start(), match.end(), expected)
        compact = re.sub(r"[ .\-]", "", text[match.start():end]).upper()
        if not _iban_length_ok(country, compact):
            continue
        if country not in ("BE", "NL") and not (
            stdnum_iban.is_valid(compact) or near(text, match.start(), end, _ACCOUNT_WORDS, 40)
        ):
            continue
        found.append(Entity(match.start(), end, "IBAN"))

    for match in _OLD_BELGIAN_ACCOUNT.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        check = int(digits[:10]) % 97 or 97
        if check == int(digits[10:]) or near(text, match.start(), match.end(), _ACCOUNT_WORDS, 40):
            found.append(Entity(match.start(), match.end(), "IBAN"))
    return found


def _cut_to_length(text: str, start: int, end: int, length: int) -> int:
    """Return the end of the shortest prefix holding `length` letters and digits, or `end`."""
    count = 0
    for index in range(start, end):
        if text[index].isalnum():
            count += 1
            if count == length:
                rest = text[index + 1:end]
                # Keep the whole run when the remaining characters are glued to it (a wrong length).
                if rest and rest[0].isalnum():
                    return end
                return index + 1
    return end


def find_national_ids(text: str) -> list[Entity]:
    """Find Belgian national register and BIS numbers, Dutch BSNs and document numbers."""
    found = []
    if not DIGIT.search(text):
        return found  # every pattern here needs a digit
    for match in _NATIONAL_NUMBER.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if (
            nn.is_valid(digits)
            or bis.is_valid(digits)
            or _PRINTED_NATIONAL_NUMBER.fullmatch(match.group())
            or near(text, match.start(), match.end(), _NATIONAL_NUMBER_WORDS, 50)
        ):
            found.append(Entity(match.start(), match.end(), "NATIONAL_ID"))

    for match in _BSN.finditer(text):
        digits = re.sub(r"\D", "", match.group()).zfill(9)
        in_context = near(text, match.start(), match.end(), _BSN_WORDS, 50)
        if digits.startswith("0") and not in_context:
            continue  # a leading zero without a BSN keyword is more often a phone number
        if in_context or (bsn.is_valid(digits) and len(match.group()) >= 9):
            found.append(Entity(match.start(), match.end(), "NATIONAL_ID"))

    if not _ANY_DOCUMENT_WORD.search(lowercase(text)):
        return found
    for match in _DOCUMENT_NUMBER.finditer(text):
        start, end = match.span("number")
        if sum(character.isalnum() for character in text[start:end]) >= 6:
            found.append(Entity(start, end, "NATIONAL_ID"))
    return found
