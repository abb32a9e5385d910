"""Suggesting FAQ articles for a client's question.

A mail may hold several questions. The whole text is ranked once. Each
question (a sentence ending in '?' with the statements before it) is also
ranked on its own, and the best article of each question that fits well joins
the list.
A question that fits no article well yields `confident=False` instead of a
forced suggestion.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from kb.index import ArticleIndex, SearchHit
from kb.language import detect_language
from kb.text import split_sentences
from kb.urgency import Urgency, assess_urgency

MAX_SUGGESTIONS = 5

# Confidence thresholds. BM25 scores grow with the length of the question, so
# the best score is divided by the square root of the number of query terms.
# The best article is confident when that normalised score reaches
# MIN_NORMALISED_SCORE and it leads the runner-up by MIN_MARGIN (relative),
# or when its raw score reaches HIGH_SCORE.
# NOTE: calibrated with `bench/suggest_eval.py --calibrate` on 40 articles. Scores
# depend on the article set (idf), so recalibrate when it grows much larger.
MIN_NORMALISED_SCORE = 5.5
MIN_MARGIN = 0.10
HIGH_SCORE = 25.0
# Weight of words that occur only outside the question sentences.
CONTEXT_WEIGHT = 0.6
# A further article from the same question counts as confident when it scores
# at least this share of the best one.
RELATED_SHARE = 0.8


@dataclass
class Suggested:
    slug: str
    title: str
    theme: str
    language: str  # language of the article version that matched best
    score: float
    confident: bool
    matched_terms: list[str] = field(default_factory=list)


@dataclass
class SuggestionResult:
    language: str
    suggestions: list[Suggested]
    urgency: Urgency

    @property
    def confident(self) -> bool:
        return bool(self.suggestions) and self.suggestions[0].confident

    @property
    def confident_slugs(self) -> list[str]:
        return [suggestion.slug for suggestion in self.suggestions if suggestion.confident]


def split_questions(text: str) -> list[str]:
    """Split a mail into questions, each with the statements that lead up to it."""
    questions: list[str] = []
    context: list[str] = []
    for sentence in split_sentences(text):
        context.append(sentence)
        if sentence.endswith("?"):
            questions.append(" ".join(context))
            context = []
    if context:
        if questions:
            questions[-1] += " " + " ".join(context)
        else:
            questions.append(" ".join(context))
    return questions


@dataclass
class Ranking:
    hits: list[SearchHit]
    term_count: int

    @property
    def confident(self) -> bool:
        """Return whether the best hit fits well enough to go into the draft."""
        return self.is_confident(MIN_NORMALISED_SCORE, MIN_MARGIN, HIGH_SCORE)

    def is_confident(self, min_normalised_score: float, min_margin: float, high_score: float) -> bool:
        if not self.hits or not self.term_count:
            return False
        best = self.hits[0].score
        runner_up = self.hits[1].score if len(self.hits) > 1 else 0.0
        if best >= high_score:
            return True
        return best / math.sqrt(self.term_count) >= min_normalised_score and (best - runner_up) / best >= min_margin


def rank_text(index: ArticleIndex, text: str, language: str, limit: int, subject: str = "") -> Ranking:
    """Rank the articles for one text, with the words of its question sentences weighted up."""
    analyzed = f"{subject}\n\n{text}"
    terms = index.analyze(analyzed, language)

    # The question sentences state what the client wants to know. The story around
    # them adds context but also noise, so words found only there count less.
    questions = [sentence for sentence in split_sentences(text) if sentence.endswith("?")]
    focus_text = f"{subject}\n\n" + " ".join(questions)
    # A text that is all question has every term in focus, so it needs no second analysis.
    if questions and focus_text != analyzed:
        focus = index.term_keys(focus_text, language)
        for key, term in terms.items():
            if key not in focus:
                term.weight *= CONTEXT_WEIGHT
    return Ranking(index.search(terms, language, limit=limit), len(terms))


def _title(index: ArticleIndex, hit: SearchHit, language: str) -> tuple[str, str]:
    record = index.by_slug_language.get((hit.slug, language)) or index.by_slug_language.get((hit.slug, "nl")) or hit.article
    return record.title, record.language


def _suggested(index: ArticleIndex, hit: SearchHit, language: str, confident: bool) -> Suggested:
    title, article_language = _title(index, hit, language)
    return Suggested(
        slug=hit.slug,
        title=title,
        theme=hit.article.theme,
        language=article_language,
        score=round(hit.score, 3),
        confident=confident,
        matched_terms=hit.matched_terms,
    )


def suggest(
    index: ArticleIndex,
    subject: str,
    text: str,
    language: str | None = None,
    limit: int = MAX_SUGGESTIONS,
    received: dt.date | None = None,
) -> SuggestionResult:
    """Rank the articles for one message (subject plus new text) and assess its urgency.

    `received` is the day the mail arrived; urgency compares written dates with it.
    """
    language = language or detect_language(text if text.strip() else subject)
    urgency = assess_urgency(f"{subject}\n\n{text}", received)

    ranking = rank_text(index, text, language, limit=max(limit, 10), subject=subject)
    whole = ranking.hits
    chosen: dict[str, Suggested] = {}

    def choose(hit: SearchHit, confident: bool) -> None:
        if hit.slug not in chosen:
            chosen[hit.slug] = _suggested(index, hit, language, confident)

    if whole and ranking.confident:
        choose(whole[0], True)

    # Confident answers to single questions come before an unconfident overall best,
    # so that a mail whose first question fits nothing still leads with a good fit.
    questions = split_questions(text)
    if len(questions) > 1:
        question_tops = []
        for question in questions:
            question_ranking = rank_text(index, question, language, limit=3)
            if question_ranking.confident:
                question_tops.append(question_ranking.hits[0])
        for hit in sorted(question_tops, key=lambda hit: -hit.score):
            choose(hit, True)

    for hit in whole:
        if len(chosen) >= limit:
            break
        related = ranking.confident and hit.score >= RELATED_SHARE * whole[0].score
        choose(hit, related)

    return SuggestionResult(language=language, suggestions=list(chosen.values())[:limit], urgency=urgency)
