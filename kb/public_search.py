"""Relevance cut for the public FAQ search: show the articles that fit the query, not every article that shares a word.

BM25 gives a score to any article that contains one of the query's words, so
a specific question ranks most of the FAQ. A hit stays when it scores at least
RELEVANT_SHARE of the best hit, or when it fits well on its own by the
normalised-score threshold that article suggestions use (kb.suggest).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kb.index import ArticleIndex, SearchHit
from kb.suggest import MIN_NORMALISED_SCORE

# NOTE: chosen by hand on the Dutch articles in kb/content. It keeps 2 of 20
# hits for "waar kan ik me anoniem laten testen" and 6 of 20 for "condoom".
# Recheck such queries when the article set grows much larger.
RELEVANT_SHARE = 0.5


@dataclass
class PublicSearch:
    relevant: list[SearchHit]
    others: list[SearchHit]


def search_public(index: ArticleIndex, query: str, language: str, limit: int) -> PublicSearch:
    """Rank at most `limit` articles for `query` and split them into relevant hits and weaker others, best first."""
    terms = index.analyze(query, language)
    hits = index.search(terms, language, limit=limit)
    if not hits:
        return PublicSearch([], [])

    cut = RELEVANT_SHARE * hits[0].score
    root = math.sqrt(len(terms))
    relevant = [hit for hit in hits if hit.score >= cut or hit.score / root >= MIN_NORMALISED_SCORE]
    others = [hit for hit in hits if hit not in relevant]
    return PublicSearch(relevant, others)
