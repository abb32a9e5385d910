"""Shortcuts in the per-mail analysis must give the results of the full computation."""

import datetime as dt
import re._parser as regex_parser

import numpy as np
import pytest

from kb.analysis import Analyzer
from kb.index import _sum_by_document
from kb.text import fold, split_sentences
from kb.thesaurus import compiled_thesaurus, find_concepts
from kb.urgency import (
    CONDOM_INCIDENT,
    CONFINEMENT,
    DANGER_SIGNS,
    EXPLICIT_DATE,
    LOOKS_YOUNG,
    MINOR,
    MINOR_SIGNS,
    NUMERIC_DATE,
    OLD,
    RECENT,
    UNPROTECTED,
    VIOLENCE,
    WEEKDAY,
    _first_matching_line,
    _matches_a_line,
    assess_urgency,
)

# Every pattern that _matches_a_line searches in the newline-joined sentences.
LINE_PATTERNS = [
    CONDOM_INCIDENT,
    UNPROTECTED,
    DANGER_SIGNS,
    CONFINEMENT,
    VIOLENCE,
    MINOR_SIGNS,
    LOOKS_YOUNG,
    RECENT,
    WEEKDAY,
    OLD,
    EXPLICIT_DATE,
    NUMERIC_DATE,
]
# Anchors that behave differently at a newline than at the start or end of a sentence.
_LINE_ANCHORS = {
    regex_parser.AT_BEGINNING,
    regex_parser.AT_BEGINNING_STRING,
    regex_parser.AT_END,
    regex_parser.AT_END_STRING,
}


def _context_sensitive_nodes(parsed) -> list[str]:
    """Return the anchors, lookbehinds and positive lookaheads in a parsed pattern."""
    found = []
    for operation, argument in parsed:
        if operation is regex_parser.AT and argument in _LINE_ANCHORS:
            found.append(str(argument))
        elif operation in (regex_parser.ASSERT, regex_parser.ASSERT_NOT):
            direction, body = argument
            if direction < 0 or operation is regex_parser.ASSERT:
                found.append(f"{operation} {direction}")
            found.extend(_context_sensitive_nodes(body))
        elif operation is regex_parser.BRANCH:
            for branch in argument[1]:
                found.extend(_context_sensitive_nodes(branch))
        elif operation is regex_parser.SUBPATTERN:
            found.extend(_context_sensitive_nodes(argument[-1]))
        elif operation in (regex_parser.MAX_REPEAT, regex_parser.MIN_REPEAT, regex_parser.POSSESSIVE_REPEAT):
            found.extend(_context_sensitive_nodes(argument[2]))
    return found


@pytest.mark.parametrize("pattern", LINE_PATTERNS, ids=lambda pattern: pattern.pattern[:30])
def test_line_patterns_have_no_anchors(pattern):
    assert _context_sensitive_nodes(regex_parser.parse(pattern.pattern)) == []


def test_sentence_end_lookahead_matches_across_lines():
    # "17" ends its sentence, so the "not an age" lookahead must not see the next one.
    sentences = split_sentences(fold("Ze zei 17\n\nuur later belde ik het nummer"))
    assert len(sentences) == 2
    assert MINOR_SIGNS.search(sentences[0])
    assert _matches_a_line("\n".join(sentences), MINOR_SIGNS)
    assert MINOR in assess_urgency("Ze zei 17\n\nuur later belde ik het nummer", dt.date(2026, 11, 2)).reasons


def test_line_check_rejects_text_without_trigger():
    lines = "\n".join(split_sentences(fold("Waar kan ik me anoniem laten testen? Groeten")))
    assert not _matches_a_line(lines, *LINE_PATTERNS)


def test_first_matching_line_finds_trigger_sentence():
    sentences = ["ik werk in een privehuis.", "alles ging goed.", "toen is het condoom gescheurd."]
    assert _first_matching_line("\n".join(sentences), CONDOM_INCIDENT, UNPROTECTED) == 2
    assert _first_matching_line("\n".join(sentences[:2]), CONDOM_INCIDENT, UNPROTECTED) is None


@pytest.mark.parametrize(
    "text",
    [
        "Het condoom is gescheurd. Moet ik PEP nemen? Ik heb ook een vraag over PrEP.",
        "Seks zonder condoom met een klant, en ik weet niet of het condoom gescheurd was.",
        "Le préservatif a craqué. Est-ce que je peux me faire dépister gratuitement ?",
        "",
    ],
)
def test_term_keys_match_analyze(text):
    analyzer = Analyzer()
    for language in ("nl", "fr", "en"):
        assert analyzer.term_keys(text, language) == set(analyzer.analyze(text, language))


def test_co_occurrence_with_reference_is_found():
    surface = ["zonder", "een", "condoom"]
    stems = ["zonder", "een", "condoom"]
    found = find_concepts(compiled_thesaurus("nl"), stems, surface)
    assert "zonder-condoom" in found
    assert found["zonder-condoom"].positions == {0, 1, 2}


def test_sum_by_document_repeats_sequential_adds():
    generator = np.random.default_rng(3)
    postings = []
    for _ in range(40):
        positions = np.sort(generator.choice(70, size=generator.integers(1, 30), replace=False))
        postings.append((positions, generator.random(len(positions)) * 10))
    weights = list(generator.random(40) * 2)

    expected = np.zeros(70)
    for (positions, impacts), weight in zip(postings, weights):
        expected[positions] += weight * impacts
    summed = _sum_by_document(postings, weights, 70)
    # Bitwise equal: the same float operations in the same order.
    assert summed.tobytes() == expected.tobytes()


def test_sum_by_document_without_postings():
    assert _sum_by_document([], [], 5).tolist() == [0.0] * 5
