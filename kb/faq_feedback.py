"""What the public FAQ learns from its visitors, in aggregate only: missed searches and votes.

Nothing here stores an address, a cookie or a time of day. A vote form carries a
signed token for its article, so a vote names an article that a page offered,
and the web layer rejects cross-site posts.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from helpdesk.redaction import redact
from kb.faq_models import ArticleVote
from kb.mining_models import SearchMiss
from kb.text import fold

MAX_QUERY_LENGTH = 200
# A token stays valid this long after the page was rendered; cached pages are
# re-rendered well within it (admin.public.PAGE_CACHE_SECONDS).
VOTE_TOKEN_MAX_AGE_SECONDS = 2 * 24 * 3600
# Without addresses or cookies one visitor cannot be told from many, so a
# script could vote endlessly with one token. This cap bounds the damage.
# NOTE: an estimate of honest traffic per article and day; raise it if real
# counts approach it.
MAX_VOTES_PER_ARTICLE_PER_DAY = 1000
# Anyone can send searches that match nothing, so a script could fill the table
# with new queries. Past this many distinct queries a day, over all languages,
# only queries already stored that day are counted.
# NOTE: two requests at once can both pass the check, so the cap may be
# exceeded by the number of concurrent requests.
MAX_SEARCH_MISS_QUERIES_PER_DAY = 1000

_VOTE_SALT = "faq-vote"
_SPACES = re.compile(r"\s+")


class VoteRejected(ValueError):
    """A vote cannot be counted; the message names the reason."""


def _insert(session: Session, model):
    """Return an INSERT that supports ON CONFLICT for the session's database."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"database {dialect!r} is not supported: use PostgreSQL or SQLite.")


def _increment(session: Session, model, keys: dict, counts: dict[str, int]) -> None:
    """Add `counts` to the row identified by `keys`, creating it at zero first, in one statement."""
    statement = _insert(session, model).values(**keys, **counts)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: getattr(model, name) + statement.excluded[name] for name in counts},
    )
    session.execute(statement)


def normalise_query(query: str) -> str:
    """Redact identifying details, then fold case and accents and collapse spaces, for storing a query.

    Redaction comes first because it reads capitals: "Marie Dubois" is a name,
    "marie dubois" inside a sentence is not.
    """
    spaced = _SPACES.sub(" ", query or "").strip()[:MAX_QUERY_LENGTH]
    return fold(redact(spaced).text)[:MAX_QUERY_LENGTH]


def record_search_miss(session: Session, language: str, query: str, day: dt.date | None = None) -> bool:
    """Count one public search in `language` that found nothing.

    Return False when the query is empty, or when it is new and the day already
    has MAX_SEARCH_MISS_QUERIES_PER_DAY distinct queries, so it was dropped.
    """
    normalised = normalise_query(query)
    if not normalised:
        return False
    day = day or dt.date.today()
    keys = {"day": day, "language": language, "query": normalised}
    if not _search_miss_exists(session, keys) and _search_misses_on(session, day) >= MAX_SEARCH_MISS_QUERIES_PER_DAY:
        return False
    _increment(session, SearchMiss, keys, {"count": 1})
    return True


def _search_miss_exists(session: Session, keys: dict) -> bool:
    row = session.scalar(select(SearchMiss.id).filter_by(**keys))
    return row is not None


def _search_misses_on(session: Session, day: dt.date) -> int:
    return session.scalar(select(func.count()).select_from(SearchMiss).where(SearchMiss.day == day))


def vote_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_VOTE_SALT)


def vote_token(secret_key: str, slug: str, language: str) -> str:
    """Return the token that the vote form of article `language/slug` carries."""
    return vote_serializer(secret_key).dumps([slug, language])


def check_vote_token(secret_key: str, token: str, slug: str, language: str) -> None:
    """Raise VoteRejected unless `token` was issued for this article and has not expired."""
    try:
        signed = vote_serializer(secret_key).loads(token or "", max_age=VOTE_TOKEN_MAX_AGE_SECONDS)
    except SignatureExpired:
        raise VoteRejected("the vote token has expired: reload the page and vote again") from None
    except BadSignature:
        raise VoteRejected("the vote token is invalid") from None
    if signed != [slug, language]:
        raise VoteRejected(f"the vote token belongs to another article than {language}/{slug}")


def record_vote(session: Session, slug: str, language: str, helpful: bool, day: dt.date | None = None) -> bool:
    """Count one vote; return False when the article reached its daily cap and the vote was dropped."""
    day = day or dt.date.today()
    today = session.execute(
        select(ArticleVote.helpful + ArticleVote.not_helpful).where(
            ArticleVote.slug == slug, ArticleVote.language == language, ArticleVote.day == day
        )
    ).scalar()
    if today is not None and today >= MAX_VOTES_PER_ARTICLE_PER_DAY:
        return False
    counts = {"helpful": 1, "not_helpful": 0} if helpful else {"helpful": 0, "not_helpful": 1}
    _increment(session, ArticleVote, {"slug": slug, "language": language, "day": day}, counts)
    return True


@dataclass(frozen=True)
class VoteTotals:
    helpful: int
    not_helpful: int

    @property
    def total(self) -> int:
        return self.helpful + self.not_helpful


def vote_totals(session: Session, since: dt.date | None = None) -> dict[tuple[str, str], VoteTotals]:
    """Return the votes per (slug, language), from `since` on when given."""
    query = select(
        ArticleVote.slug,
        ArticleVote.language,
        func.sum(ArticleVote.helpful),
        func.sum(ArticleVote.not_helpful),
    ).group_by(ArticleVote.slug, ArticleVote.language)
    if since is not None:
        query = query.where(ArticleVote.day >= since)
    return {
        (slug, language): VoteTotals(int(helpful or 0), int(not_helpful or 0))
        for slug, language, helpful, not_helpful in session.execute(query)
    }
