"""Theme headings on the public FAQ index are shown in the page's language."""

import re

import pytest

from admin.app import create_app
from helpdesk.db import session_scope
from kb.transfer import CONTENT_DIR, import_directory

HEADING = re.compile(r'<h2 id="theme-\d+">([^<]+)</h2>')


@pytest.fixture
def faq_client(sqlite_settings):
    with session_scope(sqlite_settings) as session:
        import_directory(session, CONTENT_DIR)
    return create_app(sqlite_settings).test_client()


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nl", "Testen op soa en hiv"),
        ("fr", "Dépistage des IST et du VIH"),
        ("en", "Testing for STIs and HIV"),
    ],
)
def test_theme_heading_translated(faq_client, language, expected):
    headings = HEADING.findall(faq_client.get(f"/faq/{language}/").get_data(as_text=True))
    assert expected in headings
    assert "Testen" not in headings
