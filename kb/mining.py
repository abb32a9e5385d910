"""Finding frequent client questions: group the window's questions, rank the groups, check coverage.

`run_mining(session, settings)` reads the redacted first message of each ticket
received in the last `settings.faq_window_days` days, plus the public FAQ
searches that found nothing. It groups them (kb.clustering) and ranks the
groups by size and growth. It scores each group's centroid text against the
published articles and stores the result as a MiningRun with its
QuestionGroups. Groups that no article covers form the editors' to-do list.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from helpdesk.config import Settings
from helpdesk.db import utcnow
from helpdesk.redaction import redact
from helpdesk.tickets.models import Direction, Message, Ticket, TicketStatus
from kb.analysis import Analyzer
from kb.catalog import index_for_session
from kb.clustering import average_linkage, centroid, tfidf
from kb.index import ArticleIndex
from kb.language import detect_language
from kb.mining_models import MiningRun, QuestionGroup, SearchMiss
from kb.models import LANGUAGES
from kb.suggest import HIGH_SCORE, MIN_NORMALISED_SCORE, rank_text
from kb.text import stop_words

logger = logging.getLogger(__name__)

# Questions join a group while their mean cosine distance to it stays below this.
# NOTE: chosen on generated paraphrase sets (tests/test_kb_mining.py); real mail
# may need another value.
MAX_GROUP_DISTANCE = 0.8
MIN_GROUP_SIZE = 2
MAX_GROUPS = 50
# Average linkage keeps n * (n - 1) / 2 distances in memory (about 64 MB at
# 4000 questions), so larger windows are sampled down to this many.
MAX_CLUSTERED_QUESTIONS = 4000
EXAMPLES_PER_GROUP = 3
MAX_EXAMPLE_LENGTH = 300
LABEL_TERMS = 4
CENTROID_TERMS = 6
# Growth (newer half over older half, +1 smoothed) scales the priority within these bounds.
MIN_GROWTH_FACTOR = 0.5
MAX_GROWTH_FACTOR = 2.0
KEEP_RUNS = 5


@dataclass
class MinedQuestion:
    """One text to group: a client's first mail of a ticket, or a missed search with its counts."""

    text: str
    language: str
    current: int  # occurrences in the newer half of the window
    previous: int  # occurrences in the older half
    ticket_id: int | None = None
    theme: str | None = None
    terms: dict[str, float] = field(default_factory=dict)
    surface: dict[str, Counter] = field(default_factory=dict)  # term -> words that produced it

    @property
    def weight(self) -> int:
        return self.current + self.previous

    @property
    def is_search(self) -> bool:
        return self.ticket_id is None


@dataclass(frozen=True)
class Window:
    start: dt.datetime
    middle: dt.datetime
    end: dt.datetime

    @classmethod
    def ending(cls, end: dt.datetime, days: int) -> "Window":
        start = end - dt.timedelta(days=days)
        return cls(start, start + (end - start) / 2, end)


@dataclass(frozen=True)
class MiningResult:
    run_id: int
    question_count: int
    clustered_count: int
    group_count: int
    covered_count: int

    @property
    def uncovered_count(self) -> int:
        return self.group_count - self.covered_count


def run_mining(session: Session, settings: Settings, now: dt.datetime | None = None) -> MiningResult:
    """Group the questions of the last `settings.faq_window_days` days and store the ranked groups."""
    window = Window.ending(now or utcnow(), max(int(settings.faq_window_days), 1))
    run = MiningRun(
        started_at=utcnow(),
        window_days=int(settings.faq_window_days),
        window_start=window.start,
        window_end=window.end,
    )
    session.add(run)

    questions = collect_mail_questions(session, window) + collect_search_misses(session, window)
    run.question_count = sum(question.weight for question in questions)
    analyzed = _analyze(questions)
    clustered = _sample(analyzed)
    run.clustered_count = sum(question.weight for question in clustered)

    index = index_for_session(session)
    groups = group_questions(clustered, index)
    for rank, group in enumerate(groups, start=1):
        group.rank = rank
        run.groups.append(group)
    run.group_count = len(groups)
    run.finished_at = utcnow()
    session.flush()

    _carry_over_articles(session, run)
    _prune_runs(session)
    result = MiningResult(
        run_id=run.id,
        question_count=run.question_count,
        clustered_count=run.clustered_count,
        group_count=run.group_count,
        covered_count=sum(1 for group in groups if group.covered),
    )
    logger.info(
        "question mining finished",
        extra={
            "run_id": run.id,
            "questions": result.question_count,
            "clustered": result.clustered_count,
            "groups": result.group_count,
            "covered": result.covered_count,
        },
    )
    return result


