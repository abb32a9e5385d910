"""Text normalisation for search: accent folding, word splitting, stemming and stop words."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer
from stop_words import get_stop_words

STEMMER_NAMES = {"nl": "dutch", "fr": "french", "en": "english"}

# Words on the standard stop lists that carry meaning in questions about sexual risk.
MEANINGFUL_STOP_WORDS = {"zonder", "sans", "without", "against", "contre", "tegen", "niet", "geen", "not", "pas"}

# French and English elisions: "l'homme", "j'ai", "qu'il"; the elided part is dropped.
_ELISIONS = {"l", "d", "j", "qu", "n", "s", "c", "m", "t", "jusqu", "lorsqu", "puisqu"}
_WORD_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class _CombiningMarks(dict):
    """A str.translate table that drops combining marks and remembers each character it has looked up."""

    def __missing__(self, codepoint: int) -> int | None:
        mapped = None if unicodedata.combining(chr(codepoint)) else codepoint
        self[codepoint] = mapped
        return mapped


_DROP_COMBINING = _CombiningMarks()


# Combining marks are never ASCII, so only runs of other characters need the translate table.
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_ELIDED = re.compile(r"\b([a-z]+)'(?=[a-z])")


def _drop_combining(match: re.Match[str]) -> str:
    return match.group().translate(_DROP_COMBINING)


@lru_cache(maxsize=16)
def fold(text: str) -> str:
    """Lower-case `text` and strip accents, so that 'dépistage' and 'depistage' compare equal.

    Cached because one mail's text is folded for language detection, urgency and search.
    """
    folded = text.casefold()
    # ASCII text has nothing to decompose, and most mail is mostly ASCII.
    if folded.isascii():
        return folded
    # str.translate looks up every character of a non-ASCII string in the table, so it runs on the non-ASCII runs alone.
    stripped = _NON_ASCII_RUN.sub(_drop_combining, unicodedata.normalize("NFKD", folded))
    return stripped.replace("’", "'").replace("ʼ", "'")


def _split_elision(match: re.Match[str]) -> str:
    return "" if match.group(1) in _ELISIONS else match.group(1) + " "


def words(text: str) -> list[str]:
    """Split folded text into words; hyphenated words stay whole ('soa-test')."""
    folded = fold(text)
    # Drop elided articles and pronouns before splitting on the apostrophe.
    if "'" in folded:
        folded = _ELIDED.sub(_split_elision, folded)
    return _WORD_PATTERN.findall(folded)


@lru_cache(maxsize=8)
def _stemmer(language: str):
    return snowballstemmer.stemmer(STEMMER_NAMES.get(language, "dutch"))


@lru_cache(maxsize=200_000)
def stem(word: str, language: str) -> str:
    return _stemmer(language).stemWord(word)


@lru_cache(maxsize=8)
def _alternative_stemmer(language: str):
    return snowballstemmer.stemmer("dutch_porter") if language == "nl" else None


@lru_cache(maxsize=200_000)
def alternative_stem(word: str, language: str) -> str | None:
    """Return Dutch words' stem by the older Porter-style rules, when it differs from `stem`.

    The current Dutch Snowball stemmer removes the participle prefix "ge-", so
    "gescheurd" meets "scheuren", but it also turns "gemeente" into "meen" and
    "geweld" into "wel". Indexing both stems keeps such nouns apart from
    everyday words while participles still match.
    """
    stemmer = _alternative_stemmer(language)
    if stemmer is None:
        return None
    alternative = stemmer.stemWord(word)
    return alternative if alternative != stem(word, language) else None


@lru_cache(maxsize=8)
def stop_words(language: str) -> frozenset[str]:
    """Return the folded stop words of `language`, without the ones listed in MEANINGFUL_STOP_WORDS."""
    names = {"nl": "dutch", "fr": "french", "en": "english"}
    listed = {fold(word) for word in get_stop_words(names.get(language, "dutch"))}
    return frozenset(listed - MEANINGFUL_STOP_WORDS)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\n(?=\s*[-*•]\s)")


def split_sentences(text: str) -> list[str]:
    """Split text into sentences at end punctuation, blank lines and list items."""
    sentences = []
    for chunk in _SENTENCE_END.split(text):
        chunk = " ".join(chunk.split())
        if chunk:
            sentences.append(chunk)
    return sentences
