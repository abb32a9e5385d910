"""Import article files into the database and export the database back to files."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.articles import ArticleError, create_draft, get_article, normalise_content, save_article, set_status
from kb.files import ArticleFile, ArticleFileError, iter_article_files, read_article_file, write_article_file
from kb.models import Article, ArticleVersion

logger = logging.getLogger(__name__)

CONTENT_DIR = Path(__file__).resolve().parent / "content"


@dataclass
class ImportSummary:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.kept)} kept (edited by an editor), "
            f"{len(self.errors)} failed"
        )


def _require_directory(directory: Path) -> None:
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: folder not found; give the folder that holds nl/, fr/ and en/.")


def read_directory(directory: Path, errors: list[str] | None = None) -> list[ArticleFile]:
    """Read every article file under `directory`; unreadable files are appended to `errors`."""
    _require_directory(directory)
    files = []
    for path in iter_article_files(directory):
        try:
            files.append(read_article_file(path))
        except ArticleFileError as error:
            if errors is None:
                raise
            errors.append(str(error))
    return files


def edited_by_editor(session: Session, article: Article) -> bool:
    """Return True when a staff member saved the article's current version.

    Imports save versions without a user. Users are deactivated, never
    deleted, so `saved_by_id` stays set on every version an editor wrote.
    """
    saved_by_id = session.scalar(
        select(ArticleVersion.saved_by_id).where(
            ArticleVersion.article_id == article.id, ArticleVersion.version == article.version
        )
    )
    return saved_by_id is not None


def import_file(session: Session, article_file: ArticleFile, force: bool = False) -> str:
    """Create or update one article from a parsed file.

    Returns 'created', 'updated', 'unchanged', or 'kept' when the file
    differs from an article whose current version an editor wrote. Such an
    article is left as it is unless `force` is set.
    """
    article = get_article(session, article_file.slug, article_file.language)
    if article is None:
        create_draft(
            session,
            article_file.slug,
            article_file.language,
            status=article_file.status,
            **article_file.content,
        )
        return "created"

    if not force and edited_by_editor(session, article):
        content = normalise_content(article_file.content)
        same = all(getattr(article, name) == value for name, value in content.items())
        return "unchanged" if same and article.status == article_file.status else "kept"

    # NOTE: a status that an editor set on an article whose text still comes
    # from the import (unpublished, for example) is replaced by the file's.
    changed = save_article(session, article, **article_file.content)
    if article.status != article_file.status:
        set_status(session, article, article_file.status)
        changed = True
    return "updated" if changed else "unchanged"


def import_directory(
    session: Session,
    directory: Path,
    progress: Callable[[Iterable[Path]], Iterable[Path]] | None = None,
    force: bool = False,
) -> ImportSummary:
    """Upsert every article file under `directory`; a bad file is reported and the others still import.

    Each file is imported in its own savepoint, so a failing file leaves no half-written rows.
    `progress` may wrap the list of paths (for a progress bar). Articles whose
    current version an editor wrote are kept unless `force` is set.
    """
    _require_directory(directory)
    summary = ImportSummary()
    paths = list(iter_article_files(directory))

    for path in progress(paths) if progress else paths:
        name = f"{path.parent.name}/{path.name}"
        try:
            article_file = read_article_file(path)
            with session.begin_nested():
                outcome = import_file(session, article_file, force)
        except ArticleFileError as error:
            summary.errors.append(str(error))
            continue
        except ArticleError as error:
            summary.errors.append(f"{path}: {error}")
            continue
        getattr(summary, outcome).append(name)

    logger.info(
        "knowledge base imported",
        extra={
            "articles_created": len(summary.created),
            "articles_updated": len(summary.updated),
            "articles_unchanged": len(summary.unchanged),
            "articles_kept": len(summary.kept),
            "files_failed": len(summary.errors),
        },
    )
    return summary


def export_directory(session: Session, directory: Path) -> list[Path]:
    """Write every article to `directory/<language>/<slug>.md`; return the paths written."""
    articles = session.scalars(select(Article).order_by(Article.language, Article.slug))
    return [write_article_file(directory, article) for article in articles]
