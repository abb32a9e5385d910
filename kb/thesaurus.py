"""The domain thesaurus: finds concepts (PZC, druiper, raam...) in a sequence of stemmed words.

The data lives in kb/thesaurus.yaml; its header explains the term syntax.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import yaml

from kb.text import STEMMER_NAMES, stem, words

THESAURUS_PATH = Path(__file__).resolve().parent / "thesaurus.yaml"

# Parts of a "a + b" term must lie within this many words of each other.
CO_OCCURRENCE_WINDOW = 6

# A single word from another language's list applies only when it is this long,
# so that loanwords ("blowjob", "escort") count but short words that mean
# something else in the text's language ("last", "head") do not.
MIN_FOREIGN_WORD_LENGTH = 6


class ThesaurusError(ValueError):
    """The thesaurus file is invalid; the message names the concept and the fix."""


@dataclass(frozen=True)
class CoOccurrence:
    concept: str
    parts: tuple[tuple[str, ...] | str, ...]  # stem tuples, or "@concept" references

    @cached_property
    def first_stems(self) -> frozenset[str]:
        """The first stem of each stem part: a text must contain them all for the rule to match."""
        return frozenset(part[0] for part in self.parts if not isinstance(part, str))

    @cached_property
    def references(self) -> frozenset[str]:
        """The concepts named by "@concept" parts: the text must contain them all for the rule to match."""
        return frozenset(part[1:] for part in self.parts if isinstance(part, str))


@dataclass
class CompiledThesaurus:
    """The thesaurus compiled for texts in one language."""

    language: str
    concept_order: list[str]
    implies: dict[str, tuple[str, ...]]
    phrases_by_first_stem: dict[str, list[tuple[tuple[str, ...], str]]] = field(default_factory=dict)
    co_occurrences: dict[str, list[CoOccurrence]] = field(default_factory=dict)
    single_words: set[str] = field(default_factory=set)


@dataclass
class ConceptMatch:
    concept: str
    implied: bool
    positions: set[int]
    source_words: set[str]


def _stems(term: str, language: str) -> tuple[str, ...]:
    stems: list[str] = []
    for word in words(term):
        stems.extend(stem(part, language) for part in word.split("-") if part)
    return tuple(stems)


def _applies(term: str, term_language: str, text_language: str) -> bool:
    if term_language == text_language:
        return True
    term_words = words(term)
    return len(term_words) > 1 or (len(term_words) == 1 and len(term_words[0]) >= MIN_FOREIGN_WORD_LENGTH)


def load_concepts(path: Path = THESAURUS_PATH) -> list[dict]:
    """Read and check the thesaurus file; raise ThesaurusError naming the bad concept."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    concepts = data.get("concepts")
    if not isinstance(concepts, list):
        raise ThesaurusError(f"{path}: 'concepts' must be a list of concepts.")

    seen: set[str] = set()
    for concept in concepts:
        concept_id = concept.get("id") if isinstance(concept, dict) else None
        if not concept_id:
            raise ThesaurusError(f"{path}: a concept has no id; give each concept 'id: ...'.")
        for reference in concept.get("implies", []):
            if reference not in seen and reference != concept_id and reference not in {c.get("id") for c in concepts}:
                raise ThesaurusError(f"{path}: concept {concept_id!r} implies unknown concept {reference!r}.")
        for language in STEMMER_NAMES:
            for term in concept.get(language, []) or []:
                for part in str(term).split(" + "):
                    part = part.strip()
                    if part.startswith("@") and part[1:] not in seen:
                        raise ThesaurusError(
                            f"{path}: concept {concept_id!r} refers to {part!r} before it is defined; "
                            "move that concept above this one."
                        )
        seen.add(concept_id)
    return concepts


