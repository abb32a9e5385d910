"""The public FAQ: no login, no cookies, no JavaScript needed and nothing loaded from other hosts.

The URL scheme /faq/<language>/<slug> is fixed because reply drafts link to it.
Pages that are the same for every visitor (index, articles, the page about
asking a question, JSON-LD, the sitemap) come from an in-process page cache
with an ETag, so a repeat visit costs a 304. Searches are never cached: they
count the queries that found nothing. Votes are counted per article and day.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import func, select

from admin.db import current_settings, db
from admin.i18n import LANGUAGES
from admin.page_cache import CACHEABLE, PageCache, PageCacheMiddleware
from admin.security import PUBLIC_BLUEPRINT, csrf
from helpdesk.db import session_scope
from kb.catalog import index_for_session, session_fingerprint
from kb.faq_export import QUICK_EXIT_URL, by_theme, faq_page_jsonld, images_by_article, published_articles
from kb.faq_feedback import VoteRejected, check_vote_token, record_search_miss, record_vote, vote_token
from kb.faq_models import ArticleImage
from kb.markup import article_html
from kb.public_search import search_public
from kb.models import Article, ArticleStatus

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 200
MAX_RESULTS = 20
# Browsers and shared caches may reuse a page this long before asking again (then a 304 is cheap).
BROWSER_MAX_AGE_SECONDS = 300
PAGE_CACHE_SECONDS = 3600
PAGE_CACHE_ENTRIES = 2048
# Seconds that another process may serve its old copy after a publish.
FINGERPRINT_CHECK_SECONDS = 5
IMAGE_MAX_AGE_SECONDS = 365 * 24 * 3600
# Fetch Metadata values of a vote posted from this site or typed in directly.
SAME_SITE_FETCHES = {"same-origin", "none"}

blueprint = Blueprint(PUBLIC_BLUEPRINT, __name__)
_CACHE_EXTENSION = "faq_page_cache"


@blueprint.record_once
def _create_page_cache(state) -> None:
    # One cache per app, so that two apps in one process (tests) never share pages.
    cache = PageCache(PAGE_CACHE_ENTRIES, PAGE_CACHE_SECONDS, FINGERPRINT_CHECK_SECONDS)
    state.app.extensions[_CACHE_EXTENSION] = cache
    settings = state.app.extensions["helpdesk_settings"]
    state.app.wsgi_app = PageCacheMiddleware(
        state.app.wsgi_app, cache, lambda: published_fingerprint(settings), paths=("/faq/", "/sitemap.xml")
    )


def page_cache() -> PageCache:
    return current_app.extensions[_CACHE_EXTENSION]


@blueprint.app_context_processor
def _quick_exit() -> dict:
    # Error pages are rendered outside the blueprint's views and need the link too.
    return {"quick_exit_url": QUICK_EXIT_URL}


def invalidate_page_cache() -> None:
    """Empty this process's page cache; call after a commit that changes what the FAQ shows."""
    page_cache().clear()


def published_fingerprint(settings) -> tuple:
    """Return a value that changes when a published article or an illustration changes."""
    with session_scope(settings) as session:
        images = session.execute(select(func.count(ArticleImage.id), func.max(ArticleImage.id))).one()
        return (*session_fingerprint(session), *images)


def _cached(key: tuple, render, mimetype: str = "text/html") -> Response:
    cache = page_cache()
    cache.follow(lambda: published_fingerprint(current_settings()))
    page = cache.get_or_render(key, render, mimetype)
    request.environ[CACHEABLE] = True
    response = Response(page.body, mimetype=page.mimetype)
    response.set_etag(page.etag)
    response.headers["Cache-Control"] = f"public, max-age={BROWSER_MAX_AGE_SECONDS}"
    return response.make_conditional(request)


@blueprint.route("/")
def home():
    return redirect(url_for(".index", language="nl"))


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        abort(404)


def _published(language: str):
    return select(Article).where(Article.language == language, Article.status == ArticleStatus.PUBLISHED)


def _page(template: str, language: str, **context) -> str:
    settings = current_settings()
    return render_template(
        template,
        language=language,
        central_address=settings.from_address,
        retention_sender_days=settings.retention_sender_days,
        **context,
    )


def _article_url(article: Article) -> str:
    return f"{current_settings().public_url}{url_for('.article', language=article.language, slug=article.slug)}"


@blueprint.route("/faq/<language>/")
def index(language: str):
    _check_language(language)

    def render() -> str:
        articles = published_articles(db(), language)
        return _page(
            "public/index.html",
            language,
            themes=by_theme(articles),
            jsonld=faq_page_jsonld(articles, language, _article_url),
            switch_urls=_switch_urls("index"),
        )

    return _cached(("index", language), render)


@blueprint.route("/faq/<language>/info/je-vraag")
def asking(language: str):
    """Explain where to send a question and what happens to it."""
    _check_language(language)
    return _cached(("asking", language), lambda: _page("public/asking.html", language, switch_urls=_switch_urls("asking")))


@blueprint.route("/faq/<language>/search")
def search(language: str):
    _check_language(language)
    query = (request.args.get("q") or "").strip()[:MAX_QUERY_LENGTH]
    show_all = request.args.get("meer") == "1"
    results, hidden = search_articles(language, query, show_all=show_all) if query else ([], 0)
    if query and not results and not hidden:
        record_search_miss(db(), language, query)
        db().commit()
    html = _page(
        "public/search.html",
        language,
        query=query,
        results=results,
        hidden=hidden,
        switch_urls=_switch_urls("search", q=query or None),
    )
    # A query can be sensitive: keep it out of shared caches and the browser's disk cache.
    return Response(html, headers={"Cache-Control": "no-store"})