def collect_mail_questions(session: Session, window: Window) -> list[MinedQuestion]:
    """Return the first client message of each ticket received in `window` (redacted text only).

    Later messages of a ticket are mostly follow-ups and thanks, so only the
    opening question counts. Automatic mail and quarantined or erased tickets are left out.
    """
    first_messages = (
        select(func.min(Message.id))
        .where(Message.direction == Direction.INBOUND, Message.is_automatic.is_(False))
        .group_by(Message.ticket_id)
    )
    rows = session.execute(
        select(
            Message.ticket_id,
            Message.subject,
            Message.new_text,
            Message.body,
            Message.language,
            Message.received_at,
            Ticket.language,
            Ticket.theme,
        )
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(
            Message.id.in_(first_messages),
            Message.received_at >= window.start,
            Message.received_at < window.end,
            Ticket.status != TicketStatus.QUARANTINED,
            Ticket.erased_at.is_(None),
        )
        .order_by(Message.id)
    )

    questions = []
    for ticket_id, subject, new_text, body, message_language, received_at, ticket_language, theme in rows:
        text = "\n\n".join(part for part in (subject or "", new_text or body or "") if part.strip())
        if not text.strip():
            continue
        language = message_language or ticket_language or detect_language(text)
        is_current = _as_aware(received_at) >= window.middle
        questions.append(
            MinedQuestion(
                text=text,
                language=language if language in LANGUAGES else "nl",
                current=int(is_current),
                previous=int(not is_current),
                ticket_id=ticket_id,
                theme=theme,
            )
        )
    return questions


def collect_search_misses(session: Session, window: Window) -> list[MinedQuestion]:
    """Return the missed public searches of `window`, one item per language and query with its counts."""
    middle_day = window.middle.date()
    rows = session.execute(
        select(
            SearchMiss.language,
            SearchMiss.query,
            func.sum(case((SearchMiss.day >= middle_day, SearchMiss.count), else_=0)),
            func.sum(case((SearchMiss.day < middle_day, SearchMiss.count), else_=0)),
        )
        .where(SearchMiss.day >= window.start.date(), SearchMiss.day <= window.end.date())
        .group_by(SearchMiss.language, SearchMiss.query)
        .order_by(SearchMiss.language, SearchMiss.query)
    )
    return [
        MinedQuestion(text=query, language=language, current=int(current or 0), previous=int(previous or 0))
        for language, query, current, previous in rows
        if (current or 0) + (previous or 0) > 0
    ]


def _as_aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)


def _analyze(questions: list[MinedQuestion]) -> list[MinedQuestion]:
    """Fill each question's terms; questions without any term are dropped."""
    analyzer = Analyzer(damp_common_words=True)
    analyzed = []
    for question in questions:
        # Stored text is redacted at ingestion; redacting again keeps a detail that
        # slipped through out of the labels and centroid texts built from the terms.
        question.text = redact(question.text).text
        terms = analyzer.analyze(question.text, question.language, count=True)
        if not terms:
            continue
        question.terms = {key: term.weight for key, term in terms.items()}
        question.surface = {key: Counter(term.sources) for key, term in terms.items()}
        analyzed.append(question)
    return analyzed


def _sample(questions: list[MinedQuestion]) -> list[MinedQuestion]:
    if len(questions) <= MAX_CLUSTERED_QUESTIONS:
        return questions
    # A fixed seed keeps runs over the same window comparable.
    logger.warning(
        "question mining sampled its window", extra={"questions": len(questions), "sampled": MAX_CLUSTERED_QUESTIONS}
    )
    return random.Random(0).sample(questions, MAX_CLUSTERED_QUESTIONS)


def group_questions(questions: list[MinedQuestion], index: ArticleIndex) -> list[QuestionGroup]:
    """Cluster `questions` and return the groups of at least MIN_GROUP_SIZE, highest priority first."""
    if not questions:
        return []
    vectors = tfidf([question.terms for question in questions])
    labels = average_linkage(vectors.matrix, MAX_GROUP_DISTANCE)
    members: dict[int, list[int]] = defaultdict(list)
    for row, label in enumerate(labels):
        members[int(label)].append(row)

    groups = []
    for rows in members.values():
        if sum(questions[row].weight for row in rows) < MIN_GROUP_SIZE:
            continue
        groups.append(_describe_group(questions, rows, vectors, index))
    groups.sort(key=lambda group: (-group.priority, -group.size, group.label))
    return groups[:MAX_GROUPS]


