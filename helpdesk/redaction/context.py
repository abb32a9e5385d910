"""Keyword context around a candidate span, used where a format alone is ambiguous."""

from __future__ import annotations

import re


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
