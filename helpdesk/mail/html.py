"""HTML parts: readable text for staff and search, and sanitised HTML for display.

Sanitised HTML keeps formatting and inline (cid:) images but no scripts,
styles, forms or remote resources, so opening a mail sends no read signal back
to the sender.
"""

from __future__ import annotations

import html as html_module
import re
from html.parser import HTMLParser
from typing import Callable

import html2text
import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "div", "dl", "dt", "em",
    "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre",
    "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "cid"}
REMOVED_WITH_CONTENT = {"script", "style", "title", "head", "noscript", "template", "object", "iframe"}
BLANK_LINES = re.compile(r"\n{3,}")
TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)
# html2text escapes characters that Markdown would read as markup ("1\\.", "\\-").
MARKDOWN_ESCAPE = re.compile(r"\\([-.+*_#`!\[\]()>\\])")


def html_to_text(html: str) -> str:
    """Convert an HTML body to plain text that keeps paragraphs, lists and link targets."""
    converter = html2text.HTML2Text()
    converter.body_width = 0  # no hard wrapping: quote detection works on whole lines
    converter.ignore_images = True
    converter.ignore_links = True  # link targets would become Markdown noise; redaction removes URLs anyway
    converter.ignore_emphasis = True
    converter.ignore_tables = True
    converter.unicode_snob = True
    converter.single_line_break = False
    try:
        text = converter.handle(html)
    except Exception:  # noqa: BLE001 - html2text fails on some broken markup; fall back to stripping tags
        text = html_module.unescape(nh3.clean(html, tags=set(), clean_content_tags=REMOVED_WITH_CONTENT))
    text = MARKDOWN_ESCAPE.sub(r"\1", text)
    text = TRAILING_SPACE.sub("", text)
    return BLANK_LINES.sub("\n\n", text).strip()


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    # Remote images are dropped so that opening a mail loads nothing from
    # outside; that also removes tracking pixels.
    if tag == "img" and attribute == "src" and not value.strip().lower().startswith("cid:"):
        return None
    return value


def sanitize_html(html: str) -> str:
    """Return HTML safe to show to staff: no scripts, styles or remote images."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags=REMOVED_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_keep_attribute,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


class _TextRewriter(HTMLParser):
    def __init__(self, rewrite: Callable[[str], str]) -> None:
        super().__init__(convert_charrefs=True)
        self.rewrite = rewrite
        self.output: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.output.append(self._tag(tag, attrs, closing=False))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.output.append(self._tag(tag, attrs, closing=True))

    def handle_endtag(self, tag: str) -> None:
        self.output.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.output.append(html_module.escape(self.rewrite(data), quote=False))

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]], closing: bool) -> str:
        parts = [tag]
        for name, value in attrs:
            if value is None:
                parts.append(name)
            elif name == "src" and value.lower().startswith("cid:"):
                parts.append(f'{name}="{html_module.escape(value)}"')
            else:
                parts.append(f'{name}="{html_module.escape(self.rewrite(value))}"')
        return "<" + " ".join(parts) + (" />" if closing else ">")


def rewrite_html_text(html: str, rewrite: Callable[[str], str]) -> str:
    """Apply `rewrite` to every text node and attribute value of sanitised HTML.

    Used to redact the HTML part. A detail split over two text nodes (for
    example by a <b> tag inside a name) is seen as two pieces.
    """
    rewriter = _TextRewriter(rewrite)
    rewriter.feed(html)
    rewriter.close()
    return sanitize_html("".join(rewriter.output))