@blueprint.route("/faq/<language>/<slug>")
def article(language: str, slug: str):
    _check_language(language)
    voted = request.args.get("stem") == "bedankt"
    return _cached(("article", language, slug, voted), lambda: _render_article(language, slug, voted))


def _render_article(language: str, slug: str, voted: bool) -> str:
    found = db().scalar(_published(language).where(Article.slug == slug))
    if found is None:
        abort(404)
    translations = set(
        db().scalars(select(Article.language).where(Article.slug == slug, Article.status == ArticleStatus.PUBLISHED))
    )
    switch_urls = {
        code: url_for(".article", language=code, slug=slug) if code in translations else url_for(".index", language=code)
        for code in LANGUAGES
    }
    return _page(
        "public/article.html",
        language,
        article=found,
        body=Markup(article_html(found.body)),
        images=images_by_article(db(), [found.id])[found.id],
        switch_urls=switch_urls,
        jsonld=faq_page_jsonld([found], language, _article_url),
        vote_token=vote_token(current_app.secret_key, slug, language),
        voted=voted,
    )


@blueprint.route("/faq/<language>/jsonld/")
def index_jsonld(language: str):
    _check_language(language)
    return _cached(
        ("index.jsonld", language),
        lambda: _json(faq_page_jsonld(published_articles(db(), language), language, _article_url)),
        "application/ld+json",
    )


@blueprint.route("/faq/<language>/jsonld/<slug>")
def article_jsonld(language: str, slug: str):
    _check_language(language)

    def render() -> str:
        found = db().scalar(_published(language).where(Article.slug == slug))
        if found is None:
            abort(404)
        return _json(faq_page_jsonld([found], language, _article_url))

    return _cached(("article.jsonld", language, slug), render, "application/ld+json")


def _json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1)


@blueprint.route("/faq/<language>/<slug>/vote", methods=["POST"])
@csrf.exempt
def vote(language: str, slug: str):
    """Count one 'was this helpful?' answer; the signed token replaces a CSRF token, which needs a cookie."""
    _check_language(language)
    if not _posted_from_this_site():
        abort(403)
    try:
        check_vote_token(current_app.secret_key, request.form.get("token", ""), slug, language)
    except VoteRejected as error:
        logger.info("vote rejected", extra={"slug": slug, "language": language, "reason": str(error)})
        abort(400)
    if db().scalar(_published(language).where(Article.slug == slug)) is None:
        abort(404)
    helpful = request.form.get("helpful")
    if helpful not in {"yes", "no"}:
        abort(400)
    record_vote(db(), slug, language, helpful == "yes")
    db().commit()
    return redirect(url_for(".article", language=language, slug=slug, stem="bedankt") + "#vote", code=303)


def _posted_from_this_site() -> bool:
    """Reject cross-site posts, by Fetch Metadata where the browser sends it, else by Origin.

    Our Referrer-Policy (no-referrer) makes browsers send `Origin: null` on
    form posts, so Origin alone cannot show a same-site post. Browsers without
    Fetch Metadata that send `Origin: null` are rejected.
    """
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site in SAME_SITE_FETCHES
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser, or a very old one: the signed token is still required
    return origin != "null" and urlsplit(origin).netloc == request.host


@blueprint.route("/faq/images/<int:image_id>-<sha>.<extension>")
def image(image_id: int, sha: str, extension: str):
    """Serve an illustration of a published article; the name changes with the content, so it is cached for good."""
    found = db().execute(
        select(ArticleImage)
        .join(Article, Article.id == ArticleImage.article_id)
        .where(ArticleImage.id == image_id, Article.status == ArticleStatus.PUBLISHED)
    ).scalar()
    if found is None or found.filename != f"{image_id}-{sha}.{extension}":
        abort(404)
    response = Response(found.data, mimetype=found.content_type)
    response.set_etag(found.sha256)
    response.headers["Cache-Control"] = f"public, max-age={IMAGE_MAX_AGE_SECONDS}, immutable"
    return response.make_conditional(request)


@blueprint.route("/sitemap.xml")
def sitemap():
    def render() -> str:
        articles = published_articles(db())
        by_slug: dict[str, list[Article]] = {}
        for found in articles:
            by_slug.setdefault(found.slug, []).append(found)
        return render_template(
            "public/sitemap.xml",
            public_url=current_settings().public_url,
            languages=LANGUAGES,
            articles=articles,
            by_slug=by_slug,
        )

    return _cached(("sitemap",), render, "application/xml")


@blueprint.route("/robots.txt")
def robots():
    text = f"User-agent: *\nDisallow: /admin/\nSitemap: {current_settings().public_url}/sitemap.xml\n"
    return Response(text, mimetype="text/plain", headers={"Cache-Control": f"public, max-age={BROWSER_MAX_AGE_SECONDS}"})


def _switch_urls(endpoint: str, **args) -> dict[str, str]:
    return {code: url_for(f".{endpoint}", language=code, **args) for code in LANGUAGES}


def search_articles(language: str, query: str, *, show_all: bool = False) -> tuple[list[Article], int]:
    """Return the published articles in `language` that fit `query`, best first, and how many weaker hits were left out.

    kb.public_search decides which hits are relevant; with `show_all` the weaker
    hits follow them, up to MAX_RESULTS. The search scores each slug by its best
    language version. A hit without a version in `language` is left out, because
    the page links within one language.
    """
    ranked = search_public(index_for_session(db()), query, language, limit=MAX_RESULTS)
    hits = ranked.relevant + ranked.others if show_all else ranked.relevant
    slugs = [hit.slug for hit in hits]
    hidden = 0 if show_all else len(ranked.others)
    if not slugs:
        return [], hidden
    found = {article.slug: article for article in db().scalars(_published(language).where(Article.slug.in_(slugs)))}
    return [found[slug] for slug in slugs if slug in found], hidden
