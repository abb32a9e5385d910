"""Article services: create, save as a new version, change status, restore and list versions.

Callers own the transaction: these functions add and flush but never commit.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.models import (
    CONTENT_FIELDS,
    DEFAULT_LANGUAGE,
    LANGUAGES,
    Article,
    ArticleStatus,
    ArticleVersion,
)

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class ArticleError(ValueError):
    """An article value cannot be used; the message names the value and the fix."""


def validate_slug(slug: str) -> str:
    if not isinstance(slug, str) or not SLUG_PATTERN.match(slug):
        raise ArticleError(
            f"slug {slug!r} is invalid: use lower-case letters, digits and single hyphens, "
            "for example 'condoom-gescheurd'."
        )
    return slug


def validate_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ArticleError(f"language {language!r} is not supported: use one of {', '.join(LANGUAGES)}.")
    return language


def _normalise_keywords(keywords: Iterable[Any] | None) -> list[str]:
    if keywords is None:
        return []
    if isinstance(keywords, str):
        raise ArticleError(f"keywords {keywords!r} must be a list, for example [condoom, PEP].")
    return [str(keyword).strip() for keyword in keywords if str(keyword).strip()]


def _normalise_sources(sources: Iterable[Any] | None) -> list[dict[str, str]]:
    normalised = []
    for source in sources or []:
        if not isinstance(source, dict) or not source.get("title"):
            raise ArticleError(f"source {source!r} is invalid: give each source a title and a url.")
        normalised.append({"title": str(source["title"]), "url": str(source.get("url") or "")})
    return normalised


def _normalise_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ArticleError(f"last_checked {value!r} is not a date: write it as YYYY-MM-DD.") from None


def normalise_content(changes: dict[str, Any]) -> dict[str, Any]:
    """Return `changes` with each content field checked and converted to its stored form."""
    content: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in CONTENT_FIELDS:
            raise ArticleError(f"{name!r} is not an article content field: use one of {', '.join(CONTENT_FIELDS)}.")
        if name == "keywords":
            content[name] = _normalise_keywords(value)
        elif name == "sources":
            content[name] = _normalise_sources(value)
        elif name == "last_checked":
            content[name] = _normalise_date(value)
        else:
            content[name] = "" if value is None else str(value).strip()
    return content


def parse_status(status: ArticleStatus | str) -> ArticleStatus:
    try:
        return ArticleStatus(status)
    except ValueError:
        allowed = ", ".join(member.value for member in ArticleStatus)
        raise ArticleError(f"status {status!r} is invalid: use one of {allowed}.") from None


def get_article(session: Session, slug: str, language: str) -> Article | None:
    return session.scalar(select(Article).where(Article.slug == slug, Article.language == language))


def _snapshot(article: Article, saved_by_id: int | None) -> ArticleVersion:
    snapshot = ArticleVersion(version=article.version, saved_by_id=saved_by_id, **article.content())
    article.versions.append(snapshot)
    return snapshot


def create_draft(
    session: Session,
    slug: str,
    language: str,
    title: str,
    *,
    status: ArticleStatus | str = ArticleStatus.DRAFT,
    saved_by_id: int | None = None,
    **content: Any,
) -> Article:
    """Create an article (a draft unless `status` sets another) with its first version.

    A French or English article needs the Dutch article with the same slug first.
    """
    validate_slug(slug)
    validate_language(language)
    if not str(title or "").strip():
        raise ArticleError(f"article {language}/{slug} has no title: give it one.")
    if get_article(session, slug, language) is not None:
        raise ArticleError(f"article {language}/{slug} already exists: save a new version of it instead.")
    if language != DEFAULT_LANGUAGE and get_article(session, slug, DEFAULT_LANGUAGE) is None:
        raise ArticleError(
            f"article {language}/{slug} has no Dutch original: create {DEFAULT_LANGUAGE}/{slug} first."
        )

    article = Article(
        slug=slug,
        language=language,
        status=parse_status(status),
        version=1,
        **normalise_content({"title": title, **content}),
    )
    session.add(article)
    _snapshot(article, saved_by_id)
    session.flush()
    return article


def save_article(session: Session, article: Article, *, saved_by_id: int | None = None, **changes: Any) -> bool:
    """Apply content changes and store them as a new version; return False when nothing changed."""
    content = normalise_content(changes)
    changed = {name: value for name, value in content.items() if getattr(article, name) != value}
    if not changed:
        return False
    if "title" in changed and not changed["title"]:
        raise ArticleError(f"article {article.language}/{article.slug} needs a title: it cannot be empty.")

    for name, value in changed.items():
        setattr(article, name, value)
    article.version += 1
    _snapshot(article, saved_by_id)
    session.flush()
    return True


def set_status(session: Session, article: Article, status: ArticleStatus | str) -> None:
    """Change the status; a status change alone makes no new version."""
    article.status = parse_status(status)
    session.flush()


def list_versions(session: Session, article: Article) -> list[ArticleVersion]:
    """Return the article's saved versions, newest first."""
    return list(
        session.scalars(
            select(ArticleVersion)
            .where(ArticleVersion.article_id == article.id)
            .order_by(ArticleVersion.version.desc())
        )
    )


def restore_version(session: Session, article: Article, version: int, *, saved_by_id: int | None = None) -> bool:
    """Make an earlier version's content current again, saved as a new version.

    Returns False when the current content already equals that version.
    """
    snapshot = session.scalar(
        select(ArticleVersion).where(ArticleVersion.article_id == article.id, ArticleVersion.version == version)
    )
    if snapshot is None:
        raise ArticleError(
            f"article {article.language}/{article.slug} has no version {version}: "
            f"choose one of 1 to {article.version}."
        )
    return save_article(session, article, saved_by_id=saved_by_id, **snapshot.content())
