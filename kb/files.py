"""Article files: `<language>/<slug>.md` with YAML front matter and a Markdown body."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import frontmatter
import yaml

from kb.articles import ArticleError, normalise_content, parse_status, validate_language, validate_slug
from kb.models import Article, ArticleStatus

# Key order of the front matter written by export, as documented in docs/architecture.md.
FRONT_MATTER_KEYS = ("slug", "language", "theme", "title", "short_answer", "keywords", "sources", "last_checked", "status")


class _FlowList(list):
    """A list that the export writes on one line, as article files list their keywords."""


class _FoldedText(str):
    """A string that the export writes as a folded block ('>-'), as writers format the short answer."""


class _ArticleDumper(yaml.SafeDumper):
    pass


_ArticleDumper.add_representer(
    _FlowList, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)
_ArticleDumper.add_representer(
    _FoldedText, lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:str", data, style=">")
)


class ArticleFileError(ValueError):
    """An article file cannot be read; the message names the file and the fix."""


@dataclass
class ArticleFile:
    path: Path
    slug: str
    language: str
    status: ArticleStatus
    content: dict[str, Any] = field(default_factory=dict)


def iter_article_files(directory: Path) -> Iterator[Path]:
    """Yield the `.md` files one folder below `directory`, Dutch first so translations find their original."""
    language_dirs = sorted(
        (path for path in directory.iterdir() if path.is_dir()),
        key=lambda path: (path.name != "nl", path.name),
    )
    for language_dir in language_dirs:
        yield from sorted(language_dir.glob("*.md"))


def read_article_file(path: Path) -> ArticleFile:
    """Parse and check one article file; raise ArticleFileError naming the file and the fix."""
    try:
        post = frontmatter.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ArticleFileError(f"{path}: not UTF-8 text; save the file as UTF-8.") from None
    except yaml.YAMLError as error:
        raise ArticleFileError(f"{path}: the front matter is not valid YAML ({_short(error)}); fix the YAML between the '---' lines.") from None

    meta = post.metadata
    if not meta:
        raise ArticleFileError(f"{path}: no front matter found; start the file with a '---' block holding slug, language and title.")
    for key in ("slug", "language"):
        if not meta.get(key):
            raise ArticleFileError(f"{path}: {key} is missing from the front matter; add '{key}: ...'.")

    slug = str(meta["slug"])
    language = str(meta["language"])
    if slug != path.stem:
        raise ArticleFileError(f"{path}: slug {slug!r} differs from the file name; rename the file to {slug}.md or fix the slug.")
    if path.parent.name != language:
        raise ArticleFileError(
            f"{path}: language {language!r} differs from the folder {path.parent.name!r}; move the file to {language}/ or fix the language."
        )
    if not meta.get("title"):
        raise ArticleFileError(f"{path}: title is missing from the front matter; add 'title: ...'.")

    try:
        validate_slug(slug)
        validate_language(language)
        status = parse_status(meta.get("status") or ArticleStatus.DRAFT.value)
        content = normalise_content(
            {
                "theme": meta.get("theme") or "",
                "title": meta["title"],
                "short_answer": meta.get("short_answer") or "",
                "body": post.content,
                "keywords": meta.get("keywords") or [],
                "sources": meta.get("sources") or [],
                "last_checked": meta.get("last_checked"),
            }
        )
    except ArticleError as error:
        raise ArticleFileError(f"{path}: {error}") from None
    return ArticleFile(path=path, slug=slug, language=language, status=status, content=content)


def _short(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    if mark is not None:
        # The front matter starts after the opening '---' line.
        return f"{problem} at line {mark.line + 2}"
    return problem


def article_to_text(article: Article) -> str:
    """Render an article as front matter plus body, the format that read_article_file reads."""
    values: dict[str, Any] = {
        "slug": article.slug,
        "language": article.language,
        "theme": article.theme,
        "title": article.title,
        "short_answer": _FoldedText(article.short_answer) if article.short_answer else "",
        "keywords": _FlowList(article.keywords or []),
        "sources": [dict(source) for source in article.sources or []],
        "last_checked": article.last_checked,
        "status": ArticleStatus(article.status).value,
    }
    metadata = {key: values[key] for key in FRONT_MATTER_KEYS if values[key] not in (None, "")}
    if isinstance(metadata.get("last_checked"), dt.datetime):
        metadata["last_checked"] = metadata["last_checked"].date()
    post = frontmatter.Post(article.body or "", **metadata)
    return frontmatter.dumps(post, Dumper=_ArticleDumper, sort_keys=False, allow_unicode=True, width=80) + "\n"


def write_article_file(directory: Path, article: Article) -> Path:
    path = directory / article.language / f"{article.slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(article_to_text(article), encoding="utf-8")
    return path
