"""Accent folding for the staff queue search, the same in Python, SQLite and PostgreSQL.

Staff type "depistage" for "dépistage" and "geinfecteerd" for
"geïnfecteerd". PostgreSQL folds the search documents with translate(),
which replaces one character by one character, so the table lists only
letters whose plain form is a single letter ("œ" and "ß" stay as they are).
Both sides replace the letters first and lower the case afterwards, because
lowering can change a letter before it is looked up ("İ" becomes two
characters in Python). Migration 0007 writes the same two strings into its
SQL, and a test keeps them equal.

NOTE: where lowering depends on the letter's place in the word (the Greek
final sigma), SQLite and PostgreSQL can still disagree.
"""

from __future__ import annotations

import re

# "İ" (Turkish capital I with dot) and "Å" (U+212B, the angstrom sign) lower to
# letters outside ASCII in Python, so they are replaced before lowering.
ACCENTED = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝŸİ\u212b"
PLAIN = "aaaaaaceeeeiiiinooooouuuuyyAAAAAACEEEEIIIINOOOOOUUUUYYIA"

# SQLite calls the function under this name (registered in helpdesk.db).
SQLITE_FUNCTION = "helpdesk_fold_accents"

# SQLite calls the function for every message that a search reads. Replacing
# the few accented letters with a regular expression took a sixth of the time
# of str.translate() on generated Dutch texts.
_PLAIN_LETTERS = dict(zip(ACCENTED, PLAIN))
_ACCENTED_LETTER = re.compile(f"[{ACCENTED}]")


def fold_accents(text: str | None) -> str | None:
    """Return `text` with the accented letters of ACCENTED replaced by their plain letter, in lower case."""
    if text is None:
        return None
    if text.isascii():
        return text.lower()
    return _ACCENTED_LETTER.sub(lambda match: _PLAIN_LETTERS[match.group()], text).lower()
