"""Keyword context around a candidate span, used where a format alone is ambiguous."""

from __future__ import annotations

import functools
import re

# Lower and upper case never add or remove a decimal digit (checked for every code
# point with Python 3.11), so this test holds for the case-changed copies too.
DIGIT = re.compile(r"\d")


def keyword_pattern(*keywords: str) -> re.Pattern[str]:
    """Compile a case-insensitive pattern that matches any keyword as a whole word."""
    alternatives = "|".join(sorted(keywords, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def before(text: str, start: int, width: int) -> str:
    """Return up to `width` characters before `start`."""
    return text[max(0, start - width):start]


def after(text: str, end: int, width: int) -> str:
    """Return up to `width` characters after `end`."""
    return text[end:end + width]


def near(text: str, start: int, end: int, pattern: re.Pattern[str], width: int = 40) -> bool:
    """Tell whether `pattern` occurs within `width` characters before or after the span."""
    return bool(pattern.search(before(text, start, width)) or pattern.search(after(text, end, width)))


# Most finders of one text need the same case-changed copy; the cache keeps the last few.
@functools.lru_cache(maxsize=4)
def lowercase(text: str) -> str:
    """Lower-case `text` without changing any offset.

    Patterns run on this copy without re.IGNORECASE, which makes them several
    times faster. The few characters whose lower case is longer ("İ") stay.
    """
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(character.lower() if len(character.lower()) == 1 else character for character in text)


@functools.lru_cache(maxsize=4)
def uppercase(text: str) -> str:
    """Upper-case `text` without changing any offset ("ß" stays)."""
    raised = text.upper()
    if len(raised) == len(text):
        return raised
    return "".join(character.upper() if len(character.upper()) == 1 else character for character in text)
