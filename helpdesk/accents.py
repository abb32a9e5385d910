"""Accent folding for the staff queue search, the same in Python, SQLite and PostgreSQL.

Staff type "depistage" for "dépistage" and "geinfecteerd" for
"geïnfecteerd". PostgreSQL folds the search documents with translate(),
which replaces one character by one character, so the table lists only
letters whose plain form is a single letter ("œ" and "ß" stay as they are).
Migration 0007 writes the same two strings into its SQL, and a test keeps
them equal.
"""

from __future__ import annotations

import re

ACCENTED = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝŸ"
PLAIN = "aaaaaaceeeeiiiinooooouuuuyyAAAAAACEEEEIIIINOOOOOUUUUYY"

# SQLite calls the function under this name (registered in helpdesk.db).
SQLITE_FUNCTION = "helpdesk_fold_accents"

# After lower() only the lower-case half of the table can occur. SQLite calls
# the function for every message that a search reads, and replacing the few
# accented letters with a regular expression took a sixth of the time of
# str.translate() on generated Dutch texts.
_PLAIN_LETTERS = dict(zip(ACCENTED.lower(), PLAIN.lower()))
_ACCENTED_LETTER = re.compile(f"[{ACCENTED.lower()}]")


def fold_accents(text: str | None) -> str | None:
    """Return `text` in lower case, with the accented letters of ACCENTED replaced by their plain letter."""
    if text is None:
        return None
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    return _ACCENTED_LETTER.sub(lambda match: _PLAIN_LETTERS[match.group()], lowered)
