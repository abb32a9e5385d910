"""Article bodies as HTML: Markdown rendered, then sanitised with nh3 so raw HTML in it is cleaned too.

The public FAQ and the static export both render through here, so a page and
its exported copy show the same markup.
"""

from __future__ import annotations

import markdown
import nh3

# No img, iframe, form or style: an article must load nothing and cannot restyle
# the page. Illustrations are separate, checked uploads (kb.faq_images).
ARTICLE_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "dl", "dt", "em", "h2", "h3", "h4", "hr",
    "i", "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ARTICLE_ATTRIBUTES = {"a": {"href", "title"}}
LINK_SCHEMES = {"http", "https", "mailto", "tel"}


def article_html(text: str) -> str:
    """Return the sanitised HTML of a Markdown article body."""
    html = markdown.markdown(text or "", extensions=["sane_lists", "tables"], output_format="html")
    return nh3.clean(
        html,
        tags=ARTICLE_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ARTICLE_ATTRIBUTES,
        url_schemes=LINK_SCHEMES,
        link_rel="noopener noreferrer",
    )
