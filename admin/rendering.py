"""HTML for display: mail parts for staff, sanitised with nh3, and byte sizes.

Article bodies render through kb.markup.article_html, shared with the static export.
"""

from __future__ import annotations

import nh3
from babel.numbers import format_decimal
from flask_babel import get_locale
from markupsafe import Markup

from kb.markup import LINK_SCHEMES

# No img, video, audio, iframe, form or style: a mail shown to staff must not
# load anything (remote images report that the mail was read) or restyle the page.
MAIL_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "div", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "small", "span", "strong", "sub",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
MAIL_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
MAIL_DROPPED_WITH_CONTENT = {"script", "style", "title", "head", "noscript", "template", "svg", "math"}


def sanitize_mail_html(html: str | None) -> Markup:
    """Clean an HTML mail part for display, whatever ingestion already did to it."""
    if not html:
        return Markup("")
    cleaned = nh3.clean(
        html,
        tags=MAIL_TAGS,
        clean_content_tags=MAIL_DROPPED_WITH_CONTENT,
        attributes=MAIL_ATTRIBUTES,
        url_schemes=LINK_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(cleaned)


def format_size(size: int | None) -> str:
    """Format a byte count the way staff read it (12,5 kB in Dutch), in the current locale."""
    size = size or 0
    locale = get_locale()
    for unit, factor in (("MB", 1024 * 1024), ("kB", 1024)):
        if size >= factor:
            return f"{format_decimal(size / factor, format='#,##0.#', locale=locale)} {unit}"
    return f"{format_decimal(size, locale=locale)} B"
