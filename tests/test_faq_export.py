import io
import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from PIL import Image

from helpdesk.db import session_scope
from kb import faq_commands
from kb.articles import create_draft
from kb.faq_images import add_image


@pytest.fixture
def articles(settings):
    with session_scope(settings) as session:
        dutch = create_draft(
            session, "condoom-gescheurd", "nl", "Het condoom scheurde. Wat nu?", status="published", theme="gezondheid",
            short_answer="Ga binnen 72 uur naar een spoeddienst.", body="## Wat je kunt doen\n\n<script>x()</script>Ga naar een **spoeddienst**.",
            sources=[{"title": "Voorbeeldbron", "url": "https://www.example.org/bron"}], last_checked="2026-11-01",
        )
        create_draft(
            session, "condoom-gescheurd", "fr", "Le préservatif s'est déchiré", status="published", theme="gezondheid",
            short_answer="Va aux urgences.", body="Texte.",
        )
        create_draft(session, "nog-niet-klaar", "nl", "Concept", status="draft", body="Nog niet klaar.")
        buffer = io.BytesIO()
        Image.new("RGB", (20, 10), (0, 90, 160)).save(buffer, "PNG")
        image = add_image(session, dutch, buffer.getvalue(), "Een blauwe kaart", None)
        return {"image": image.filename}


def export(settings, export_format: str, directory: Path, monkeypatch):
    monkeypatch.setattr(faq_commands, "get_settings", lambda: settings)
    result = CliRunner().invoke(faq_commands.faq_group, ["export", "--format", export_format, str(directory)])
    assert result.exit_code == 0, result.output
    return result


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.targets: list[tuple[str, str]] = []
        self.forms = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.forms += 1
        for name in ("href", "src", "action"):
            if attributes.get(name):
                self.targets.append((tag, attributes[name]))


def test_html_export_is_self_contained(settings, articles, tmp_path, monkeypatch):
    target = tmp_path / "site"
    result = export(settings, "html", target, monkeypatch)
    assert "Exported" in result.output

    assert (target / "index.html").exists()
    assert (target / "nl" / "condoom-gescheurd.html").exists()
    assert (target / "fr" / "condoom-gescheurd.html").exists()
    assert (target / "nl" / "je-vraag.html").exists()
    assert (target / "static" / "helpdesk.css").exists()
    assert (target / "static" / "faq.css").exists()
    assert (target / "images" / articles["image"]).exists()
    assert not (target / "nl" / "nog-niet-klaar.html").exists()

    pages = sorted(target.rglob("*.html"))
    assert len(pages) == 1 + 3 * 2 + 2  # root, three indexes and asking pages, two articles
    for page in pages:
        links = Links()
        links.feed(page.read_text(encoding="utf-8"))
        assert links.forms == 0, page  # no search or vote without the server
        for tag, link in links.targets:
            parts = urlsplit(link)
            if parts.scheme in {"https", "mailto"}:
                assert tag == "a", (page, link)
                continue
            assert not link.startswith("/"), (page, link)
            resolved = (page.parent / parts.path).resolve()
            assert resolved.exists(), (page, link)
            assert target.resolve() in resolved.parents, (page, link)


def test_html_export_renders_article(settings, articles, tmp_path, monkeypatch):
    target = tmp_path / "site"
    export(settings, "html", target, monkeypatch)
    dutch = (target / "nl" / "condoom-gescheurd.html").read_text(encoding="utf-8")
    assert "<h1>Het condoom scheurde. Wat nu?</h1>" in dutch
    assert "<strong>spoeddienst</strong>" in dutch
    assert "x()" not in dutch
    assert f'src="../images/{articles["image"]}" alt="Een blauwe kaart"' in dutch
    assert 'href="../fr/condoom-gescheurd.html" hreflang="fr"' in dutch
    assert 'href="../en/index.html" hreflang="en"' in dutch
    assert "1 november 2026" in dutch
    assert f'href="mailto:{settings.from_address}"' in dutch
    assert '"@type": "FAQPage"' in dutch

    french_index = (target / "fr" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in french_index
    assert "Questions fréquentes" in french_index
    assert 'href="../fr/condoom-gescheurd.html"' in french_index


def test_json_export_feed(settings, articles, tmp_path, monkeypatch):
    target = tmp_path / "feed"
    export(settings, "json", target, monkeypatch)
    feed = json.loads((target / "faq.json").read_text(encoding="utf-8"))
    assert set(feed["languages"]) == {"nl", "fr", "en"}
    assert feed["languages"]["en"] == []
    assert [entry["slug"] for entry in feed["languages"]["nl"]] == ["condoom-gescheurd"]
    entry = feed["languages"]["nl"][0]
    assert entry["title"] == "Het condoom scheurde. Wat nu?"
    assert entry["short_answer"] == "Ga binnen 72 uur naar een spoeddienst."
    assert "<strong>spoeddienst</strong>" in entry["body_html"]
    assert "<script>" not in entry["body_html"]
    assert entry["theme"] == "gezondheid"
    assert entry["last_checked"] == "2026-11-01"
    assert entry["sources"] == [{"title": "Voorbeeldbron", "url": "https://www.example.org/bron"}]
    assert entry["images"] == [{"src": f"images/{articles['image']}", "alt": "Een blauwe kaart", "width": 20, "height": 10}]
    assert (target / entry["images"][0]["src"]).exists()
    assert feed["languages"]["fr"][0]["title"] == "Le préservatif s'est déchiré"


def test_export_format_is_required(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(faq_commands, "get_settings", lambda: settings)
    result = CliRunner().invoke(faq_commands.faq_group, ["export", "--format", "pdf", str(tmp_path)])
    assert result.exit_code == 2
    assert "'pdf' is not one of 'html', 'json'" in result.output
