"""Insertion of a canned reply or an article into a reply draft, at the cursor or before the sign-off."""

from __future__ import annotations

import re

# Lines that close a reply: the sign-off formula and the "any more questions?"
# line the draft templates (templates/drafts/*/reply.txt.j2) put above it.
_SIGN_OFF = re.compile(
    r"^\s*(met )?(vriendelijke|hartelijke|veel|lieve|warme)?\s*groet(en|jes)?\b|^\s*tot (snel|later)\b"
    r"|^\s*(bien )?cordialement\b|^\s*bien à (toi|vous)\b|^\s*amicalement\b|^\s*salutations\b"
    r"|^\s*(kind|best|warm)? ?regards\b|^\s*best wishes\b|^\s*sincerely\b",
    re.IGNORECASE,
)
_MORE_QUESTIONS = re.compile(
    r"^\s*(heb je|heeft u|hebt u)? ?nog (andere )?vragen\b|^\s*(vous avez|tu as|as-tu)? ?(encore )?d'autres questions\b"
    r"|^\s*vous avez encore des questions\b|^\s*(any )?(more|other|further) questions\b",
    re.IGNORECASE,
)

# A sign-off further up than this many non-empty lines from the end is part of
# the text (a quoted mail, an example), not the closing of this reply.
MAX_CLOSING_LINES = 4


def insert_snippet(draft: str, snippet: str, cursor: int | None = None) -> str:
    """Insert `snippet` as its own paragraph into the draft and return the new text.

    With a `cursor` (an offset in characters, as the browser reports it) the
    snippet goes at the cursor when it is at the start of a line, else after
    the cursor's line. Without one it goes before the reply's closing lines,
    or at the end when the draft has none.
    """
    draft = (draft or "").replace("\r\n", "\n")
    snippet = snippet.strip()
    if not draft.strip():
        return snippet

    if cursor is None:
        position = closing_start(draft)
    else:
        position = _line_end(draft, cursor)
    return _join_paragraphs(draft[:position], snippet, draft[position:])


def closing_start(draft: str) -> int:
    """Return the offset where the draft's closing lines (questions line, sign-off, name) start, or its length."""
    lines = draft.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    filled = [index for index, line in enumerate(lines) if line.strip()]
    tail = filled[-MAX_CLOSING_LINES:]
    sign_off = next((index for index in tail if _SIGN_OFF.match(lines[index])), None)
    if sign_off is None:
        return len(draft)

    start = sign_off
    earlier = [index for index in filled if index < sign_off]
    if earlier and _MORE_QUESTIONS.match(lines[earlier[-1]]):
        start = earlier[-1]
    return offsets[start]


def _line_end(draft: str, cursor: int) -> int:
    """Move the cursor to the end of its line, so an inserted paragraph never splits a sentence."""
    cursor = max(0, min(cursor, len(draft)))
    if cursor == 0 or draft[cursor - 1] == "\n":
        return cursor
    newline = draft.find("\n", cursor)
    return len(draft) if newline == -1 else newline


def _join_paragraphs(before: str, snippet: str, after: str) -> str:
    parts = [part for part in (before.rstrip(), snippet, after.strip("\n")) if part.strip()]
    return "\n\n".join(parts)
