"""Article Markdown renders in one module, kb.markup, for the public FAQ, the editor preview and the export."""

import ast
from pathlib import Path

from helpdesk.db import session_scope
from kb.articles import create_draft
from kb.markup import article_html
from tests.admin_fixtures import app, client  # noqa: F401 (pytest fixtures)

ADMIN_DIR = Path(__file__).resolve().parents[1] / "admin"


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_admin_never_renders_markdown_itself():
    offenders = [str(path) for path in ADMIN_DIR.rglob("*.py") if "markdown" in imported_modules(path)]

    assert offenders == []


def test_article_html_drops_script_and_image():
    html = article_html("Tekst <script>alert(1)</script> ![x](http://example.org/x.png)")

    assert "<script" not in html
    assert "<img" not in html
    assert "<p>Tekst" in html


def test_article_page_renders_through_kb_markup(client, settings):
    body = "## Kop\n\n| a | b |\n| - | - |\n| 1 | 2 |\n\n<b onclick=\"x()\">vet</b>"
    with session_scope(settings) as session:
        create_draft(session, "tabel", "nl", "Een tabel", status="published", short_answer="Kort.", body=body)

    page = client.get("/faq/nl/tabel").get_data(as_text=True)

    assert article_html(body) in page
