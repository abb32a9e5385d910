import datetime as dt
import json
import re
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from helpdesk.db import session_scope
from kb import faq_feedback
from kb.articles import create_draft, get_article
from kb.faq_models import ArticleVote
from kb.mining_models import SearchMiss
from kb.models import Article
from tests.admin_fixtures import app, client  # noqa: F401 (pytest fixtures)

SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
# Links that may leave the site: the quick exit and the sources an article cites.
ALLOWED_OUTSIDE_LINKS = {"https://www.meteo.be/", "https://www.example.org/bron"}


@pytest.fixture
def articles(settings):
    with session_scope(settings) as session:
        create_draft(
            session, "condoom-gescheurd", "nl", "Het condoom scheurde. Wat nu?", status="published", theme="gezondheid",
            short_answer="Ga binnen 72 uur naar een spoeddienst voor PEP.", body="## Wat je kunt doen\n\nGa naar een spoeddienst.",
            keywords=["gescheurd condoom", "PEP"], sources=[{"title": "Voorbeeldbron", "url": "https://www.example.org/bron"}],
            last_checked="2026-11-01",
        )
        create_draft(
            session, "condoom-gescheurd", "fr", "Le préservatif s'est déchiré", status="published", theme="gezondheid",
            short_answer="Va aux urgences dans les 72 heures.", body="Texte.",
        )
        create_draft(session, "nog-niet-klaar", "nl", "Concept over recht", status="draft", body="Nog niet klaar.")


PUBLIC_URLS = (
    "/faq/nl/",
    "/faq/fr/",
    "/faq/en/",
    "/faq/nl/condoom-gescheurd",
    "/faq/fr/condoom-gescheurd",
    "/faq/nl/search?q=condoom",
    "/faq/nl/search?q=zzzonbekend",
    "/faq/nl/info/je-vraag",
    "/faq/nl/bestaat-niet",
)


class References(HTMLParser):
    """Collects every URL a page refers to, with the tag and attributes it came from."""

    def __init__(self):
        super().__init__()
        self.references: list[tuple[str, dict, str]] = []
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        for name in ("src", "href", "action", "data", "poster", "srcset", "formaction"):
            if attributes.get(name):
                self.references.append((tag, attributes, attributes[name]))


def parse(html: str) -> References:
    parser = References()
    parser.feed(html)
    return parser


def test_public_pages_set_no_cookie(client, articles):
    for url in PUBLIC_URLS + ("/sitemap.xml", "/robots.txt", "/faq/nl/jsonld/", "/faq/nl/jsonld/condoom-gescheurd"):
        response = client.get(url)
        assert "Set-Cookie" not in response.headers, url
    assert client.get_cookie("helpdesk_session") is None


def test_public_pages_reference_no_other_host(client, articles):
    for url in PUBLIC_URLS:
        page = parse(client.get(url).get_data(as_text=True))
        assert page.references, url
        for tag, attributes, target in page.references:
            parts = urlsplit(target)
            if parts.scheme in {"mailto"}:
                continue
            if not parts.netloc and not parts.scheme:
                assert not target.startswith("//"), (url, target)
                continue
            # Only plain links may leave the site, never a loaded resource or a form target.
            assert tag == "a", (url, tag, target)
            assert target in ALLOWED_OUTSIDE_LINKS, (url, target)
            assert "noreferrer" in attributes.get("rel", ""), (url, target)


