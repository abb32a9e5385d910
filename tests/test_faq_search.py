"""Public FAQ search over the real Dutch articles: a specific question lists the few articles that fit."""

import re

import pytest

from helpdesk.db import session_scope
from kb.transfer import CONTENT_DIR, import_directory
from tests.admin_fixtures import app, client  # noqa: F401 (pytest fixtures)

RESULT_LINK = re.compile(r'<li><a href="/faq/nl/([a-z0-9-]+)">')
MORE_LINK = re.compile(r'<a href="(/faq/nl/search\?[^"]*meer=1[^"]*)">')


@pytest.fixture
def content(settings):
    with session_scope(settings) as session:
        summary = import_directory(session, CONTENT_DIR)
    assert not summary.errors


def result_slugs(client, url: str) -> tuple[list[str], str]:
    response = client.get(url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return RESULT_LINK.findall(page.split("<h1>", 1)[1]), page


def test_specific_question_lists_few_articles(client, content):
    slugs, page = result_slugs(client, "/faq/nl/search?q=waar+kan+ik+me+anoniem+laten+testen")

    assert slugs[0] == "anoniem-testen"
    assert "waar-testen" in slugs
    assert len(slugs) <= 4
    assert MORE_LINK.search(page.replace("&amp;", "&"))


def test_more_link_lists_weaker_hits(client, content):
    relevant, page = result_slugs(client, "/faq/nl/search?q=waar+kan+ik+me+anoniem+laten+testen")
    more_url = MORE_LINK.search(page.replace("&amp;", "&")).group(1)

    everything, more_page = result_slugs(client, more_url)

    assert everything[: len(relevant)] == relevant
    assert len(everything) > len(relevant)
    assert not MORE_LINK.search(more_page.replace("&amp;", "&"))


def test_broad_word_keeps_several_articles(client, content):
    slugs, _ = result_slugs(client, "/faq/nl/search?q=condoom")

    assert len(slugs) >= 4
    assert "condoom-gescheurd" in slugs
