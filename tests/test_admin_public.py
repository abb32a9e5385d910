import re

import pytest

from helpdesk.db import session_scope
from kb.models import Article, ArticleStatus
from tests.admin_fixtures import agent, agent_client, app, client  # noqa: F401 (pytest fixtures)

PUBLIC_URLS = (
    "/",
    "/faq/nl/",
    "/faq/fr/",
    "/faq/nl/condoom-gescheurd",
    "/faq/fr/condoom-gescheurd",
    "/faq/nl/search?q=condoom",
    "/faq/nl/search",
    "/faq/nl/bestaat-niet",
    "/faq/xx/",
)


@pytest.fixture
def articles(settings):
    with session_scope(settings) as session:
        session.add_all(
            [
                Article(
                    slug="condoom-gescheurd",
                    language="nl",
                    theme="gezondheid",
                    title="Het condoom scheurde. Wat nu?",
                    short_answer="Ga binnen 72 uur naar een spoeddienst voor PEP.",
                    body=(
                        "## Wat je kunt doen\n\n- Ga naar een **spoeddienst**.\n\n"
                        "<script>alert('xss')</script><img src=\"https://tracker.example.com/a.gif\">"
                        "[Meer info](https://www.example.org/pep)"
                    ),
                    keywords=["gescheurd condoom", "PEP"],
                    sources=[{"title": "Voorbeeldbron", "url": "https://www.example.org/bron"}],
                    status=ArticleStatus.PUBLISHED,
                ),
                Article(
                    slug="condoom-gescheurd",
                    language="fr",
                    theme="gezondheid",
                    title="Le préservatif s'est déchiré",
                    short_answer="Va aux urgences dans les 72 heures.",
                    body="Texte.",
                    status=ArticleStatus.PUBLISHED,
                ),
                Article(
                    slug="nog-niet-klaar",
                    language="nl",
                    theme="recht",
                    title="Concept over condoom en recht",
                    body="Nog niet klaar.",
                    status=ArticleStatus.DRAFT,
                ),
            ]
        )


def test_root_redirects_to_dutch_faq(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/faq/nl/"


def test_index_lists_published_articles_only(client, articles):
    page = client.get("/faq/nl/").get_data(as_text=True)
    assert 'href="/faq/nl/condoom-gescheurd"' in page
    assert "Het condoom scheurde. Wat nu?" in page
    assert "Gezondheid" in page
    assert "nog-niet-klaar" not in page


def test_article_renders_sanitised_markdown(client, articles):
    response = client.get("/faq/nl/condoom-gescheurd")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h2>Wat je kunt doen</h2>" in page
    assert "<strong>spoeddienst</strong>" in page
    assert "alert(" not in page
    assert "tracker.example.com" not in page
    assert 'href="https://www.example.org/pep" rel="noopener noreferrer"' in page
    assert "Voorbeeldbron" in page


def test_draft_and_unknown_articles_are_not_found(client, articles):
    assert client.get("/faq/nl/nog-niet-klaar").status_code == 404
    assert client.get("/faq/nl/bestaat-niet").status_code == 404
    assert client.get("/faq/xx/").status_code == 404
    assert client.get("/faq/xx/condoom-gescheurd").status_code == 404


def test_language_switch_links_to_translation(client, articles):
    page = client.get("/faq/nl/condoom-gescheurd").get_data(as_text=True)
    assert 'href="/faq/fr/condoom-gescheurd" hreflang="fr"' in page
    assert 'href="/faq/en/" hreflang="en"' in page  # no English version: the English index


@pytest.mark.parametrize(("language", "heading"), [("nl", "Veelgestelde vragen"), ("fr", "Questions fréquentes"), ("en", "Frequently asked questions")])
def test_pages_speak_the_url_language(client, language, heading):
    page = client.get(f"/faq/{language}/").get_data(as_text=True)
    assert f'<html lang="{language}">' in page
    assert heading in page


def test_search_finds_published_articles(client, articles):
    page = client.get("/faq/nl/search?q=gescheurd+condoom").get_data(as_text=True)
    assert 'href="/faq/nl/condoom-gescheurd"' in page
    assert "nog-niet-klaar" not in page
    empty = client.get("/faq/nl/search?q=zzzonbekendwoord").get_data(as_text=True)
    assert "Niets gevonden" in empty


def test_pages_show_central_address_and_quick_exit(client, settings, articles):
    for url in ("/faq/nl/", "/faq/nl/condoom-gescheurd", "/faq/nl/search?q=pep"):
        page = client.get(url).get_data(as_text=True)
        assert f'href="mailto:{settings.from_address}"' in page, url
        assert "data-quick-exit" in page, url
        assert "hoogstens 180 dagen" in page, url


def test_public_pages_set_no_cookie(client, articles):
    for url in PUBLIC_URLS:
        response = client.get(url)
        assert "Set-Cookie" not in response.headers, url


def test_public_pages_no_cookie_for_staff(agent_client, articles):
    for url in PUBLIC_URLS:
        response = agent_client.get(url)
        assert "Set-Cookie" not in response.headers, url
    assert agent_client.get("/admin/queue/").status_code == 200


def test_public_pages_load_nothing_from_other_hosts(client, articles):
    for url in PUBLIC_URLS:
        page = client.get(url).get_data(as_text=True)
        loaded = re.findall(r'<(?:script|img|iframe|link|source|video|audio|embed|object)\b[^>]*(?:src|href|data)="([^"]*)"', page)
        loaded += re.findall(r'<form\b[^>]*action="([^"]*)"', page)
        loaded += re.findall(r"url\(([^)]*)\)", page)
        for target in loaded:
            assert target.startswith("/"), (url, target)
            assert not target.startswith("//"), (url, target)
        # Links to other sites are only the quick exit and article sources, and send no referrer.
        for tag in re.findall(r'<a\b[^>]*href="(?:https?:)?//[^"]*"[^>]*>', page):
            assert 'rel="noreferrer noopener"' in tag or 'rel="noopener noreferrer"' in tag, (url, tag)


def test_public_stylesheet_loads_nothing_from_other_hosts(client):
    css = client.get("/static/helpdesk.css").get_data(as_text=True)
    assert "@import" not in css
    assert "http" not in css
