"""Search analysis: accent folding, compounds, thesaurus concepts, misspellings, language detection."""

import pytest

from kb.analysis import Analyzer, split_compound
from kb.index import ArticleIndex, ArticleRecord
from kb.language import detect_language
from kb.text import fold, stem, words
from kb.thesaurus import ThesaurusError, compiled_thesaurus, find_concepts, load_concepts

VOCABULARY = frozenset({"soa", "test", "condoom", "gebruik", "geslacht", "ziekte", "raam", "prostitutie", "hiv"})
SHORT_WORDS = frozenset({"soa", "hiv"})


def concepts(text: str, language: str = "nl") -> set[str]:
    terms = Analyzer().analyze(text, language)
    return {key[1:] for key in terms if key.startswith("=")}


def test_fold_strips_accents_and_case():
    assert fold("Dépistage Préservatif") == "depistage preservatif"


def test_words_keep_hyphenated_words_whole():
    assert words("Een soa-test, l'homme!") == ["een", "soa-test", "homme"]


@pytest.mark.parametrize(
    ("word", "parts"),
    [
        ("soatest", ["soa", "test"]),
        ("condoomgebruik", ["condoom", "gebruik"]),
        ("geslachtsziekte", ["geslacht", "ziekte"]),  # linking 's'
        ("raamprostitutie", ["raam", "prostitutie"]),
    ],
)
def test_split_compound_finds_known_parts(word, parts):
    assert split_compound(word, VOCABULARY, short_words=SHORT_WORDS) == parts


def test_split_compound_rejects_unknown_parts():
    assert split_compound("vertrouwelijk", VOCABULARY, short_words=SHORT_WORDS) is None


def test_split_compound_rejects_short_non_domain_parts():
    # "ver" is a prefix, not a word that an article is about.
    assert split_compound("verziekte", VOCABULARY | {"ver"}, short_words=SHORT_WORDS) is None


def test_hyphenated_and_joined_forms_share_a_term():
    analyzer = Analyzer(VOCABULARY, short_words=SHORT_WORDS)
    hyphenated = analyzer.analyze("soa-test", "nl")
    joined = analyzer.analyze("soatest", "nl")
    assert set(hyphenated) & set(joined) >= {"soatest", "soa", "test"}


@pytest.mark.parametrize(
    ("text", "language", "concept"),
    [
        ("Is PZC gevaarlijk?", "nl", "pijpen-zonder-condoom"),
        ("Ze heeft me gepijpt zonder condoom", "nl", "pijpen-zonder-condoom"),
        ("fellation sans préservatif, c'est risqué ?", "fr", "pijpen-zonder-condoom"),
        ("Is a bareback blowjob risky?", "en", "pijpen-zonder-condoom"),
        ("Ik denk dat ik de druiper heb", "nl", "gonorroe"),
        ("Kan ik een geslachtsziekte hebben?", "nl", "soa"),
        ("Ik ging naar een dame achter het raam", "nl", "raam"),
        ("Mag ik bloed geven na een risico?", "nl", "bloedgift"),
        ("Het condoom is tijdens de seks gescheurd", "nl", "condoom-incident"),
        ("my condom broke last night", "en", "condoom-incident"),
        ("Waar haal ik PEP?", "nl", "pep"),
        ("NZC bij een escort", "nl", "neuken-zonder-condoom"),
    ],
)
def test_thesaurus_finds_concept(text, language, concept):
    assert concept in concepts(text, language)


def test_thesaurus_adds_implied_concepts():
    found = concepts("Ik heb de druiper")
    assert "soa" in found


def test_thesaurus_ignores_short_foreign_words():
    # "last" is an English word; in Dutch "last van" means having complaints.
    assert "klachten" not in concepts("last night was fine", "en")
    assert "klachten" in concepts("ik heb last van jeuk", "nl")


def test_thesaurus_rejects_reference_before_definition(tmp_path):
    path = tmp_path / "thesaurus.yaml"
    path.write_text("concepts:\n  - id: later\n    nl: ['@earlier + woord']\n  - id: earlier\n    nl: [iets]\n", encoding="utf-8")
    with pytest.raises(ThesaurusError, match="before it is defined"):
        load_concepts(path)


def test_shipped_thesaurus_loads():
    assert len(load_concepts()) > 50


def test_misspelt_word_matches_article_word():
    index = ArticleIndex(
        [
            ArticleRecord("gescheurd", "nl", "gezondheid", "Condoom gescheurd", "Wat nu na een gescheurd condoom."),
            ArticleRecord("kosten", "nl", "testen", "Wat kost een test", "De prijs van een test bij de huisarts."),
        ]
    )
    terms = index.analyze("gescheurt", "nl")
    hits = index.search(terms, "nl")
    assert hits[0].slug == "gescheurd"
    assert "gescheurt" in hits[0].matched_terms


def test_real_words_are_not_corrected():
    index = ArticleIndex([ArticleRecord("kosten", "nl", "testen", "Wat kost een test", "De kosten van een test.")])
    # "kasten" is one letter from "kosten" but a Dutch word in its own right.
    terms = index.analyze("kasten", "nl")
    assert stem("kosten", "nl") not in terms
    assert stem("kasten", "nl") in terms


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hallo, mijn condoom is gisteren gescheurd en ik maak me zorgen. Wat moet ik doen?", "nl"),
        ("Bonjour, le préservatif a craqué hier soir. Que dois-je faire maintenant ?", "fr"),
        ("Hi, the condom broke yesterday with an escort. What should I do now?", "en"),
    ],
)
def test_detect_language(text, language):
    assert detect_language(text) == language


def test_short_text_defaults_to_dutch():
    assert detect_language("PZC?") == "nl"
    assert detect_language("ok thanks") == "nl"


def test_every_thesaurus_term_finds_its_concept():
    missed = []
    for concept in load_concepts():
        for language in ("nl", "fr", "en"):
            for term in concept.get(language) or []:
                if " + " in str(term):
                    continue
                surface = [part for word in words(str(term)) for part in word.split("-") if part]
                stems = [stem(part, language) for part in surface]
                found = find_concepts(compiled_thesaurus(language), stems, surface)
                if concept["id"] not in found or found[concept["id"]].implied:
                    missed.append((concept["id"], language, term))
    assert missed == []


def test_dutch_words_get_both_stems():
    analyzer = Analyzer()
    municipality = analyzer.analyze("gemeente", "nl")
    opinion = analyzer.analyze("mening", "nl")
    # The current Snowball stemmer merges these two; the alternative stem keeps them apart.
    assert set(municipality) - set(opinion)
    torn = analyzer.analyze("gescheurd", "nl")
    tearing = analyzer.analyze("scheurde", "nl")
    assert stem("gescheurd", "nl") in set(torn) & set(tearing)
