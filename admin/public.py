"""The public FAQ: no login, no cookies, no JavaScript needed and nothing loaded from other hosts.

The URL scheme /faq/<language>/<slug> is fixed because reply drafts link to it.
"""

from __future__ import annotations

from collections import OrderedDict

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy import select

from admin.db import current_settings, db
from admin.i18n import LANGUAGES
from admin.rendering import render_article_markdown
from admin.security import PUBLIC_BLUEPRINT
from kb.catalog import index_for_session
from kb.models import Article, ArticleStatus

# A neutral page for the quick-exit link, for visitors who must hide what they read.
QUICK_EXIT_URL = "https://www.meteo.be/"
MAX_QUERY_LENGTH = 200
MAX_RESULTS = 20

blueprint = Blueprint(PUBLIC_BLUEPRINT, __name__)


@blueprint.route("/")
def home():
    return redirect(url_for(".index", language="nl"))


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        abort(404)


def _published(language: str):
    return select(Article).where(Article.language == language, Article.status == ArticleStatus.PUBLISHED)


def _page(template: str, language: str, **context):
    settings = current_settings()
    return render_template(
        template,
        language=language,
        central_address=settings.from_address,
        retention_sender_days=settings.retention_sender_days,
        quick_exit_url=QUICK_EXIT_URL,
        **context,
    )


@blueprint.route("/faq/<language>/")
def index(language: str):
    _check_language(language)
    articles = db().scalars(_published(language).order_by(Article.theme, Article.title)).all()
    themes: OrderedDict[str, list[Article]] = OrderedDict()
    for article in articles:
        themes.setdefault(article.theme or "", []).append(article)
    return _page("public/index.html", language, themes=themes, switch_urls=_switch_urls("index"))


@blueprint.route("/faq/<language>/search")
def search(language: str):
    _check_language(language)
    query = (request.args.get("q") or "").strip()[:MAX_QUERY_LENGTH]
    results = search_articles(language, query) if query else []
    return _page(
        "public/search.html", language, query=query, results=results, switch_urls=_switch_urls("search", q=query or None)
    )


@blueprint.route("/faq/<language>/<slug>")
def article(language: str, slug: str):
    _check_language(language)
    found = db().scalar(_published(language).where(Article.slug == slug))
    if found is None:
        abort(404)
    translations = set(
        db().scalars(
            select(Article.language).where(Article.slug == slug, Article.status == ArticleStatus.PUBLISHED)
        )
    )
    switch_urls = {
        code: url_for(".article", language=code, slug=slug) if code in translations else url_for(".index", language=code)
        for code in LANGUAGES
    }
    return _page("public/article.html", language, article=found, body=render_article_markdown(found.body), switch_urls=switch_urls)


def _switch_urls(endpoint: str, **args) -> dict[str, str]:
    return {code: url_for(f".{endpoint}", language=code, **args) for code in LANGUAGES}


def search_articles(language: str, query: str) -> list[Article]:
    """Return published articles in `language` that the knowledge-base search ranks for `query`, best first.

    The search scores each slug by its best language version. A hit without a
    version in `language` is left out, because the page links within one language.
    """
    index = index_for_session(db())
    hits = index.search(index.analyze(query, language), language, limit=MAX_RESULTS)
    slugs = [hit.slug for hit in hits]
    if not slugs:
        return []
    found = {article.slug: article for article in db().scalars(_published(language).where(Article.slug.in_(slugs)))}
    return [found[slug] for slug in slugs if slug in found]
