"""The published FAQ outside the web app: a static HTML copy, a JSON feed and schema.org JSON-LD.

The static copy renders the same templates as the public pages
(templates/public/), with links made relative so that the folder can be
hosted anywhere. The public pages' texts come from the web app's Babel
catalogues, read here as data, so kb imports nothing from admin.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Callable

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.config import PROJECT_ROOT, TEMPLATES_DIR, Settings
from kb.faq_models import ArticleImage
from kb.markup import article_html
from kb.models import LANGUAGES, Article, ArticleStatus

CATALOG_DIR = PROJECT_ROOT / "admin" / "translations"
STATIC_DIR = PROJECT_ROOT / "admin" / "static"
STATIC_FILES = ("helpdesk.css", "faq.css", "quick-exit.js")
LANGUAGE_NAMES = {"nl": "Nederlands", "fr": "Français", "en": "English"}
# A neutral page for the quick-exit link, for visitors who must hide what they read.
QUICK_EXIT_URL = "https://www.meteo.be/"
ASKING_PAGE = "je-vraag"
FEED_NAME = "faq.json"


def published_articles(session: Session, language: str | None = None) -> list[Article]:
    """Return the published articles, in one language when given, ordered by theme and title."""
    query = select(Article).where(Article.status == ArticleStatus.PUBLISHED)
    if language is not None:
        query = query.where(Article.language == language)
    return list(session.scalars(query.order_by(Article.language, Article.theme, Article.title)))


def by_theme(articles: list[Article]) -> OrderedDict[str, list[Article]]:
    themes: OrderedDict[str, list[Article]] = OrderedDict()
    for article in sorted(articles, key=lambda article: (article.theme or "\uffff", article.title)):
        themes.setdefault(article.theme or "", []).append(article)
    return themes


def images_by_article(session: Session, article_ids: list[int]) -> dict[int, list[ArticleImage]]:
    images: dict[int, list[ArticleImage]] = {article_id: [] for article_id in article_ids}
    if not article_ids:
        return images
    query = (
        select(ArticleImage)
        .where(ArticleImage.article_id.in_(article_ids))
        .order_by(ArticleImage.article_id, ArticleImage.position, ArticleImage.id)
    )
    for image in session.scalars(query):
        images[image.article_id].append(image)
    return images


def faq_page_jsonld(articles: list[Article], language: str, article_url: Callable[[Article], str] | None = None) -> dict:
    """Return schema.org FAQPage data for `articles`, with each short answer as the accepted answer."""
    entities = []
    for article in articles:
        question = {
            "@type": "Question",
            "name": article.title,
            "acceptedAnswer": {"@type": "Answer", "text": article.short_answer or article.title},
        }
        if article_url is not None:
            question["url"] = article_url(article)
        entities.append(question)
    return {"@context": "https://schema.org", "@type": "FAQPage", "inLanguage": language, "mainEntity": entities}


def feed_entry(article: Article, images: list[ArticleImage], image_path: Callable[[ArticleImage], str]) -> dict:
    return {
        "slug": article.slug,
        "language": article.language,
        "title": article.title,
        "short_answer": article.short_answer,
        "body_html": article_html(article.body),
        "theme": article.theme,
        "keywords": list(article.keywords or []),
        "last_checked": article.last_checked.isoformat() if article.last_checked else None,
        "sources": list(article.sources or []),
        "version": article.version,
        "images": [
            {"src": image_path(image), "alt": image.alt, "width": image.width, "height": image.height} for image in images
        ],
    }


def export_json(session: Session, settings: Settings, directory: Path) -> list[Path]:
    """Write DIRECTORY/faq.json (articles per language) and the images it names; return the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    articles = published_articles(session)
    images = images_by_article(session, [article.id for article in articles])
    feed = {
        "generated": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "languages": {
            language: [
                feed_entry(article, images[article.id], lambda image: f"images/{image.filename}")
                for article in articles
                if article.language == language
            ]
            for language in LANGUAGES
        },
    }
    feed_path = directory / FEED_NAME
    feed_path.write_text(json.dumps(feed, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return [feed_path, *_write_images(directory, images)]


def _write_images(directory: Path, images: dict[int, list[ArticleImage]]) -> list[Path]:
    written = []
    for article_images in images.values():
        for image in article_images:
            path = directory / "images" / image.filename
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(image.data)
            written.append(path)
    return written


@lru_cache(maxsize=8)
def catalog_translations(language: str) -> NullTranslations:
    """Load the public pages' texts for `language` from the web app's .po file."""
    po_path = CATALOG_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def relative_url(endpoint: str, **values) -> str:
    """Map the public pages' endpoints to paths relative to a page one folder below the export root."""
    if endpoint == "static":
        return f"../static/{values['filename']}"
    if endpoint == "public.index":
        return f"../{values['language']}/index.html"
    if endpoint == "public.article":
        return f"../{values['language']}/{values['slug']}.html"
    if endpoint == "public.asking":
        return f"../{values['language']}/{ASKING_PAGE}.html"
    if endpoint == "public.image":
        return f"../images/{values['image_id']}-{values['sha']}.{values['extension']}"
    raise ValueError(f"endpoint {endpoint!r} has no static copy: guard it with `static_export` in the template.")


@pass_context
def _dateformat(context, value: dt.date | None, format: str = "medium") -> str:
    if value is None:
        return ""
    return format_date(value, format=format, locale=f"{context['language']}_BE")


def export_environment(language: str) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(catalog_translations(language), newstyle=True)
    environment.filters["dateformat"] = _dateformat
    environment.globals.update(
        url_for=relative_url,
        LANGUAGES=LANGUAGES,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        page_language=lambda: language,
        static_export=True,
    )
    return environment


def export_html(session: Session, settings: Settings, directory: Path) -> list[Path]:
    """Write a static copy of the public FAQ to DIRECTORY; return the files written.

    Layout: index.html (links to the languages), <language>/index.html,
    <language>/<slug>.html, <language>/je-vraag.html, static/ and images/.
    The copy has no search and no vote form, because those need the server.
    """
    directory.mkdir(parents=True, exist_ok=True)
    articles = published_articles(session)
    images = images_by_article(session, [article.id for article in articles])
    slugs_by_language = {language: {a.slug for a in articles if a.language == language} for language in LANGUAGES}
    written: list[Path] = []

    for language in LANGUAGES:
        environment = export_environment(language)
        common = {
            "language": language,
            "central_address": settings.from_address,
            "retention_sender_days": settings.retention_sender_days,
            "quick_exit_url": QUICK_EXIT_URL,
        }
        in_language = [article for article in articles if article.language == language]
        index_switch = {code: relative_url("public.index", language=code) for code in LANGUAGES}
        pages = {
            "index.html": environment.get_template("public/index.html").render(
                themes=by_theme(in_language),
                switch_urls=index_switch,
                jsonld=faq_page_jsonld(in_language, language),
                **common,
            ),
            f"{ASKING_PAGE}.html": environment.get_template("public/asking.html").render(
                switch_urls={code: relative_url("public.asking", language=code) for code in LANGUAGES}, **common
            ),
        }
        for article in in_language:
            switch_urls = {
                code: relative_url("public.article", language=code, slug=article.slug)
                if article.slug in slugs_by_language[code]
                else relative_url("public.index", language=code)
                for code in LANGUAGES
            }
            pages[f"{article.slug}.html"] = environment.get_template("public/article.html").render(
                article=article,
                body=Markup(article_html(article.body)),
                images=images[article.id],
                switch_urls=switch_urls,
                jsonld=faq_page_jsonld([article], language),
                **common,
            )
        for name, html in pages.items():
            path = directory / language / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(html, encoding="utf-8")
            written.append(path)

    written.append(_write_root_index(directory))
    written.extend(_copy_static(directory))
    written.extend(_write_images(directory, images))
    return written


def _write_root_index(directory: Path) -> Path:
    environment = export_environment("nl")
    html = environment.get_template("public/export_root.html").render(language="nl")
    path = directory / "index.html"
    path.write_text(html, encoding="utf-8")
    return path


def _copy_static(directory: Path) -> list[Path]:
    target = directory / "static"
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for name in STATIC_FILES:
        copied.append(Path(shutil.copyfile(STATIC_DIR / name, target / name)))
    return copied
