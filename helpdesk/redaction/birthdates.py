"""Dates of birth: a date with at least day and month next to a birth marker.

Patterns run on the lower-cased text (see `context.lowercase`).

Other dates (the risk contact, a test, a mail header) are not identifying and stay.
"""

from __future__ import annotations

import re

from helpdesk.redaction.context import lowercase
from helpdesk.redaction.entities import Entity

_MONTHS = (
    "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december|"
    "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre|"
    "january|february|march|may|june|july|august|october|"
    r"jan|feb|febr|mrt|maa|apr|jun|jul|aug|sep|sept|okt|oct|nov|dec|janv|févr|avr|juil|déc"
)
_YEAR = r"(?:'?\d{2}|\d{4})"
DATE = (
    r"(?:\d{4}-\d{1,2}-\d{1,2}"
    r"|\d{1,2}[/.\-]\d{1,2}(?:[/.\-]\d{2,4})?"
    rf"|\d{{1,2}}(?:e|de|ste|er|st|nd|rd|th)?\s+(?:{_MONTHS})\.?(?:\s+{_YEAR})?"
    rf"|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?(?:\s+{_YEAR})?)"
)
_MARKER = (
    r"(?:geboren|geb\.|geb|geboortedatum|geboorte datum|geboortedag|verjaardag|jarig|dob|d\.o\.b\.|"
    r"date of birth|birth date|birthdate|birthday|born|né|née|né\(e\)|date de naissance|naissance|anniversaire)"
)
# Marker first: "geboren op 3 maart 1979", "°12.05.1987", "DOB: 1990-07-21", "né le 3/5/1999".
MARKER_THEN_DATE = re.compile(
    rf"(?P<marker>(?<![\w]){_MARKER}(?![\w])|°)[^\n\d]{{0,25}}?(?<![\d/.\-])(?P<date>{DATE})(?![\d/.\-]\d)"
)
# Date first: "op 3 maart 1979 geboren", "14/03/1991 (geboortedatum)".
DATE_THEN_MARKER = re.compile(
    rf"(?<![\d/.\-])(?P<date>{DATE})(?![\d/.\-]\d)[^\n\d]{{0,12}}?(?<![\w]){_MARKER}(?![\w])"
)
_MARKER_SPAN_BREAKS = re.compile(r"[.!?;]\s|\bom\b|\bsinds\b|\bgetest\b|\btest\b")
# A cheap first check: most mails hold no birth marker at all.
_ANY_MARKER = re.compile(r"geb|°|geboorte|verjaardag|jarig|dob|d\.o\.b|birth|born|né|naissance|anniversaire")


def find_birthdates(text: str) -> list[Entity]:
    """Find dates presented as a birth date."""
    lowered = lowercase(text)
    if not _ANY_MARKER.search(lowered):
        return []
    found = []
    for pattern in (MARKER_THEN_DATE, DATE_THEN_MARKER):
        for match in pattern.finditer(lowered):
            start, end = match.span("date")
            between = lowered[match.end("marker"):start] if pattern is MARKER_THEN_DATE else lowered[end:match.end()]
            if _MARKER_SPAN_BREAKS.search(between):
                continue
            found.append(Entity(start, end, "DATE_OF_BIRTH"))
    return found
