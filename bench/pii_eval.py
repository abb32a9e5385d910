"""Score the redaction detector, and a baseline library, on an annotated set.

Usage:
    .venv/bin/python bench/pii_eval.py [PATH.jsonl] [--baseline deduce|none] [--errors]

PATH defaults to eval/pii-dev.jsonl under HELPDESK_SHARED_DIR (default: the
`shared` folder next to the repository). Both detectors run on the same texts
in the same process, pinned to one CPU core. Start-up (loading word lists and
models) is excluded from the texts-per-second figure.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

from helpdesk.redaction import ENTITY_TYPES, detect  # noqa: E402
from helpdesk.redaction.evaluation import Document, Score, load_documents, score_document  # noqa: E402

SHARED_DIR = Path(os.environ.get("HELPDESK_SHARED_DIR", REPOSITORY.parent / "shared"))
DEFAULT_PATH = SHARED_DIR / "eval" / "pii-dev.jsonl"
STRICT_TYPES = ("EMAIL", "PHONE", "IBAN", "NATIONAL_ID", "LICENSE_PLATE", "URL")
# Time each detector at least this long so that short sets still give a stable rate.
MINIMUM_TIMING_SECONDS = 3.0

Detector = Callable[[str], list[tuple[int, int, str]]]


def helpdesk_detector() -> Detector:
    def run(text: str) -> list[tuple[int, int, str]]:
        return [(entity.start, entity.end, entity.type) for entity in detect(text)]

    return run


DEDUCE_TYPES = {
    "persoon": "PERSON", "patient": "PERSON", "locatie": "ADDRESS", "telefoonnummer": "PHONE",
    "emailadres": "EMAIL", "url": "URL", "bsn": "NATIONAL_ID", "ip_adres": "IP_ADDRESS",
    "iban": "IBAN", "datum": "DATE_OF_BIRTH",
}


def deduce_detector() -> Detector:
    try:
        from deduce import Deduce
    except ImportError:
        raise SystemExit(
            "the baseline library deduce is not installed: run .venv/bin/pip install -e '.[bench]' "
            "or pass --baseline none"
        ) from None

    deducer = Deduce()

    def run(text: str) -> list[tuple[int, int, str]]:
        document = deducer.deidentify(text)
        return [
            (annotation.start_char, annotation.end_char, DEDUCE_TYPES.get(annotation.tag, annotation.tag.upper()))
            for annotation in document.annotations
        ]

    return run


BASELINES = {"deduce": deduce_detector}


def score_set(documents: list[Document], detector: Detector) -> Score:
    """Run the detector once over every document and score the result."""
    score = Score()
    for document in documents:
        score_document(score, document, detector(document.text))
    return score


def time_detectors(documents: list[Document], detectors: list[Detector]) -> list[float]:
    """Return texts per second for each detector.

    The detectors take turns, one pass over the set each, until each has run
    for MINIMUM_TIMING_SECONDS, so that a change in machine load hits all alike.
    """
    elapsed = [0.0] * len(detectors)
    texts = [0] * len(detectors)
    while min(elapsed) < MINIMUM_TIMING_SECONDS:
        for index, detector in enumerate(detectors):
            started = time.perf_counter()
            for document in documents:
                detector(document.text)
            elapsed[index] += time.perf_counter() - started
            texts[index] += len(documents)
    return [count / seconds for count, seconds in zip(texts, elapsed)]


def print_report(name: str, score: Score, rate: float) -> None:
    print(f"\n== {name}")
    print(f"{'type':<15}{'gold':>6}{'found':>7}{'recall':>8}{'typed':>8}{'leaks':>7}{'char prec.':>12}")
    for entity_type in ENTITY_TYPES:
        if not score.gold[entity_type] and not score.predicted_characters[entity_type]:
            continue
        print(
            f"{entity_type:<15}{score.gold[entity_type]:>6}{score.found[entity_type]:>7}"
            f"{score.recall(entity_type):>8.1%}{score.recall(entity_type, typed=True):>8.1%}"
            f"{score.leaks[entity_type]:>7}{score.precision(entity_type):>12.1%}"
        )
    other = sorted(set(score.predicted_characters) - set(ENTITY_TYPES))
    if other:
        print(f"other predicted types: {', '.join(other)}")
    strict_leaks = sum(score.leaks[entity_type] for entity_type in STRICT_TYPES)
    print(f"all types: recall {score.recall():.1%}, typed recall {score.recall(typed=True):.1%}, "
          f"character precision {score.precision():.1%}")
    print(f"leaks: {sum(score.leaks.values())} (strict types {', '.join(STRICT_TYPES)}: {strict_leaks})")
    print(f"documents without leak: {score.documents_without_leak}/{score.documents}")
    print(f"PII-free documents flagged: {score.pii_free_documents_flagged}/{score.pii_free_documents}")
    print(f"texts per second (one core): {rate:.0f}")


def print_errors(score: Score) -> None:
    print("\n-- leaked")
    for document_id, entity_type, text in score.leaked:
        print(f"{document_id}\t{entity_type}\t{text!r}")
    print("\n-- not found (under 80 % covered)")
    for document_id, entity_type, text in score.missed:
        print(f"{document_id}\t{entity_type}\t{text!r}")
    print("\n-- predicted spans with characters outside annotations")
    for document_id, entity_type, text in score.false_spans:
        print(f"{document_id}\t{entity_type}\t{text!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH, help="annotated JSON Lines file")
    parser.add_argument("--baseline", choices=[*BASELINES, "none"], default="deduce", help="library to compare with")
    parser.add_argument("--errors", action="store_true", help="list leaks, misses and false spans of the detector")
    arguments = parser.parse_args()

    if not arguments.path.exists():
        print(f"skipped: annotated set not found at {arguments.path}; pass a path or set HELPDESK_SHARED_DIR")
        return 0
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    documents = load_documents(arguments.path)
    print(f"{len(documents)} documents from {arguments.path}")

    detectors = {"helpdesk.redaction": helpdesk_detector()}
    if arguments.baseline != "none":
        detectors[f"baseline: {arguments.baseline}"] = BASELINES[arguments.baseline]()
    for detector in detectors.values():
        detector("Start-up: load word lists and models before timing.")

    scores = {name: score_set(documents, detector) for name, detector in detectors.items()}
    rates = time_detectors(documents, list(detectors.values()))
    for (name, score), rate in zip(scores.items(), rates):
        print_report(name, score, rate)

    if arguments.errors:
        print_errors(scores["helpdesk.redaction"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
