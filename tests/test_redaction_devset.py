"""The annotated development set: no leak of a detail that must never leak."""

from __future__ import annotations

from helpdesk.redaction import detect
from helpdesk.redaction.evaluation import Score, load_documents, score_document
from tests.conftest import shared_path

STRICT_TYPES = ("EMAIL", "PHONE", "IBAN", "NATIONAL_ID", "LICENSE_PLATE", "URL")


def test_devset_has_no_strict_leaks():
    documents = load_documents(shared_path("eval", "pii-dev.jsonl"))
    score = Score()
    for document in documents:
        predicted = [(entity.start, entity.end, entity.type) for entity in detect(document.text)]
        score_document(score, document, predicted)

    strict_leaks = [leak for leak in score.leaked if leak[1] in STRICT_TYPES]
    assert documents
    assert strict_leaks == []
