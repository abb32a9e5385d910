"""Reply drafts: the chosen articles' short answers, FAQ links and referral blocks, per language.

Templates live in templates/drafts/<language>/reply.txt.j2. A draft never
contains text from the client's mail, so it cannot repeat identifying details.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.config import TEMPLATES_DIR, Settings
from kb.catalog import record_from_article
from kb.index import ArticleRecord
from kb.models import DEFAULT_LANGUAGE, LANGUAGES, Article, ArticleStatus
from kb.urgency import DANGER, MINOR, PEP_WINDOW

DRAFT_TEMPLATE = "reply.txt.j2"
TESTING_THEMES = {"gezondheid", "testen"}
TRAFFICKING_THEMES = {"mensenhandel"}
TESTING_SLUG = "waar-testen"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DraftArticle:
    slug: str
    title: str
    short_answer: str
    url: str
    in_language: bool  # False when the Dutch version replaces a missing translation


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # Plain-text mail: no HTML escaping. StrictUndefined turns a template typo into an error.
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR / "drafts"),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def faq_url(settings: Settings, language: str, slug: str) -> str:
    """Return the public FAQ page of an article (the web app serves /faq/<language>/<slug>)."""
    return f"{settings.public_url}/faq/{language}/{slug}"


def referral_blocks(themes: Iterable[str], slugs: Iterable[str], urgent_reason: str | None) -> set[str]:
    """Return the referral blocks a draft needs: pep, danger, minor, trafficking, testing."""
    themes = set(themes)
    blocks: set[str] = set()
    if urgent_reason == PEP_WINDOW:
        blocks.add("pep")
    if urgent_reason == DANGER:
        blocks.add("danger")
    if urgent_reason == MINOR:
        blocks.update({"minor", "trafficking"})
    if themes & TRAFFICKING_THEMES:
        blocks.add("trafficking")
    if (themes & TESTING_THEMES or "pep" in blocks) and TESTING_SLUG not in set(slugs):
        blocks.add("testing")
    return blocks


def render_draft(
    settings: Settings,
    articles: Mapping[tuple[str, str], ArticleRecord],
    slugs: list[str],
    language: str,
    urgent_reason: str | None = None,
) -> str:
    """Render a draft from articles keyed by (slug, language); unknown slugs are left out."""
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE

    chosen: list[DraftArticle] = []
    themes: set[str] = set()
    for slug in dict.fromkeys(slugs):
        record = articles.get((slug, language)) or articles.get((slug, DEFAULT_LANGUAGE))
        if record is None:
            logger.warning("draft skips an article that is not published", extra={"slug": slug})
            continue
        themes.add(record.theme)
        chosen.append(
            DraftArticle(
                slug=slug,
                title=record.title,
                short_answer=record.short_answer,
                url=faq_url(settings, record.language, slug),
                in_language=record.language == language,
            )
        )

    template = _environment().get_template(f"{language}/{DRAFT_TEMPLATE}")
    return template.render(
        articles=chosen,
        blocks=referral_blocks(themes, slugs, urgent_reason),
        team=settings.from_name,
        faq_url=lambda slug: faq_url(settings, language if (slug, language) in articles else DEFAULT_LANGUAGE, slug),
    )


# Placeholder for the articles while the fixed paragraphs of a template are read.
_ARTICLES_MARK = "\x00articles\x00"


@lru_cache(maxsize=16)
def fixed_paragraphs(team: str, language: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return the opening and the closing paragraphs that every draft in `language` has.

    They are the template's greeting, thanks, closing question and sign-off
    with `team` as the signature, each with its whitespace collapsed, so that
    they can be removed from a sent answer.
    """
    marker = DraftArticle(slug="", title=_ARTICLES_MARK, short_answer=_ARTICLES_MARK, url=_ARTICLES_MARK, in_language=True)
    text = _environment().get_template(f"{language}/{DRAFT_TEMPLATE}").render(
        articles=[marker], blocks=set(), team=team, faq_url=lambda slug: ""
    )
    paragraphs = [" ".join(part.split()) for part in text.split("\n\n") if part.strip()]
    position = next(number for number, paragraph in enumerate(paragraphs) if _ARTICLES_MARK in paragraph)
    return tuple(paragraphs[:position]), tuple(paragraphs[position + 1 :])


def compose_draft(
    session: Session,
    settings: Settings,
    slugs: list[str],
    language: str,
    urgent_reason: str | None = None,
) -> str:
    """Compose a reply draft from published articles, in `language` where a translation exists."""
    languages = {language, DEFAULT_LANGUAGE}
    rows = session.scalars(
        select(Article).where(
            Article.slug.in_(list(slugs) + [TESTING_SLUG]),
            Article.language.in_(languages),
            Article.status == ArticleStatus.PUBLISHED,
        )
    )
    articles = {(row.slug, row.language): record_from_article(row) for row in rows}
    return render_draft(settings, articles, list(slugs), language, urgent_reason)
