"""Tokens, word classes and the reading of one name from a token on.

`names.NameFinder` builds on this class and decides where names start.
"""

from __future__ import annotations

import bisect
import re
from typing import NamedTuple

from helpdesk.redaction.context import lowercase
from helpdesk.redaction.lexicon import Lexicon

# Words with inner hyphens and apostrophes ("Pieter-Jan", "D'Hondt"), but a possessive "'s" stays
# outside ("Tatjana's nummer").
TOKEN = re.compile(r"[^\W\d_]+(?:(?:-|['’](?![sS]\b))[^\W\d_]+)*")
PARTICLES = {
    "van", "von", "de", "den", "der", "des", "du", "del", "della", "di", "da", "dos", "das", "le", "la",
    "te", "ten", "ter", "t", "vanden", "vander", "vande", "el", "al", "ben", "bin", "ibn", "abu", "mac",
}
# Particles that may start a surname written alone: "meneer Van der Berg", "De Smet".
LEADING_PARTICLES = {"van", "vanden", "vander", "vande", "de", "den", "der", "le", "la", "du", "d", "el", "ter", "ten", "te"}
MAX_NAME_TOKENS = 5
# Plural endings of Dutch, French and English nouns ("tests", "sekswerkers", "soa's").
_PLURAL_ENDINGS = ("s", "'s", "’s", "en", "es", "n")
# The shortest head word of a compound: shorter heads ("veld", "berg") end many surnames.
_MIN_COMPOUND_HEAD = 5
_PART_SEPARATOR = re.compile(r"[-'’]")


# A sentence end, then only the quotes, brackets, list marks and heading marks that
# `NameParser.is_sentence_start` skips before the next word.
_SENTENCE_BREAK = re.compile(r"[.!?:\n][ \t\"'“‘«(*>\-–#]*")


class Token(NamedTuple):
    start: int
    end: int
    text: str
    fold: str
    # Computed once per token, because every name rule tests it.
    capitalised: bool


def tokenise(text: str) -> list[Token]:
    """Split `text` into word tokens with their offsets."""
    tokens = []
    for match in TOKEN.finditer(text):
        word = match.group()
        start, end = match.span()
        # Words in capitals ("PEP", "UZ", "NIEUW") are abbreviations or shouting, not names.
        capitalised = word[0].isupper() and (len(word) == 1 or not word.isupper())
        # tuple.__new__ skips the Python-level constructor that NamedTuple generates,
        # and this line runs once for every word of every mail.
        tokens.append(tuple.__new__(Token, (start, end, word, word.casefold(), capitalised)))
    return tokens