def _describe_group(questions: list[MinedQuestion], rows: list[int], vectors, index: ArticleIndex) -> QuestionGroup:
    weights = [questions[row].weight for row in rows]
    center = centroid(vectors.matrix, rows, weights)
    closeness = np.asarray(vectors.matrix[rows] @ center).ravel()
    by_closeness = [rows[position] for position in np.argsort(-closeness, kind="stable")]

    language = Counter({language: 0 for language in LANGUAGES})
    for row in rows:
        language[questions[row].language] += questions[row].weight
    group_language = language.most_common(1)[0][0]

    # Words are taken from the questions in the group's language only, so the
    # centroid text is one language's query, as the search expects.
    surface: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        if questions[row].language == group_language:
            for key, words in questions[row].surface.items():
                surface[key].update(words)
    top_terms = [vectors.terms[column] for column in np.argsort(-center, kind="stable") if center[column] > 0]
    ignored = stop_words(group_language)
    label_words = _surface_words(top_terms, surface, ignored, LABEL_TERMS)
    centroid_text = " ".join(_surface_words(top_terms, surface, ignored, CENTROID_TERMS))

    current = sum(questions[row].current for row in rows)
    previous = sum(questions[row].previous for row in rows)
    size = current + previous
    growth = (current + 1) / (previous + 1)
    priority = size * min(max(growth, MIN_GROWTH_FACTOR), MAX_GROWTH_FACTOR)

    ranking = rank_text(index, centroid_text, group_language, limit=3) if len(index) else None
    best = ranking.hits[0] if ranking and ranking.hits else None
    # No margin over the runner-up is asked: two articles that both answer the group cover it.
    covered = bool(ranking and ranking.is_confident(MIN_NORMALISED_SCORE, 0.0, HIGH_SCORE))

    ticket_ids = [questions[row].ticket_id for row in by_closeness if questions[row].ticket_id is not None]
    return QuestionGroup(
        size=size,
        current_count=current,
        previous_count=previous,
        priority=round(priority, 3),
        language=group_language,
        theme=_group_theme(questions, rows, best, covered),
        label=", ".join(label_words),
        centroid_text=centroid_text,
        examples=_examples(questions, by_closeness),
        ticket_ids=ticket_ids,
        search_queries=sum(questions[row].weight for row in rows if questions[row].is_search),
        best_slug=best.slug if best else None,
        best_title=best.article.title if best else "",
        coverage_score=round(best.score, 3) if best else 0.0,
        covered=covered,
    )


def _surface_words(keys: list[str], surface: dict[str, Counter], ignored: frozenset[str], limit: int) -> list[str]:
    """Return the most frequent written form of each term, in term order, without repeats."""
    chosen: list[str] = []
    for key in keys:
        forms = surface.get(key)
        if not forms:
            continue
        # A thesaurus concept's form may be a phrase ("condoom gescheurd"): take its words one by one.
        for word in forms.most_common(1)[0][0].split():
            if word not in chosen and word not in ignored and len(chosen) < limit:
                chosen.append(word)
        if len(chosen) >= limit:
            break
    return chosen


def _examples(questions: list[MinedQuestion], rows_by_closeness: list[int]) -> list[str]:
    """Return the questions closest to the centroid, redacted once more before they are stored."""
    examples: list[str] = []
    for row in rows_by_closeness:
        text = " ".join(questions[row].text.split())
        text = redact(text).text
        if len(text) > MAX_EXAMPLE_LENGTH:
            text = text[: MAX_EXAMPLE_LENGTH - 1].rstrip() + "…"
        if text not in examples:
            examples.append(text)
        if len(examples) >= EXAMPLES_PER_GROUP:
            break
    return examples


def _group_theme(questions: list[MinedQuestion], rows: list[int], best, covered: bool) -> str:
    if best is not None and covered and best.article.theme:
        return best.article.theme
    themes = Counter(questions[row].theme for row in rows if questions[row].theme)
    if themes:
        return themes.most_common(1)[0][0]
    return best.article.theme if best is not None else ""


def _carry_over_articles(session: Session, run: MiningRun) -> None:
    """Link a new group to the article drafted from an earlier group that shared one of its tickets."""
    previous = session.scalars(
        select(QuestionGroup).where(QuestionGroup.run_id != run.id, QuestionGroup.article_id.is_not(None))
    ).all()
    article_by_ticket: dict[int, int] = {}
    for group in sorted(previous, key=lambda group: group.run_id):
        for ticket_id in group.ticket_ids or []:
            article_by_ticket[ticket_id] = group.article_id
    for group in run.groups:
        for ticket_id in group.ticket_ids or []:
            if ticket_id in article_by_ticket:
                group.article_id = article_by_ticket[ticket_id]
                break


def _prune_runs(session: Session) -> None:
    keep = select(MiningRun.id).order_by(MiningRun.id.desc()).limit(KEEP_RUNS).scalar_subquery()
    old_ids = session.scalars(select(MiningRun.id).where(MiningRun.id.not_in(keep))).all()
    if old_ids:
        session.execute(delete(QuestionGroup).where(QuestionGroup.run_id.in_(old_ids)))
        session.execute(delete(MiningRun).where(MiningRun.id.in_(old_ids)))


def latest_run(session: Session) -> MiningRun | None:
    """Return the newest finished mining run, or None before the first one."""
    return session.scalar(
        select(MiningRun).where(MiningRun.finished_at.is_not(None)).order_by(MiningRun.id.desc()).limit(1)
    )
