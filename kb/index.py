"""The article search index: weighted fields, BM25 scoring, one result per slug.

The scorer is our own (Okapi BM25 with Lucene's idf) rather than rank_bm25 or
bm25s. Questions carry weighted terms (thesaurus concepts, compound parts,
spelling fixes), and suggestions must name the words that matched. Both need
per-term weights and per-term contributions, which neither library exposes.
Impacts are computed once at build time, so a search only sums posting lists.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from kb.analysis import CONCEPT_PREFIX, Analyzer, SpellingCorrector, Term
from kb.text import stop_words, words
from kb.thesaurus import compiled_thesaurus

# Field weights: a word in the title or keywords is stronger evidence about the article than one in the body.
FIELD_WEIGHTS = {"title": 4.0, "keywords": 2.0, "short_answer": 2.0, "body": 0.5}
BM25_K1 = 1.2
BM25_B = 0.75

_MARKDOWN_LINK_TARGET = re.compile(r"\]\([^)]*\)")


def _idf(count: int, document_frequency: int) -> float:
    """Return Lucene's BM25 idf, which stays positive for words found in most articles."""
    return math.log(1 + (count - document_frequency + 0.5) / (document_frequency + 0.5))


@dataclass(frozen=True)
class ArticleRecord:
    """The fields of one article that search and drafts need, detached from the database."""

    slug: str
    language: str
    theme: str
    title: str
    short_answer: str
    body: str = ""
    keywords: tuple[str, ...] = ()


@dataclass
class SearchHit:
    slug: str
    score: float
    article: ArticleRecord  # the best-scoring language version
    matched_terms: list[str] = field(default_factory=list)


