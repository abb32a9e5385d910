"""Turning text into weighted search terms: stems, compound parts, spelling fixes and concepts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from wordfreq import zipf_frequency

from kb.text import alternative_stem, stem, stop_words, words
from kb.thesaurus import ConceptMatch, compiled_thesaurus, find_concepts

# Relative weights of the term kinds; a plain stem counts 1.
PART_WEIGHT = 0.6  # part of a hyphenated word or of a split compound
SPELLING_WEIGHT = 0.8  # a misspelt word replaced by its nearest index word
CONCEPT_WEIGHT = 1.2  # a thesaurus concept found in the text
IMPLIED_CONCEPT_WEIGHT = 0.4  # a broader concept implied by one found

CONCEPT_PREFIX = "="
ALTERNATIVE_PREFIX = "~"
# Share of a Dutch word's weight on its current Snowball stem when the older
# Porter-style stem differs; the rest goes to that alternative stem.
STEM_SHARE = 0.7

MIN_PART_LENGTH = 3
# Three-letter compound parts are accepted only when they are domain words
# (soa, hiv, pep): most others are prefixes ("ver", "ont") that split wrongly.
MIN_COMMON_PART_LENGTH = 4
MIN_COMPOUND_LENGTH = 6
MIN_SPELLING_LENGTH = 5
# Words at least this common in the text's language (wordfreq Zipf scale) are
# real words, not misspellings, even when no article uses them.
REAL_WORD_ZIPF = 2.0

# Everyday words show little about which article fits, even when few articles
# contain them. In questions, a word's weight falls linearly from 1 at this
# Zipf frequency (wordfreq) to COMMON_WORD_WEIGHT at COMMON_WORD_ZIPF.
RARE_WORD_ZIPF = 4.5
COMMON_WORD_ZIPF = 6.5
COMMON_WORD_WEIGHT = 0.4

# Maximum number of words whose terms an Analyzer caches. Past this the cache is cleared.
MAX_CACHED_WORDS = 100_000

# Redaction placeholders such as "[naam]" and links carry no meaning for search.
_NOISE = re.compile(r"\[[a-z\- ]+\]|https?://\S+|www\.\S+|\]\([^)]*\)")


@dataclass
class Term:
    weight: float
    sources: set[str] = field(default_factory=set)


def _add(terms: dict[str, Term], key: str, weight: float, source: str) -> None:
    term = terms.get(key)
    if term is None:
        terms[key] = Term(weight, {source})
        return
    term.weight = max(term.weight, weight)
    term.sources.add(source)


def split_compound(
    word: str,
    vocabulary: frozenset[str] | set[str],
    depth: int = 2,
    short_words: frozenset[str] | set[str] = frozenset(),
) -> list[str] | None:
    """Split a compound into known words ('condoomgebruik' -> condoom, gebruik), or return None.

    Handles the Dutch linking 's' and 'en' ('geslachtsziekte' -> geslacht, ziekte) and
    prefers the split with the longest shortest part.
    """
    best: list[str] | None = None
    for cut in range(MIN_PART_LENGTH, len(word) - MIN_PART_LENGTH + 1):
        left, right = word[:cut], word[cut:]
        left_word = _known_left_part(left, vocabulary, short_words)
        if left_word is None:
            continue
        if _acceptable_part(right, vocabulary, short_words):
            candidate = [left_word, right]
        elif depth > 1:
            rest = split_compound(right, vocabulary, depth - 1, short_words)
            if rest is None:
                continue
            candidate = [left_word, *rest]
        else:
            continue
        if best is None or (len(candidate), -min(map(len, candidate))) < (len(best), -min(map(len, best))):
            best = candidate
    return best


def _acceptable_part(part: str, vocabulary: frozenset[str] | set[str], short_words: frozenset[str] | set[str]) -> bool:
    if len(part) < MIN_COMMON_PART_LENGTH:
        return part in short_words
    return part in vocabulary


def _known_left_part(left: str, vocabulary: frozenset[str] | set[str], short_words: frozenset[str] | set[str]) -> str | None:
    if _acceptable_part(left, vocabulary, short_words):
        return left
    for linking in ("s", "en", "e"):
        base = left[: -len(linking)]
        if left.endswith(linking) and _acceptable_part(base, vocabulary, short_words):
            return base
    return None


class SpellingCorrector:
    """Finds the index word nearest to a misspelt word (Levenshtein distance, rapidfuzz)."""

    def __init__(self, vocabulary: set[str]):
        self.words = sorted(word for word in vocabulary if len(word) >= MIN_SPELLING_LENGTH - 1)
        self.correct = lru_cache(maxsize=50_000)(self._correct)

    def _correct(self, word: str) -> tuple[str, float] | None:
        if len(word) < MIN_SPELLING_LENGTH or word.isdigit():
            return None
        max_distance = 1 if len(word) <= 7 else 2
        match = process.extractOne(word, self.words, scorer=Levenshtein.distance, score_cutoff=max_distance)
        if match is None:
            return None
        corrected, distance, _ = match
        return corrected, 1.0 - distance / max(len(word), len(corrected))


@lru_cache(maxsize=100_000)
def is_real_word(word: str, language: str) -> bool:
    return zipf_frequency(word, language) >= REAL_WORD_ZIPF


@lru_cache(maxsize=100_000)
def commonness_weight(word: str, language: str) -> float:
    """Return 1 for a rare word, falling to COMMON_WORD_WEIGHT for the most common words of `language`."""
    zipf = zipf_frequency(word, language)
    share = min(1.0, max(0.0, (zipf - RARE_WORD_ZIPF) / (COMMON_WORD_ZIPF - RARE_WORD_ZIPF)))
    return 1.0 - (1.0 - COMMON_WORD_WEIGHT) * share


def _content_words(text_words: list[str], ignored: frozenset[str]) -> list[str]:
    """Return the words that carry meaning, without stop words and without single letters other than digits."""
    return [word for word in text_words if not (word in ignored or (len(word) < 2 and not word.isdigit()))]


def _concepts(text_words: list[str], language: str) -> dict[str, ConceptMatch]:
    surface = [part for word in text_words for part in word.split("-") if part]
    stems = [stem(part, language) for part in surface]
    return find_concepts(compiled_thesaurus(language), stems, surface)


class Analyzer:
    """Turns text into weighted terms; the same analysis runs on articles and on questions.

    `vocabulary` (surface words of the indexed articles and the thesaurus) enables
    compound splitting. `known_terms` and `spelling` enable spelling correction of
    question words that no article contains.
    """

    def __init__(
        self,
        vocabulary: frozenset[str] | set[str] = frozenset(),
        known_terms: set[str] | None = None,
        spelling: SpellingCorrector | None = None,
        damp_common_words: bool = False,
        short_words: frozenset[str] | set[str] = frozenset(),
    ):
        self.vocabulary = vocabulary
        self.known_terms = known_terms
        self.spelling = spelling
        self.damp_common_words = damp_common_words
        self.short_words = short_words
        # The terms that each (word, language) adds, in the order added. A word's
        # terms depend on nothing else, and mails repeat their words.
        self._word_terms: dict[tuple[str, str], list[tuple[str, float, str]]] = {}

    def analyze(self, text: str, language: str, count: bool = False) -> dict[str, Term]:
        """Return the weighted terms of `text`.

        A term found several times keeps its highest weight, or with `count` the
        sum of its weights, which serves as the term frequency of an article field.
        """
        text_words = words(_NOISE.sub(" ", text))
        terms: dict[str, Term] = {}
        self._add_concepts(terms, text_words, language)

        ignored = stop_words(language)
        for word in _content_words(text_words, ignored):
            entries = self._word_entries(word, language, ignored)
            if not count:
                for key, weight, source in entries:
                    _add(terms, key, weight, source)
                continue
            occurrence: dict[str, Term] = {}
            for key, weight, source in entries:
                _add(occurrence, key, weight, source)
            for key, term in occurrence.items():
                total = terms.setdefault(key, Term(0.0))
                total.weight += term.weight
                total.sources.update(term.sources)
        return terms

    def term_keys(self, text: str, language: str) -> set[str]:
        """Return the keys of `analyze(text, language)`, without the work of weighing the terms."""
        text_words = words(_NOISE.sub(" ", text))
        keys = {CONCEPT_PREFIX + concept for concept in _concepts(text_words, language)}
        ignored = stop_words(language)
        for word in _content_words(text_words, ignored):
            keys.update(key for key, _, _ in self._word_entries(word, language, ignored))
        return keys

    def _add_concepts(self, terms: dict[str, Term], text_words: list[str], language: str) -> None:
        for concept, match in _concepts(text_words, language).items():
            weight = IMPLIED_CONCEPT_WEIGHT if match.implied else CONCEPT_WEIGHT
            for source in match.source_words or {concept}:
                _add(terms, CONCEPT_PREFIX + concept, weight, source)

    def _word_entries(self, word: str, language: str, ignored: frozenset[str]) -> list[tuple[str, float, str]]:
        """Return the (key, weight, source) entries that `word` adds, from the cache when it has them."""
        cache_key = (word, language)
        added = self._word_terms.get(cache_key)
        if added is None:
            added = self._analyze_word(word, language, ignored)
            if len(self._word_terms) >= MAX_CACHED_WORDS:
                self._word_terms.clear()
            self._word_terms[cache_key] = added
        return added

    def _analyze_word(self, word: str, language: str, ignored: frozenset[str]) -> list[tuple[str, float, str]]:
        added: list[tuple[str, float, str]] = []
        base = commonness_weight(word, language) if self.damp_common_words else 1.0
        if "-" in word:
            parts = [part for part in word.split("-") if part]
            # "est-ce", "peut-etre": function words joined by a hyphen.
            if all(part in ignored for part in parts):
                return added
            added.append((stem(word.replace("-", ""), language), base, word))
            for part in parts:
                if part not in ignored and len(part) >= 2:
                    added.append((stem(part, language), PART_WEIGHT * base, word))
            return added

        word_stem = stem(word, language)
        alternative = alternative_stem(word, language)
        if alternative is None:
            added.append((word_stem, base, word))
        else:
            added.append((word_stem, base * STEM_SHARE, word))
            added.append((ALTERNATIVE_PREFIX + alternative, base * (1 - STEM_SHARE), word))

        parts = None
        if self.vocabulary and len(word) >= MIN_COMPOUND_LENGTH:
            parts = split_compound(word, self.vocabulary, short_words=self.short_words)
            for part in parts or ():
                if part not in ignored:
                    added.append((stem(part, language), PART_WEIGHT * base, word))

        if parts or self.spelling is None or self.known_terms is None:
            return added
        if word_stem in self.known_terms or word in self.vocabulary or is_real_word(word, language):
            return added
        correction = self.spelling.correct(word)
        if correction is not None:
            corrected, similarity = correction
            added.append((stem(corrected, language), SPELLING_WEIGHT * similarity, word))
        return added
