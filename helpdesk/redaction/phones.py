"""Telephone numbers: Belgian, Dutch and international, with any separators.

Candidates are found with one pattern and then checked digit by digit against
the Belgian and Dutch numbering plans; other countries are checked with the
phonenumbers library. Service numbers (0800, 090x, 070, short codes) stay.
"""

from __future__ import annotations

import re

import phonenumbers

from helpdesk.redaction.entities import Entity

# A number starts with +, 00, 0 or the letter O typed for 0, optionally inside a bracket,
# and continues as digits (or O) separated by at most three of " ./-()".
CANDIDATE = re.compile(
    r"(?<![\w+/-])(?<!\d[.,])"
    r"(?:\(\s?)?(?:\+|00|[0O])"
    r"(?:[ \t./()\-]{0,3}[0-9O]){6,16}"
    r"(?![\w])"
)
_DATE_PREFIX = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)?\d{2}(?!\d)")

# Non-personal ranges: free, shared-cost and premium numbers.
BELGIAN_SERVICE_PREFIXES = ("0800", "070", "078", "0900", "0901", "0902", "0903", "0904", "0905", "0906", "0907", "0908", "0909")
DUTCH_SERVICE_PREFIXES = ("0800", "0900", "0906", "0909", "0144")


def _digit_positions(candidate: str) -> list[int]:
    positions = []
    for index, character in enumerate(candidate):
        if character.isdigit():
            positions.append(index)
        elif character == "O" and (index == 0 or not candidate[index - 1].isalpha()):
            positions.append(index)
    return positions


def _is_national_number(digits: str) -> bool:
    if len(digits) == 10 and re.fullmatch(r"04[5-9]\d{7}", digits):
        return True  # Belgian mobile
    if len(digits) == 10 and re.fullmatch(r"06\d{8}", digits):
        return True  # Dutch mobile
    if len(digits) == 9 and re.fullmatch(r"0[1-9]\d{7}", digits):
        return not digits.startswith(BELGIAN_SERVICE_PREFIXES)  # Belgian landline
    if len(digits) == 10 and re.fullmatch(r"0[1-57-9]\d{8}", digits):
        return not digits.startswith(DUTCH_SERVICE_PREFIXES + ("0800", "090"))  # Dutch landline
    return False


def _is_international_number(digits: str) -> bool:
    """Check digits that follow + or 00, with an optional trunk 0 after the country code."""
    if digits.startswith(("32", "31")):
        national = digits[2:]
        if national.startswith("0"):
            national = national[1:]
        return _is_national_number("0" + national)
    # Possible rather than valid: a length check per country, because numbers in
    # mails may come from ranges the library's metadata does not list yet.
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return False
    if phonenumbers.is_possible_number(number):
        return True
    # Retry without a trunk 0 written as "(0)" after the country code.
    country_code = str(number.country_code)
    rest = digits[len(country_code):]
    if rest.startswith("0"):
        try:
            return phonenumbers.is_possible_number(phonenumbers.parse("+" + country_code + rest[1:], None))
        except phonenumbers.NumberParseException:
            return False
    return False


def _is_phone(digits: str, international: bool) -> bool:
    if international:
        return 8 <= len(digits) <= 15 and _is_international_number(digits)
    return _is_national_number(digits)


def find_phones(text: str) -> list[Entity]:
    """Find telephone numbers; a run of digits is cut back to the longest valid number.

    NOTE: numbers written as words ("nul vier zeven acht …") or without + or a
    leading 0 ("32 478 12 34 56") are not found.
    """
    found = []
    for match in CANDIDATE.finditer(text):
        candidate = match.group()
        if _DATE_PREFIX.match(candidate.lstrip("(")):
            continue
        positions = _digit_positions(candidate)
        raw_digits = "".join("0" if candidate[index] == "O" else candidate[index] for index in positions)
        stripped = candidate.lstrip("( ")
        international = stripped.startswith("+") or stripped.startswith("00")
        digits = raw_digits[2:] if stripped.startswith("00") else raw_digits
        offset = len(raw_digits) - len(digits)

        # Try the whole run first, then shorter numbers that end before a separator:
        # "bel 0478 12 34 56 2 keer" has a count after the number.
        for count in range(len(digits), 6, -1):
            last = positions[count + offset - 1]
            next_is_digit = last + 1 < len(candidate) and candidate[last + 1] in "0123456789O"
            if next_is_digit or not _is_phone(digits[:count], international):
                continue
            start = match.start()
            if candidate.startswith("(") and ")" not in candidate[:last + 1]:
                start += 1  # an opening bracket that the number never closes
            found.append(Entity(start, match.start() + last + 1, "PHONE"))
            break
    return found