class ArticleIndex:
    """Search index over a fixed set of articles; build a new one when the articles change."""

    def __init__(self, articles: list[ArticleRecord]):
        self.articles = list(articles)
        self.slugs = sorted({article.slug for article in self.articles})
        slug_position = {slug: position for position, slug in enumerate(self.slugs)}
        self.doc_slug = np.array([slug_position[article.slug] for article in self.articles], dtype=np.int64)
        self.by_slug_language = {(article.slug, article.language): article for article in self.articles}
        self.slug_documents: dict[str, list[int]] = defaultdict(list)
        for position, article in enumerate(self.articles):
            self.slug_documents[article.slug].append(position)

        self.vocabulary = self._vocabulary()
        self.short_words = frozenset(
            word for language in ("nl", "fr", "en") for word in compiled_thesaurus(language).single_words if len(word) == 3
        )
        document_analyzer = Analyzer(self.vocabulary, short_words=self.short_words)
        field_frequencies = [self._field_frequencies(document_analyzer, article) for article in self.articles]
        self.postings = self._impacts(field_frequencies)

        self._document_sets: dict[str, frozenset[int]] = {}
        self.known_terms = set(self.postings)
        self.spelling = SpellingCorrector({word for word in self.vocabulary if not word.isdigit()})
        self.query_analyzer = Analyzer(
            self.vocabulary, self.known_terms, self.spelling, damp_common_words=True, short_words=self.short_words
        )

    def __len__(self) -> int:
        return len(self.articles)

    def _vocabulary(self) -> frozenset[str]:
        vocabulary: set[str] = set()
        for article in self.articles:
            ignored = stop_words(article.language)
            text = " ".join([article.title, " ".join(article.keywords), article.short_answer, article.body])
            for word in words(_MARKDOWN_LINK_TARGET.sub(" ", text)):
                for part in word.split("-"):
                    if len(part) >= 3 and part not in ignored and not part.isdigit():
                        vocabulary.add(part)
        for language in ("nl", "fr", "en"):
            vocabulary.update(word for word in compiled_thesaurus(language).single_words if len(word) >= 3)
        return frozenset(vocabulary)

    @staticmethod
    def _field_frequencies(analyzer: Analyzer, article: ArticleRecord) -> dict[str, dict[str, float]]:
        fields = {
            "title": article.title,
            # Separate keywords so that thesaurus phrases do not run across two of them.
            "keywords": " . ".join(article.keywords),
            "short_answer": article.short_answer,
            "body": _MARKDOWN_LINK_TARGET.sub(" ", article.body),
        }
        return {
            name: {key: term.weight for key, term in analyzer.analyze(text, article.language, count=True).items()}
            for name, text in fields.items()
        }

    def _impacts(self, field_frequencies: list[dict[str, dict[str, float]]]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Precompute each posting's score: the field-weighted sum of per-field BM25 term scores.

        Scoring each field on its own (rather than adding field weights into one
        term frequency) keeps a title or keyword match from being flattened by
        BM25's saturation when the body mentions the same word.

        Words get their idf within the articles of the same language, concepts
        across all articles. Otherwise a French word found in most of the few
        French articles would look rare next to the many Dutch articles, and
        French questions would drift to whichever articles happen to be translated.
        """
        count = len(field_frequencies)
        languages = [article.language for article in self.articles]
        language_counts = {language: languages.count(language) for language in set(languages)}
        lengths = {
            name: np.array([sum(document[name].values()) for document in field_frequencies], dtype=float)
            for name in FIELD_WEIGHTS
        }
        average_lengths = {name: max(float(values.mean()), 1e-9) if count else 1.0 for name, values in lengths.items()}

        postings: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
        document_frequency: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for position, document in enumerate(field_frequencies):
            keys = set()
            for name, frequencies in document.items():
                norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths[name][position] / average_lengths[name])
                for key, tf in frequencies.items():
                    postings[key][position] += FIELD_WEIGHTS[name] * tf * (BM25_K1 + 1) / (tf + norm)
                    keys.add(key)
            for key in keys:
                document_frequency[key][languages[position]] += 1

        impacts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for key, entries in postings.items():
            positions = np.array(list(entries), dtype=np.int64)
            saturated = np.array(list(entries.values()), dtype=float)
            if key.startswith(CONCEPT_PREFIX):
                idf = np.full(len(entries), _idf(count, sum(document_frequency[key].values())))
            else:
                idf = np.array(
                    [
                        _idf(language_counts[languages[position]], document_frequency[key][languages[position]])
                        for position in entries
                    ]
                )
            impacts[key] = (positions, idf * saturated)
        return impacts

    def analyze(self, text: str, language: str) -> dict[str, Term]:
        return self.query_analyzer.analyze(text, language)

    def term_keys(self, text: str, language: str) -> set[str]:
        """Return the keys of `analyze(text, language)`, without weighing the terms."""
        return self.query_analyzer.term_keys(text, language)

    def search(self, terms: dict[str, Term], language: str, limit: int = 10) -> list[SearchHit]:
        """Score every article for the query terms; return the best `limit` slugs, best first.

        An article's slug scores as its best language version; the version in the
        question's language wins a tie.
        """
        if not self.articles or not terms:
            return []
        # Terms that no article contains match no hit, so only the others are kept for _matched_terms.
        indexed: list[tuple[frozenset[int], set[str]]] = []
        postings: list[tuple[np.ndarray, np.ndarray]] = []
        weights: list[float] = []
        for key, term in terms.items():
            posting = self.postings.get(key)
            if posting is not None:
                postings.append(posting)
                weights.append(term.weight)
                indexed.append((self._documents_with(key), term.sources))
        scores = _sum_by_document(postings, weights, len(self.articles))

        slug_scores = np.zeros(len(self.slugs))
        np.maximum.at(slug_scores, self.doc_slug, scores)
        order = np.argsort(-slug_scores, kind="stable")[:limit]

        best: list[tuple[str, float, int]] = []
        for slug_position in order:
            score = float(slug_scores[slug_position])
            if score <= 0:
                break
            slug = self.slugs[slug_position]
            best.append((slug, score, self._best_document(slug, scores, language)))
        matched = _matched_terms(indexed, {document for _, _, document in best})
        return [SearchHit(slug, score, self.articles[document], matched[document]) for slug, score, document in best]

    def _best_document(self, slug: str, scores: np.ndarray, language: str) -> int:
        return max(self.slug_documents[slug], key=lambda position: (scores[position], self.articles[position].language == language))

    def _documents_with(self, key: str) -> frozenset[int]:
        documents = self._document_sets.get(key)
        if documents is None:
            posting = self.postings.get(key)
            documents = frozenset(posting[0].tolist()) if posting is not None else frozenset()
            self._document_sets[key] = documents
        return documents


def _sum_by_document(postings: list[tuple[np.ndarray, np.ndarray]], weights: list[float], count: int) -> np.ndarray:
    """Return each document's score: the sum of its postings' impacts times their term's weight.

    np.bincount (numpy 2.4) adds its weights one by one in array order, so every
    score gets the same float products and additions, in the same order, as one
    `scores[positions] += weight * impacts` per term, with far fewer numpy calls.
    tests/test_kb_shortcuts.py checks that the scores are bitwise equal.
    """
    if not postings:
        return np.zeros(count)
    positions = np.concatenate([posting[0] for posting in postings])
    impacts = np.concatenate([posting[1] for posting in postings])
    lengths = [len(posting[0]) for posting in postings]
    return np.bincount(positions, weights=np.repeat(weights, lengths) * impacts, minlength=count)


def _matched_terms(indexed: list[tuple[frozenset[int], set[str]]], documents: set[int]) -> dict[int, list[str]]:
    """Return, for each of `documents`, the sorted source words of the query terms it contains."""
    matched: dict[int, set[str]] = {document: set() for document in documents}
    for term_documents, sources in indexed:
        for document in term_documents.intersection(documents):
            matched[document].update(sources)
    return {document: sorted(words) for document, words in matched.items()}
