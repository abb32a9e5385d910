"""Parsing raw mail: decoding, HTML to text, quotes and signatures, automatic mail.

`parse_message(raw)` is the entry point; it never raises on bad input.
"""

from helpdesk.mail.headers import Address
from helpdesk.mail.html import html_to_text, rewrite_html_text, sanitize_html
from helpdesk.mail.message import BounceInfo, ParsedAttachment, ParsedMessage
from helpdesk.mail.parser import parse_message
from helpdesk.mail.quotes import split_new_text

__all__ = [
    "Address",
    "BounceInfo",
    "ParsedAttachment",
    "ParsedMessage",
    "html_to_text",
    "parse_message",
    "rewrite_html_text",
    "sanitize_html",
    "split_new_text",
]
