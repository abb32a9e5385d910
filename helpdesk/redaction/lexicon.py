"""Word lists for name detection, loaded once per process from the data folder.

Given names and surnames come from the `data/*.txt` files kept with the code.
Common Dutch, French and English words come from the frequency lists of the
wordfreq package, minus every listed given name, plus `data/not_names.txt` and
the sexual-health vocabulary of `data/medical_terms.txt`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import wordfreq

DATA_DIR = Path(__file__).with_name("data")

# How many of the most frequent words of each language count as common words.
# Larger lists stop more false names but also swallow more rare names: the
# long tail of these lists contains many given names (rank 19760 in Dutch is
# "lindsey"). Where a context already announces a name, only the
# shorter STOP_WORD_COUNTS lists stop it.
COMMON_WORD_COUNTS = {"nl": 25000, "fr": 12000, "en": 12000}
STOP_WORD_COUNTS = {"nl": 5000, "fr": 4000, "en": 4000}


@dataclass(frozen=True)
class Lexicon:
    """Case-folded word sets used by the name detector."""

    given_names: frozenset[str]
    surnames: frozenset[str]
    ordinary_word_names: frozenset[str]
    context_only_names: frozenset[str]
    common_words: frozenset[str]
    stop_words: frozenset[str]
    organisations: frozenset[str]
    places: frozenset[str]


def read_word_list(name: str) -> set[str]:
    """Read one data file: one entry a line, `#` starts a comment line."""
    path = DATA_DIR / name
    words = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.add(line.casefold())
    return words


def read_word_lists(pattern: str) -> set[str]:
    """Read and merge every data file whose name matches `pattern`."""
    words: set[str] = set()
    for path in sorted(DATA_DIR.glob(pattern)):
        words |= read_word_list(path.name)
    return words


def _frequent_words(counts: dict[str, int]) -> set[str]:
    words: set[str] = set()
    for language, count in counts.items():
        words.update(word.casefold() for word in wordfreq.top_n_list(language, count))
    return words


@functools.cache
def lexicon() -> Lexicon:
    """Load the word lists; the result is cached for the life of the process."""
    given_names = read_word_lists("given_names_*.txt")
    surnames = read_word_lists("surnames_*.txt")
    ordinary_word_names = read_word_list("names_ordinary_words.txt")
    context_only_names = read_word_list("names_needing_context.txt")
    organisations = read_word_list("organisations.txt")
    places = read_word_list("places.txt")
    # Multi-word places ("Bergen op Zoom") are looked up word by word.
    places |= {part for place in places for part in place.split() if len(part) > 2}

    # Listed surnames stay common words when they are frequent ("lange", "bakker"): the rules
    # accept them where a surname is expected, but not as a name on their own.
    not_names = ordinary_word_names | context_only_names | read_word_list("not_names.txt")
    not_names |= read_word_list("medical_terms.txt")
    common_words = (_frequent_words(COMMON_WORD_COUNTS) - given_names) | not_names
    stop_words = (_frequent_words(STOP_WORD_COUNTS) - given_names) | not_names

    return Lexicon(
        given_names=frozenset(given_names),
        surnames=frozenset(surnames),
        ordinary_word_names=frozenset(ordinary_word_names),
        context_only_names=frozenset(context_only_names),
        common_words=frozenset(common_words),
        stop_words=frozenset(stop_words),
        organisations=frozenset(organisations),
        places=frozenset(places),
    )
