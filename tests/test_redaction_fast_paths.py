"""Shortcuts that let the detectors skip work, each checked against the result of the full work."""

from __future__ import annotations

import sys

import pytest
from hypothesis import example, given, settings, strategies as st

from helpdesk.redaction import detect
from helpdesk.redaction.context import DIGIT, lowercase, uppercase
from helpdesk.redaction.lexicon import lexicon
from helpdesk.redaction.name_contexts import GREETING, LABEL
from helpdesk.redaction.name_parser import NameParser
from helpdesk.redaction.names import NameFinder


def found(text: str) -> list[tuple[str, str]]:
    return [(entity.type, text[entity.start:entity.end]) for entity in detect(text)]


def test_case_changes_keep_every_digit():
    # The finders test the original text for digits before they scan a case-changed copy.
    every_character = "".join(chr(code) for code in range(sys.maxunicode + 1) if not 0xD800 <= code <= 0xDFFF)
    digits = [match.start() for match in DIGIT.finditer(every_character)]

    assert [match.start() for match in DIGIT.finditer(lowercase(every_character))] == digits
    assert [match.start() for match in DIGIT.finditer(uppercase(every_character))] == digits


# No deadline: the first example also loads the word lists.
@settings(deadline=None, max_examples=300)
@given(st.text(alphabet="abAB .!?:\n\t\"'“‘«(*>-–#1_,;", max_size=60))
def test_sentence_starts_match_gap_rule(text):
    parser = NameParser(text, lexicon())
    by_gap = [parser._starts_sentence(index) for index in range(len(parser.tokens))]

    assert parser._find_sentence_starts() == by_gap


# Line breaks inside labels ("first\nname:") test that matches do not overlap.
@settings(deadline=None, max_examples=300)
@given(
    st.lists(
        st.sampled_from(["\n", " ", "\t", ">", ":", "first", "name", "naam", "beste", "hallo", "daar", "dhr.", "Jan", "x"]),
        max_size=20,
    ).map("".join),
)
@example("first\nname: Jan")
@example("hallo\n\nbeste dhr. Jan")
def test_line_patterns_match_finditer(text):
    finder = NameFinder(text, lexicon())
    for pattern in (GREETING, LABEL):
        match_ends = []
        finder._parse_after = lambda position, allow_lower, strong=True: match_ends.append(position)

        finder.after_line_pattern(pattern, allow_lower=True)

        assert match_ends == [match.end() for match in pattern.finditer(finder.lowered)]


@pytest.mark.parametrize(
    ("text", "entity_type", "value"),
    [
        ("mail lola(at)example(dot)be", "EMAIL", "lola(at)example(dot)be"),
        ("stuur naar lola [apenstaart] example.be", "EMAIL", "lola [apenstaart] example.be"),
        ("KIJK OP WWW.LOLA-ESCORT.BE", "URL", "WWW.LOLA-ESCORT.BE"),
        ("server abcd:ef::ab logt alles", "IP_ADDRESS", "abcd:ef::ab"),
        ("mijn reddit is u/lolavip", "HANDLE", "u/lolavip"),
        ("skype live:lola.vip", "HANDLE", "live:lola.vip"),
        ("Geen cijfers hier, groeten Annelies Verhaegen", "PERSON", "Annelies Verhaegen"),
    ],
)
def test_details_without_common_marks(text, entity_type, value):
    assert (entity_type, value) in found(text)


def test_text_without_digits_has_no_numbers():
    entities = detect("Geen nummers, geen adres en geen nummerplaat: Kerkstraat, plaat ABC.")

    assert [entity.type for entity in entities if entity.type != "PERSON"] == []


def test_title_case_judged_per_line():
    # "Roos" is an ordinary word in the title-cased first line but a name in the sentence below.
    text = "Rose Garden Massage Salon Roos Aalst\nGisteren belde Roos me nog."
    second_mention = text.rindex("Roos")

    starts = [entity.start for entity in detect(text) if entity.type == "PERSON"]

    assert second_mention in starts