def test_article_etag_and_304(client, articles):
    first = client.get("/faq/nl/condoom-gescheurd")
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert "public" in first.headers["Cache-Control"]
    assert "max-age=" in first.headers["Cache-Control"]

    again = client.get("/faq/nl/condoom-gescheurd", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    cached = client.get("/faq/nl/condoom-gescheurd", headers={"If-None-Match": '"other"'})
    assert cached.status_code == 200
    assert cached.get_data() == first.get_data()
    assert cached.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    assert cached.headers["ETag"] == etag
    assert "Set-Cookie" not in cached.headers
    head = client.head("/faq/nl/condoom-gescheurd")
    assert head.status_code == 200
    assert head.get_data() == b""
    assert client.get("/faq/nl/", headers={"If-None-Match": etag}).status_code == 200


def test_cache_follows_database_changes(app, client, settings, articles):
    app.extensions["faq_page_cache"].check_seconds = 0  # another process published: notice at once
    assert "Het condoom scheurde. Wat nu?" in client.get("/faq/nl/").get_data(as_text=True)
    with session_scope(settings) as session:
        from kb.articles import save_article

        save_article(session, get_article(session, "condoom-gescheurd", "nl"), title="Gescheurd condoom: wat nu?")
    assert "Gescheurd condoom: wat nu?" in client.get("/faq/nl/").get_data(as_text=True)


def test_cache_serves_same_page_within_interval(app, client, settings, articles):
    client.get("/faq/nl/")
    with session_scope(settings) as session:
        get_article(session, "condoom-gescheurd", "nl").title = "Stille wijziging"
    # Within the fingerprint interval this process serves its copy until told to drop it.
    assert "Stille wijziging" not in client.get("/faq/nl/").get_data(as_text=True)
    with app.app_context():
        from admin.public import invalidate_page_cache

        invalidate_page_cache()
    assert "Stille wijziging" in client.get("/faq/nl/").get_data(as_text=True)


def test_search_is_not_cached_and_counts_misses(client, settings, articles):
    hit = client.get("/faq/nl/search?q=gescheurd+condoom")
    assert hit.headers["Cache-Control"] == "no-store"
    assert 'href="/faq/nl/condoom-gescheurd"' in hit.get_data(as_text=True)
    client.get("/faq/nl/search?q=Parkeerboete+club")
    client.get("/faq/nl/search?q=parkeerboete%20%20CLUB")
    client.get("/faq/nl/search?q=bel+0470+12+34+56")
    with session_scope(settings) as session:
        misses = {miss.query: miss.count for miss in session.scalars(select(SearchMiss))}
    assert misses["parkeerboete club"] == 2
    assert not any("0470" in query for query in misses)
    assert "gescheurd condoom" not in misses


def test_search_miss_redacted_before_folding(client, settings, articles):
    client.get("/faq/nl/search?q=hiv+test+Marie+Dubois")

    with session_scope(settings) as session:
        queries = list(session.scalars(select(SearchMiss.query)))
    assert queries == ["hiv test [naam]"]


def test_search_misses_capped_per_day(settings, monkeypatch):
    monkeypatch.setattr(faq_feedback, "MAX_SEARCH_MISS_QUERIES_PER_DAY", 3)
    day = dt.date(2026, 11, 2)

    with session_scope(settings) as session:
        stored = [faq_feedback.record_search_miss(session, "nl", f"vraag {number}", day=day) for number in range(5)]
        repeated = faq_feedback.record_search_miss(session, "fr", "vraag 0", day=day)
        repeated_stored = faq_feedback.record_search_miss(session, "nl", "vraag 1", day=day)
        next_day = faq_feedback.record_search_miss(session, "nl", "vraag 4", day=day + dt.timedelta(days=1))

    assert stored == [True, True, True, False, False]
    assert repeated is False
    assert repeated_stored is True
    assert next_day is True
    with session_scope(settings) as session:
        counts = {(miss.day, miss.query): miss.count for miss in session.scalars(select(SearchMiss))}
    assert counts == {
        (day, "vraag 0"): 1,
        (day, "vraag 1"): 2,
        (day, "vraag 2"): 1,
        (day + dt.timedelta(days=1), "vraag 4"): 1,
    }


def test_sitemap_lists_published_articles(client, settings, articles):
    response = client.get("/sitemap.xml")
    assert response.mimetype == "application/xml"
    root = ElementTree.fromstring(response.get_data())
    locations = [element.text for element in root.findall("s:url/s:loc", SITEMAP_NS)]
    assert f"{settings.public_url}/faq/nl/condoom-gescheurd" in locations
    assert f"{settings.public_url}/faq/fr/condoom-gescheurd" in locations
    assert f"{settings.public_url}/faq/nl/" in locations
    assert not any("nog-niet-klaar" in location for location in locations)
    alternates = root.findall("s:url/x:link", SITEMAP_NS)
    assert {link.get("hreflang") for link in alternates} == {"nl", "fr"}
    assert client.get("/robots.txt").get_data(as_text=True).endswith(f"Sitemap: {settings.public_url}/sitemap.xml\n")


def jsonld_blocks(html: str) -> list[dict]:
    return [json.loads(block) for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)]


def test_jsonld_is_valid_faqpage(client, settings, articles):
    blocks = jsonld_blocks(client.get("/faq/nl/condoom-gescheurd").get_data(as_text=True))
    assert len(blocks) == 1
    data = blocks[0]
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "FAQPage"
    assert data["inLanguage"] == "nl"
    question = data["mainEntity"][0]
    assert question["@type"] == "Question"
    assert question["name"] == "Het condoom scheurde. Wat nu?"
    assert question["acceptedAnswer"] == {"@type": "Answer", "text": "Ga binnen 72 uur naar een spoeddienst voor PEP."}
    assert question["url"] == f"{settings.public_url}/faq/nl/condoom-gescheurd"

    index = jsonld_blocks(client.get("/faq/nl/").get_data(as_text=True))[0]
    assert [entity["name"] for entity in index["mainEntity"]] == ["Het condoom scheurde. Wat nu?"]

    linked = client.get("/faq/nl/jsonld/condoom-gescheurd")
    assert linked.mimetype == "application/ld+json"
    assert json.loads(linked.get_data()) == data
    assert client.get("/faq/nl/jsonld/nog-niet-klaar").status_code == 404