class NameParser:
    """Tokens of one text with the word classes and the name grammar used by the name rules."""

    def __init__(self, text: str, words: Lexicon):
        self.text = text
        self.lowered = lowercase(text)
        self.words = words
        self.tokens = tokenise(text)
        self.starts = [token.start for token in self.tokens]
        self.folds = {token.fold for token in self.tokens}
        # A capital letter alone before a full stop: "J." in "J. Peeters".
        self.initial_flags = [
            len(token.text) == 1 and token.text.isupper() and text[token.end:token.end + 1] == "."
            for token in self.tokens
        ]
        self._sentence_starts: list[bool] | None = None

    # Word classes.

    def _parts(self, token: Token) -> list[str]:
        # One-letter parts are elided particles ("O'Neill", "D'Hondt"), not words.
        if "-" not in token.fold and "'" not in token.fold and "’" not in token.fold:
            return [token.fold]
        return [part for part in _PART_SEPARATOR.split(token.fold) if len(part) > 1]

    def is_given(self, token: Token) -> bool:
        if token.fold in self.words.given_names:
            return True
        parts = self._parts(token)
        return len(parts) > 1 and all(part in self.words.given_names for part in parts)

    def is_surname(self, token: Token) -> bool:
        if token.fold in self.words.surnames:
            return True
        parts = self._parts(token)
        return len(parts) > 1 and parts[-1] in self.words.surnames

    def is_common(self, token: Token, strong: bool = False) -> bool:
        """Tell whether a token is an ordinary word; `strong` (a context announced a name) uses the shorter list."""
        words = self.words.stop_words if strong else self.words.common_words
        if token.fold in words or token.fold in self.words.organisations:
            return True
        parts = self._parts(token)
        if parts and parts != [token.fold] and not self.is_given(token) and not self.is_surname(token):
            return any(part in words or part in self.words.organisations for part in parts)
        return False

    def is_derived_common(self, token: Token) -> bool:
        """Tell whether an unlisted word is the plural or a compound of common words.

        "Zelfdiagnosetests" and "Rijksinstituut" are too rare for the
        frequency lists, but their parts are common words. The head of a compound must
        have five letters or more, so that "Zonneveld" or "Rosenberg" stay
        possible surnames.
        """
        fold = token.fold
        if self.is_given(token) or self.is_surname(token) or len(fold) < 5:
            return False
        words = self.words.common_words
        for ending in _PLURAL_ENDINGS:
            if fold.endswith(ending) and fold[: -len(ending)] in words and len(fold) - len(ending) >= 4:
                return True
        return self._is_compound(fold, words)

    def _is_compound(self, fold: str, words: frozenset[str]) -> bool:
        """Tell whether `fold` splits into common words, the last one (or its plural) of five letters or more."""
        for split in range(3, len(fold) - _MIN_COMPOUND_HEAD + 1):
            head = fold[split:]
            if head not in words and not any(
                head.endswith(ending) and head[: -len(ending)] in words for ending in _PLURAL_ENDINGS
            ):
                continue
            modifier = fold[:split]
            # Dutch may link the parts with an "s" or "e": "rijks" + "instituut".
            if modifier in words or (split > 3 and modifier[-1] in "se" and modifier[:-1] in words):
                return True
            if split >= 3 + _MIN_COMPOUND_HEAD and self._is_compound(modifier, words):
                return True
        return False

    def is_initial(self, index: int) -> bool:
        return self.initial_flags[index]

    def is_capitalised(self, token: Token) -> bool:
        return token.capitalised

    def previous_word(self, index: int) -> str | None:
        """Return the case-folded token before `index` when only spaces separate them."""
        if index == 0 or not self._joined(index - 1, index):
            return None
        return self.tokens[index - 1].fold

    def is_sentence_start(self, index: int) -> bool:
        """Tell whether only a sentence end, a line break or the text start precede the token.

        Quotes, brackets, list marks and heading marks between them do not count.
        """
        if self._sentence_starts is None:
            self._sentence_starts = self._find_sentence_starts()
        return self._sentence_starts[index]

    def _find_sentence_starts(self) -> list[bool]:
        # A token after the first starts a sentence exactly when a sentence break ends at it,
        # because the break's mark cannot lie in a word and the marks skipped after it are no letters.
        break_ends = {match.end() for match in _SENTENCE_BREAK.finditer(self.text)}
        starts = [start in break_ends for start in self.starts]
        if starts:
            starts[0] = self._starts_sentence(0)
        return starts

    def _starts_sentence(self, index: int) -> bool:
        gap_start = self.tokens[index - 1].end if index else 0
        gap = self.text[gap_start:self.tokens[index].start].rstrip(" \t\"'“‘«(*>-–#")
        if not gap:
            return index == 0  # only quotes or marks after the previous word: inside a sentence
        return gap[-1] in ".!?:\n"

    def name_word(self, index: int, allow_lower: bool) -> bool:
        """Tell whether a token can be part of a name once a name has started.

        After a name a capitalised word is rarely anything but more of the
        name, so only the short stop-word list and places end it ("Kyle
        McDonald", "Tom Gent").
        """
        token = self.tokens[index]
        if self.is_initial(index):
            return True
        if self.is_capitalised(token):
            if self.is_given(token) or self.is_surname(token):
                return True
            return not self.is_common(token, strong=True) and token.fold not in self.words.places
        if allow_lower and token.text.islower():
            return self.is_given(token) or self.is_surname(token) or (
                not self.is_common(token) and len(token.text) >= 3
            )
        return False

    # Parsing a name from a token on.

    def _joined(self, left: int, right: int) -> bool:
        gap = self.text[self.tokens[left].end:self.tokens[right].start]
        if self.is_initial(left):
            gap = gap[1:]  # the initial's full stop
        return gap in (" ", "\t", "  ", "") or gap in (" '", "'", " ’")

    def token_at(self, position: int) -> int | None:
        """Return the index of the first token that starts at or after `position`."""
        index = bisect.bisect_left(self.starts, position)
        return index if index < len(self.tokens) else None

    def parse(
        self, index: int, allow_lower: bool, first_checked: bool = False, strong: bool = False
    ) -> tuple[int, int] | None:
        """Read a name from token `index` on; return (end token index, end offset) or None."""
        tokens = self.tokens
        if not first_checked and not self._can_start(index, allow_lower, strong):
            return None
        last = index
        count = 1
        position = index + 1
        # A name that starts with a capital goes on with capitals only ("Roemeense nummerplaat" is no name).
        allow_lower = allow_lower and not self.is_capitalised(tokens[index])
        while position < len(tokens) and count < MAX_NAME_TOKENS and self._joined(position - 1, position):
            token = tokens[position]
            if token.fold in PARTICLES and not self.is_initial(position):
                # A particle belongs to the name only when a surname follows it.
                following = position + 1
                while (
                    following < len(tokens)
                    and tokens[following].fold in PARTICLES
                    and self._joined(following - 1, following)
                ):
                    following += 1
                if (
                    following < len(tokens)
                    and following - position <= 3
                    and self._joined(following - 1, following)
                    and self._surname_after_particle(following, allow_lower)
                ):
                    last = following
                    count += following - position + 1
                    position = following + 1
                    continue
                break
            after_particle = tokens[last].fold in LEADING_PARTICLES and last == index
            if after_particle:
                accepted = self._surname_after_particle(position, allow_lower)
            else:
                accepted = self.name_word(position, allow_lower)
            if not accepted:
                break
            last = position
            count += 1
            position += 1

        if self._all_initials(index, last) or tokens[last].fold in PARTICLES:
            return None  # a lone initial ("J.") or particle ("De") is no name  # a lone initial ("J.") is no name
        end = tokens[last].end
        if self.is_initial(last):
            end += 1
        return last, end

    def _all_initials(self, first: int, last: int) -> bool:
        return all(self.is_initial(position) for position in range(first, last + 1))

    def _surname_after_particle(self, index: int, allow_lower: bool) -> bool:
        # After "van der" a capitalised word is a surname even when it is also a word ("Berg").
        token = self.tokens[index]
        if self.is_capitalised(token):
            if token.fold in self.words.places and not self.is_surname(token):
                return False  # "Karim de Molenbeek": a place of origin
            return token.fold not in self.words.organisations
        if allow_lower and token.text.islower():
            return self.is_surname(token) or not self.is_common(token)
        return False

    def _can_start(self, index: int, allow_lower: bool, strong: bool = False) -> bool:
        token = self.tokens[index]
        if self.is_initial(index):
            return True
        if token.fold in LEADING_PARTICLES and self.is_capitalised(token):
            following = index + 1
            return following < len(self.tokens) and self._joined(index, following) and (
                self._surname_after_particle(following, False)
                or (self.tokens[following].fold in PARTICLES and following + 1 < len(self.tokens))
            )
        if self.is_capitalised(token):
            return self.is_given(token) or self.is_surname(token) or not self.is_common(token, strong)
        if allow_lower and token.text.islower():
            # Lower-case names that are also words ("an", "roos") need a capital to count.
            return token.fold not in self.words.common_words and (self.is_given(token) or self.is_surname(token))
        return False
