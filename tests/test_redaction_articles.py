"""The shipped FAQ articles pass the publication check of the redaction detector.

The articles cite public services, helplines and medical terms but no person,
so anything the detector finds in them is a false positive that would stop an
editor from publishing a normal article.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpdesk.redaction import detect, publication_problems
from kb.files import iter_article_files, read_article_file
from kb.publishing import CHECKED_FIELDS

CONTENT_DIR = Path(__file__).resolve().parents[1] / "kb" / "content"
ARTICLE_PATHS = list(iter_article_files(CONTENT_DIR))


def field_text(value: object) -> str:
    """Join a list field the way the publication check does."""
    return ", ".join(value) if isinstance(value, list) else str(value or "")


def test_articles_are_shipped():
    assert len(ARTICLE_PATHS) >= 60


@pytest.mark.parametrize("path", ARTICLE_PATHS, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_article_passes_publication_check(path: Path):
    article = read_article_file(path)
    flagged = []
    for field in CHECKED_FIELDS:
        text = field_text(article.content.get(field))
        if publication_problems(text):
            spans = [f"{entity.type} {text[entity.start:entity.end]!r}" for entity in detect(text)]
            flagged.append(f"{path.parent.name}/{path.name} {field}: {', '.join(spans)}")

    assert flagged == [], "\n".join(flagged)