def test_jsonld_escapes_script_end(client, settings):
    with session_scope(settings) as session:
        create_draft(session, "lastige-titel", "nl", "Wat is </script><b>dit</b>?", status="published", short_answer="x")
    html = client.get("/faq/nl/lastige-titel").get_data(as_text=True)
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    assert "</script" not in block
    assert json.loads(block)["mainEntity"][0]["name"] == "Wat is </script><b>dit</b>?"


def vote_token_of(client, url: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)


def vote(client, token: str, helpful: str = "yes", url: str = "/faq/nl/condoom-gescheurd/vote", **headers):
    return client.post(url, data={"token": token, "helpful": helpful}, headers=headers)


def votes(settings) -> list[tuple]:
    with session_scope(settings) as session:
        return [
            (row.slug, row.language, row.day, row.helpful, row.not_helpful)
            for row in session.scalars(select(ArticleVote).order_by(ArticleVote.id))
        ]


def test_votes_counted_in_aggregate(client, settings, articles):
    token = vote_token_of(client, "/faq/nl/condoom-gescheurd")
    first = vote(client, token, "yes", **{"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert first.status_code == 303
    assert first.headers["Location"].endswith("/faq/nl/condoom-gescheurd?stem=bedankt#vote")
    assert "Set-Cookie" not in first.headers
    # What Chromium sends under Referrer-Policy no-referrer.
    assert vote(client, token, "yes", **{"Origin": "null", "Sec-Fetch-Site": "same-origin"}).status_code == 303
    vote(client, token, "no")
    assert votes(settings) == [("condoom-gescheurd", "nl", dt.date.today(), 2, 1)]
    thanks = client.get("/faq/nl/condoom-gescheurd?stem=bedankt").get_data(as_text=True)
    assert "Bedankt." in thanks
    assert 'name="token"' not in thanks


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Origin": "https://evil.example"}, 403),
        ({"Sec-Fetch-Site": "cross-site"}, 403),
        ({"Sec-Fetch-Site": "same-site"}, 403),
        ({"Origin": "null"}, 403),
        ({"Origin": "http://localhost", "Sec-Fetch-Site": "cross-site"}, 403),
    ],
)
def test_cross_site_votes_rejected(client, settings, articles, headers, status):
    token = vote_token_of(client, "/faq/nl/condoom-gescheurd")
    assert vote(client, token, **headers).status_code == status
    assert votes(settings) == []


def test_vote_needs_token_for_that_article(client, settings, articles):
    french_token = vote_token_of(client, "/faq/fr/condoom-gescheurd")
    assert vote(client, french_token).status_code == 400
    assert vote(client, "forged-token").status_code == 400
    assert vote(client, "").status_code == 400
    dutch_token = vote_token_of(client, "/faq/nl/condoom-gescheurd")
    assert vote(client, dutch_token, helpful="maybe").status_code == 400
    assert votes(settings) == []


def test_asking_page_explains_route(client, settings, articles):
    page = client.get("/faq/nl/info/je-vraag").get_data(as_text=True)
    assert f'href="mailto:{settings.from_address}"' in page
    assert "hoogstens 180 dagen" in page
    assert "data-quick-exit" in page
    assert "zonder namen" in page


@pytest.mark.parametrize("url", ["/faq/nl/", "/faq/nl/condoom-gescheurd", "/faq/nl/search?q=pep", "/faq/nl/info/je-vraag", "/faq/nl/bestaat-niet"])
def test_pages_have_accessible_structure(client, articles, url):
    html = client.get(url).get_data(as_text=True)
    page = parse(html)
    tags = [tag for tag, _ in page.tags]
    assert re.search(r'<html lang="(nl|fr|en)">', html), url
    assert tags.count("h1") == 1, url
    assert "main" in tags, url
    assert "data-quick-exit" in html, url
    for tag, attributes in page.tags:
        if tag == "img":
            assert attributes.get("alt"), (url, attributes)
        if tag == "input" and attributes.get("type") not in {"hidden", "submit"}:
            assert re.search(rf'<label for="{attributes["id"]}"', html), (url, attributes)
    if url != "/faq/nl/bestaat-niet":
        assert 'class="skip-link" href="#main"' in html, url
        assert {"header", "nav", "footer"} <= set(tags), url


@pytest.mark.parametrize(("language", "text"), [("fr", "Que se passe-t-il avec ta question ?"), ("en", "What happens to your question?")])
def test_asking_page_translated(client, articles, language, text):
    page = client.get(f"/faq/{language}/info/je-vraag").get_data(as_text=True)
    assert text in page
