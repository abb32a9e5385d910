"""Scoring of detected spans against annotated e-mails.

Definitions follow the annotation guideline of the evaluation sets:

- an annotated entity is *found* when predicted spans of any type cover at
  least 80 % of its characters; typed recall also needs the same type;
- precision is per character: the share of predicted characters that lie
  inside annotated entities;
- a *leak* is an annotated entity of which 4 or more letters and digits stay
  uncovered (all of them, for an entity with fewer than 4).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

FOUND_COVERAGE = 0.8
LEAK_CHARACTERS = 4


@dataclass
class Document:
    """One annotated text: the gold entities as (start, end, type) tuples."""

    id: str
    text: str
    entities: list[tuple[int, int, str]]


@dataclass
class Score:
    """Counts accumulated over a set of documents."""

    gold: Counter = field(default_factory=Counter)
    found: Counter = field(default_factory=Counter)
    found_typed: Counter = field(default_factory=Counter)
    leaks: Counter = field(default_factory=Counter)
    predicted_characters: Counter = field(default_factory=Counter)
    predicted_inside_gold: Counter = field(default_factory=Counter)
    documents: int = 0
    documents_without_leak: int = 0
    pii_free_documents: int = 0
    pii_free_documents_flagged: int = 0
    leaked: list[tuple[str, str, str]] = field(default_factory=list)
    missed: list[tuple[str, str, str]] = field(default_factory=list)
    false_spans: list[tuple[str, str, str]] = field(default_factory=list)

    def recall(self, entity_type: str | None = None, typed: bool = False) -> float:
        counts = self.found_typed if typed else self.found
        if entity_type is None:
            total = sum(self.gold.values())
            return sum(counts.values()) / total if total else 1.0
        total = self.gold[entity_type]
        return counts[entity_type] / total if total else 1.0

    def precision(self, entity_type: str | None = None) -> float:
        if entity_type is None:
            total = sum(self.predicted_characters.values())
            return sum(self.predicted_inside_gold.values()) / total if total else 1.0
        total = self.predicted_characters[entity_type]
        return self.predicted_inside_gold[entity_type] / total if total else 1.0


def load_documents(path: Path) -> list[Document]:
    """Read a JSON Lines file with `id`, `text` and `entities` (start, end, type) per line."""
    documents = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            entities = [(entity["start"], entity["end"], entity["type"]) for entity in record.get("entities", [])]
            documents.append(Document(str(record.get("id", number)), record["text"], entities))
    return documents


def _covered_mask(length: int, spans) -> list[bool]:
    mask = [False] * length
    for start, end, _type in spans:
        for position in range(max(0, start), min(length, end)):
            mask[position] = True
    return mask


def score_document(score: Score, document: Document, predicted: list[tuple[int, int, str]]) -> None:
    """Add one document's counts to `score`."""
    text = document.text
    covered = _covered_mask(len(text), predicted)
    gold_mask = _covered_mask(len(text), document.entities)
    leaked = False

    for start, end, entity_type in document.entities:
        score.gold[entity_type] += 1
        length = end - start
        covered_count = sum(covered[start:end])
        if length and covered_count / length >= FOUND_COVERAGE:
            score.found[entity_type] += 1
        else:
            score.missed.append((document.id, entity_type, text[start:end]))
        typed_mask = _covered_mask(len(text), [span for span in predicted if span[2] == entity_type])
        if length and sum(typed_mask[start:end]) / length >= FOUND_COVERAGE:
            score.found_typed[entity_type] += 1

        significant = [position for position in range(start, end) if text[position].isalnum()]
        uncovered = sum(1 for position in significant if not covered[position])
        if uncovered >= min(LEAK_CHARACTERS, len(significant)) and uncovered > 0:
            score.leaks[entity_type] += 1
            score.leaked.append((document.id, entity_type, text[start:end]))
            leaked = True

    for start, end, entity_type in predicted:
        inside = sum(gold_mask[start:end])
        score.predicted_characters[entity_type] += end - start
        score.predicted_inside_gold[entity_type] += inside
        if inside < end - start:
            score.false_spans.append((document.id, entity_type, text[start:end]))

    score.documents += 1
    if not leaked:
        score.documents_without_leak += 1
    if not document.entities:
        score.pii_free_documents += 1
        if predicted:
            score.pii_free_documents_flagged += 1