@lru_cache(maxsize=8)
def compiled_thesaurus(language: str, path: Path = THESAURUS_PATH) -> CompiledThesaurus:
    """Compile the thesaurus for texts in `language`, stemming every term with that language's stemmer."""
    concepts = load_concepts(path)
    compiled = CompiledThesaurus(
        language=language,
        concept_order=[concept["id"] for concept in concepts],
        implies={concept["id"]: tuple(concept.get("implies", [])) for concept in concepts},
    )
    phrases: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
    co_occurrences: dict[str, list[CoOccurrence]] = defaultdict(list)

    for concept in concepts:
        concept_id = concept["id"]
        for term_language in STEMMER_NAMES:
            for term in concept.get(term_language, []) or []:
                term = str(term)
                if not _applies(term, term_language, language):
                    continue
                if " + " in term:
                    parts = tuple(
                        part.strip() if part.strip().startswith("@") else _stems(part, language)
                        for part in term.split(" + ")
                    )
                    co_occurrences[concept_id].append(CoOccurrence(concept_id, parts))
                    continue
                stems = _stems(term, language)
                if stems:
                    phrases[stems[0]].append((stems, concept_id))
                for word in words(term):
                    if "-" not in word:
                        compiled.single_words.add(word)

    compiled.phrases_by_first_stem = dict(phrases)
    compiled.co_occurrences = dict(co_occurrences)
    return compiled


def _find_phrase(stems: tuple[str, ...], positions: dict[str, list[int]], phrase: tuple[str, ...]) -> list[int]:
    length = len(phrase)
    return [start for start in positions.get(phrase[0], ()) if stems[start:start + length] == phrase]


def find_concepts(thesaurus: CompiledThesaurus, stems: list[str], surface: list[str]) -> dict[str, ConceptMatch]:
    """Return the concepts found in a text, given its stems and surface words (same length, same order)."""
    found: dict[str, ConceptMatch] = {}
    # A tuple slice compares with a phrase directly, without building a tuple per comparison.
    stems = tuple(stems)

    def record(concept: str, start: int, end: int) -> None:
        match = found.get(concept)
        if match is None:
            match = found[concept] = ConceptMatch(concept, False, set(), set())
        match.positions.update(range(start, end))
        match.source_words.add(" ".join(surface[start:end]))

    # Exact phrases, looked up by their first stem.
    for start, first in enumerate(stems):
        for phrase, concept in thesaurus.phrases_by_first_stem.get(first, ()):
            if stems[start:start + len(phrase)] == phrase:
                record(concept, start, start + len(phrase))

    # Co-occurrences, in file order so that "@concept" parts see earlier concepts.
    # Most rules name a stem or a concept that the text lacks, and set tests rule
    # those out before any phrase search.
    text_stems = set(stems)
    positions_of: dict[str, list[int]] | None = None
    for concept, rules in thesaurus.co_occurrences.items():
        for rule in rules:
            if not (rule.first_stems <= text_stems and rule.references <= found.keys()):
                continue
            if positions_of is None:
                positions_of = _positions(stems)
            spans = _rule_spans(rule, found, stems, positions_of)
            if spans is None:
                continue
            first_spans, second_spans = spans[0], spans[-1]
            for first_start, first_end in first_spans:
                close = [
                    (start, end) for start, end in second_spans
                    if abs(start - first_start) <= CO_OCCURRENCE_WINDOW and (start, end) != (first_start, first_end)
                ]
                if close:
                    start, end = close[0]
                    record(concept, min(first_start, start), max(first_end, end))
                    break

    # Broader concepts implied by the ones found.
    for concept in list(found):
        for broader in thesaurus.implies.get(concept, ()):
            if broader not in found:
                found[broader] = ConceptMatch(broader, True, set(), set(found[concept].source_words))
    return found


def _positions(stems: tuple[str, ...]) -> dict[str, list[int]]:
    positions_of: dict[str, list[int]] = defaultdict(list)
    for position, word_stem in enumerate(stems):
        positions_of[word_stem].append(position)
    return positions_of


def _rule_spans(
    rule: CoOccurrence, found: dict[str, ConceptMatch], stems: tuple[str, ...], positions_of: dict[str, list[int]]
) -> list[list[tuple[int, int]]] | None:
    """Return the (start, end) spans of each part of `rule` in the text, or None when a part is missing."""
    spans: list[list[tuple[int, int]]] = []
    for part in rule.parts:
        if isinstance(part, str):
            reference = found.get(part[1:])
            positions = sorted(reference.positions) if reference and not reference.implied else []
            part_spans = [(position, position + 1) for position in positions]
        else:
            part_spans = [(start, start + len(part)) for start in _find_phrase(stems, positions_of, part)]
        if not part_spans:
            # A part missing from the text rules the rule out, so most rules stop at their first part.
            return None
        spans.append(part_spans)
    return spans
