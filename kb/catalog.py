"""The published articles that suggestions search, with a cached index per article set."""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.analysis import is_real_word
from kb.index import ArticleIndex, ArticleRecord
from kb.language import load_models
from kb.models import LANGUAGES, Article, ArticleStatus
from kb.transfer import read_directory

_lock = threading.Lock()
# One index per source (database URL or folder), replaced when its fingerprint changes.
_indexes: dict[str, tuple[tuple, ArticleIndex]] = {}


def record_from_article(article: Article) -> ArticleRecord:
    return ArticleRecord(
        slug=article.slug,
        language=article.language,
        theme=article.theme,
        title=article.title,
        short_answer=article.short_answer,
        body=article.body,
        keywords=tuple(article.keywords or ()),
    )


def published_records(session: Session) -> list[ArticleRecord]:
    articles = session.scalars(
        select(Article).where(Article.status == ArticleStatus.PUBLISHED).order_by(Article.slug, Article.language)
    )
    return [record_from_article(article) for article in articles]


def directory_records(directory: Path) -> list[ArticleRecord]:
    """Read the published articles of a content folder; unreadable files are skipped."""
    files = read_directory(directory, errors=[])
    return [
        ArticleRecord(
            slug=file.slug,
            language=file.language,
            theme=file.content["theme"],
            title=file.content["title"],
            short_answer=file.content["short_answer"],
            body=file.content["body"],
            keywords=tuple(file.content["keywords"]),
        )
        for file in files
        if file.status == ArticleStatus.PUBLISHED
    ]


@lru_cache(maxsize=1)
def _warm_up() -> None:
    """Load the language models and word lists now, so the first suggestion is not the slow one."""
    load_models()
    for language in LANGUAGES:
        is_real_word("condoom", language)


def _cached(source: str, fingerprint: tuple, build) -> ArticleIndex:
    with _lock:
        cached = _indexes.get(source)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
    _warm_up()
    index = ArticleIndex(build())
    with _lock:
        _indexes[source] = (fingerprint, index)
    return index


def session_fingerprint(session: Session) -> tuple:
    """Return a value that changes whenever a published article is added, edited or removed."""
    row = session.execute(
        select(func.count(Article.id), func.max(Article.updated_at), func.sum(Article.version), func.sum(Article.id))
        .where(Article.status == ArticleStatus.PUBLISHED)
    ).one()
    return tuple(row)


def index_for_session(session: Session) -> ArticleIndex:
    """Return the index of the published articles in the session's database, rebuilt when they change."""
    return fingerprinted_index(session)[1]


def fingerprinted_index(session: Session) -> tuple[tuple, ArticleIndex]:
    """Return the session_fingerprint of the published articles and their index.

    The fingerprint is the same in every process that reads the same
    database state, so it can tell whether a result computed elsewhere used
    the same articles.
    """
    source = f"db:{session.get_bind().url.render_as_string(hide_password=True)}"
    fingerprint = session_fingerprint(session)
    return fingerprint, _cached(source, fingerprint, lambda: published_records(session))


def index_for_directory(directory: Path) -> ArticleIndex:
    """Return the index of the published article files under `directory`, rebuilt when a file changes."""
    paths = sorted(directory.glob("*/*.md"))
    fingerprint = tuple((str(path), path.stat().st_mtime_ns, path.stat().st_size) for path in paths)
    return _cached(f"dir:{directory.resolve()}", fingerprint, lambda: directory_records(directory))


def index_for_records(records: list[ArticleRecord]) -> ArticleIndex:
    return ArticleIndex(records)
