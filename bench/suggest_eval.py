"""Measure article suggestions and urgency on a labelled question set.

Each question is a JSONL line with subject, body, language, primary, topics,
urgent and urgent_reason, where `primary: none` means that no article fits.
The script turns it into a raw mail with varied encodings, HTML-only bodies,
quoted earlier mail or signatures. The mail then runs through the same path as
`helpdesk suggest`: parse, redact, suggest, draft.

Definitions:
- top-1: the first suggestion is the primary article or any labelled topic.
- top-3: the primary or any labelled topic is among the first three.
- MRR: mean of 1/rank of the first suggestion that is the primary or a labelled topic (0 when none is listed).
- none handled: a `none` question gets no confident suggestion.
- Questions whose labelled articles are all missing from the knowledge base are left out and counted.

The same questions also run through a plain BM25 baseline (rank_bm25 over the
same articles, lower-cased whitespace tokens, no Dutch processing).
A second run pads the knowledge base to 1,000 articles with generated filler
articles and measures latency again.

`--calibrate` instead searches the confidence thresholds of kb/suggest.py: it
lists the settings that keep the most answerable questions confident and right
while at least --min-none of the `none` questions stay without a confident suggestion.

Usage:
    .venv/bin/python bench/suggest_eval.py QUESTIONS.jsonl [--content kb/content] [--pad-to 1000]
    .venv/bin/python bench/suggest_eval.py QUESTIONS.jsonl --calibrate [--min-none 0.7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from html import escape
from pathlib import Path

from rank_bm25 import BM25Okapi

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpdesk.config import load_settings  # noqa: E402
from helpdesk.redaction import redact  # noqa: E402
from kb.analysis import commonness_weight, is_real_word  # noqa: E402
from kb.catalog import directory_records  # noqa: E402
from kb.drafts import render_draft  # noqa: E402
from kb.index import ArticleIndex, ArticleRecord  # noqa: E402
from kb.mailtext import parse_mail  # noqa: E402
from kb.language import detect_language  # noqa: E402
from kb.suggest import rank_text, split_questions, suggest  # noqa: E402
from kb.text import stem  # noqa: E402

# Earlier helpdesk replies quoted under a client's reply. They are about a
# different subject on purpose: a quote that leaks into the search shows up as a wrong suggestion.
QUOTED_REPLIES = {
    "nl": "Bedankt voor je vraag over vaccinatie tegen hepatitis B. Die prik krijg je bij de huisarts.",
    "fr": "Merci pour votre question sur la vaccination contre l'hépatite B. Votre médecin peut vous vacciner.",
    "en": "Thank you for your question about the hepatitis B vaccine. Your GP can give it.",
}
QUOTE_HEADERS = {
    "nl": "Op {date} schreef Helpdesk <vragen@helpdesk.test>:",
    "fr": "Le {date}, Helpdesk <vragen@helpdesk.test> a écrit :",
    "en": "On {date}, Helpdesk <vragen@helpdesk.test> wrote:",
}
SIGNATURES = [
    "-- \nJan Peeters\nGSM 0470 12 34 56",
    "Verzonden vanaf mijn iPhone",
    "--\nMarc\nmarc.d@example.org",
    "Envoyé de mon téléphone",
    "Sent from my phone",
]
VARIANTS = ("plain-utf8-qp", "plain-latin1-base64", "html-only", "alternative", "quoted-reply", "signature")


def build_raw_mail(question: dict, number: int, rng: random.Random) -> tuple[bytes, str]:
    """Return a raw mail for one question and the name of the variant used."""
    variant = VARIANTS[number % len(VARIANTS)]
    language = question.get("language", "nl")
    body = question["body"]
    message = EmailMessage()
    message["From"] = f"client{number}@example.net"
    message["To"] = "vragen@helpdesk.test"
    message["Subject"] = question.get("subject", "")
    message["Date"] = format_datetime(dt.datetime(2026, 11, 2, 10, number % 60, tzinfo=dt.timezone.utc))
    message["Message-ID"] = make_msgid(domain="example.net")

    if variant == "plain-utf8-qp":
        message.set_content(body, charset="utf-8", cte="quoted-printable")
    elif variant == "plain-latin1-base64":
        charset = "iso-8859-1" if all(ord(char) < 256 for char in body) else "utf-8"
        message.set_content(body, charset=charset, cte="base64")
    elif variant == "html-only":
        html = "".join(f"<p>{escape(paragraph).replace(chr(10), '<br>')}</p>" for paragraph in body.split("\n\n"))
        message.set_content(f"<html><body>{html}</body></html>", subtype="html", charset="utf-8")
    elif variant == "alternative":
        message.set_content(body, charset="utf-8")
        html = "".join(f"<div>{escape(line)}</div>" for line in body.splitlines())
        message.add_alternative(f"<html><body>{html}</body></html>", subtype="html")
    elif variant == "quoted-reply":
        header = QUOTE_HEADERS.get(language, QUOTE_HEADERS["nl"]).format(date="1 nov. 2026 09:12")
        quoted = "\n".join("> " + line for line in QUOTED_REPLIES.get(language, QUOTED_REPLIES["nl"]).split("\n"))
        message.replace_header("Subject", "Re: " + question.get("subject", ""))
        message["In-Reply-To"] = "<earlier@helpdesk.test>"
        message.set_content(f"{body}\n\n{header}\n{quoted}\n", charset="utf-8")
    else:
        message.set_content(f"{body}\n\n{rng.choice(SIGNATURES)}\n", charset="utf-8")
    return bytes(message), variant


@dataclass
class Outcome:
    question: dict
    ranked: list[str]
    confident: bool
    urgent_reason: str | None
    seconds: float


def run_question(settings, index: ArticleIndex, raw: bytes) -> tuple[list[str], bool, str | None]:
    mail = parse_mail(raw)
    subject = redact(mail.subject).text
    text = redact(mail.new_text or mail.text).text
    result = suggest(index, subject, text, received=mail.date.date() if mail.date else None)
    render_draft(settings, index.by_slug_language, result.confident_slugs, result.language, result.urgency.reason)
    return [item.slug for item in result.suggestions], result.confident, result.urgency.reason


def relevant(question: dict) -> set[str]:
    return {question["primary"], *question.get("topics", [])} - {"none"}


def rank_scores(outcomes: list[Outcome], slugs: set[str]) -> dict:
    """Compute top-1, top-3, MRR and none handling over `outcomes`."""
    answerable = [outcome for outcome in outcomes if outcome.question["primary"] != "none" and relevant(outcome.question) & slugs]
    skipped = sum(1 for outcome in outcomes if outcome.question["primary"] != "none" and not relevant(outcome.question) & slugs)
    nones = [outcome for outcome in outcomes if outcome.question["primary"] == "none"]

    def first_rank(outcome: Outcome) -> int | None:
        gold = relevant(outcome.question)
        return next((position for position, slug in enumerate(outcome.ranked, start=1) if slug in gold), None)

    ranks = [first_rank(outcome) for outcome in answerable]
    count = len(answerable)
    return {
        "answerable": count,
        "skipped_missing_article": skipped,
        "top1": sum(1 for rank in ranks if rank == 1) / count if count else None,
        "top3": sum(1 for rank in ranks if rank is not None and rank <= 3) / count if count else None,
        "mrr": sum(1 / rank for rank in ranks if rank) / count if count else None,
        "confident_answerable": sum(1 for outcome in answerable if outcome.confident) / count if count else None,
        "none_questions": len(nones),
        "none_handled": sum(1 for outcome in nones if not outcome.confident) / len(nones) if nones else None,
    }


def urgency_scores(outcomes: list[Outcome]) -> dict:
    gold = [bool(outcome.question.get("urgent")) for outcome in outcomes]
    predicted = [outcome.urgent_reason is not None for outcome in outcomes]
    true_positive = sum(1 for g, p in zip(gold, predicted) if g and p)
    reason_right = sum(
        1 for outcome in outcomes
        if outcome.question.get("urgent") and outcome.urgent_reason == outcome.question.get("urgent_reason")
    )
    by_reason = {}
    for reason in ("pep-window", "minor", "danger"):
        gold_reason = [outcome for outcome in outcomes if outcome.question.get("urgent_reason") == reason]
        predicted_reason = [outcome for outcome in outcomes if outcome.urgent_reason == reason]
        hits = sum(1 for outcome in gold_reason if outcome.urgent_reason == reason)
        by_reason[reason] = {
            "gold": len(gold_reason),
            "predicted": len(predicted_reason),
            "recall": hits / len(gold_reason) if gold_reason else None,
            "precision": hits / len(predicted_reason) if predicted_reason else None,
        }
    return {
        "urgent_gold": sum(gold),
        "urgent_predicted": sum(predicted),
        "recall": true_positive / sum(gold) if sum(gold) else None,
        "precision": true_positive / sum(predicted) if sum(predicted) else None,
        "reason_right_share_of_gold": reason_right / sum(gold) if sum(gold) else None,
        "by_reason": by_reason,
    }


def latency(outcomes: list[Outcome]) -> dict:
    values = sorted(outcome.seconds * 1000 for outcome in outcomes)
    return {
        "p50_ms": statistics.median(values),
        "p95_ms": values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))],
        "max_ms": values[-1],
    }


def baseline_rankings(records: list[ArticleRecord], raws: list[bytes]) -> list[list[str]]:
    """Rank with rank_bm25 over whitespace tokens: the method without any language processing."""
    documents = [
        f"{record.title} {' '.join(record.keywords)} {record.short_answer} {record.body}".lower().split()
        for record in records
    ]
    bm25 = BM25Okapi(documents)
    rankings = []
    for raw in raws:
        mail = parse_mail(raw)
        query = f"{redact(mail.subject).text} {redact(mail.new_text or mail.text).text}".lower().split()
        scores = bm25.get_scores(query)
        best: dict[str, float] = {}
        for record, score in zip(records, scores):
            best[record.slug] = max(best.get(record.slug, float("-inf")), float(score))
        rankings.append([slug for slug, _ in sorted(best.items(), key=lambda item: -item[1])][:5])
    return rankings


def filler_records(records: list[ArticleRecord], count: int, rng: random.Random) -> list[ArticleRecord]:
    """Generate `count` filler articles from the real articles' words, so they compete in the index."""
    pool = [word for record in records for word in f"{record.title} {record.short_answer} {record.body}".split()]
    themes = sorted({record.theme for record in records}) or ["algemeen"]
    fillers = []
    for number in range(count):
        fillers.append(
            ArticleRecord(
                slug=f"filler-{number:04d}",
                language=rng.choice(["nl", "nl", "nl", "fr", "en"]),
                theme=rng.choice(themes),
                title=" ".join(rng.choices(pool, k=8)),
                short_answer=" ".join(rng.choices(pool, k=50)),
                body=" ".join(rng.choices(pool, k=rng.randint(200, 700))),
                keywords=tuple(" ".join(rng.choices(pool, k=2)) for _ in range(8)),
            )
        )
    return fillers


WARM_UP_QUESTIONS = [
    {"subject": "vraag", "body": "Dag, ik heb een vraag over een soa-test bij de huisarts. Wat kost dat?", "language": "nl"},
    {"subject": "question", "body": "Bonjour, où puis-je me faire dépister près de Liège ?", "language": "fr"},
    {"subject": "question", "body": "Hello, is oral sex without a condom risky?", "language": "en"},
]


def warm_up(settings, index: ArticleIndex) -> None:
    """Empty the per-word caches, then load models and word lists with questions outside the measured set.

    A long-running worker has the models loaded, but it has not seen the
    measured questions, so their words must not be cached from an earlier run.
    """
    stem.cache_clear()
    is_real_word.cache_clear()
    commonness_weight.cache_clear()
    rng = random.Random(0)
    for number, question in enumerate(WARM_UP_QUESTIONS):
        run_question(settings, index, build_raw_mail(question, number, rng)[0])


def evaluate(settings, index: ArticleIndex, questions: list[dict], raws: list[bytes]) -> list[Outcome]:
    outcomes = []
    for question, raw in zip(questions, raws):
        started = time.perf_counter()
        ranked, confident, reason = run_question(settings, index, raw)
        outcomes.append(Outcome(question, ranked, confident, reason, time.perf_counter() - started))
    return outcomes


def per_language(outcomes: list[Outcome], slugs: set[str]) -> dict:
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        groups[outcome.question.get("language", "nl")].append(outcome)
    return {language: rank_scores(group, slugs) for language, group in sorted(groups.items())}


def _first_confident(rankings: list, thresholds: tuple[float, float, float]):
    """Return the hit that `suggest` would put first as confident, or None (same order as kb.suggest)."""
    whole, questions = rankings[0], rankings[1:]
    if whole.is_confident(*thresholds):
        return whole.hits[0]
    tops = [ranking.hits[0] for ranking in questions if ranking.is_confident(*thresholds)]
    return max(tops, key=lambda hit: hit.score) if tops else None


def calibrate(index: ArticleIndex, questions: list[dict], raws: list[bytes], min_none: float) -> list[dict]:
    """Grid-search the confidence thresholds; return the best settings first."""
    rankings = []
    for question, raw in zip(questions, raws):
        mail = parse_mail(raw)
        subject = redact(mail.subject).text
        text = redact(mail.new_text or mail.text).text
        language = detect_language(text if text.strip() else subject)
        units = split_questions(text)
        per_question = [rank_text(index, unit, language, limit=3) for unit in units] if len(units) > 1 else []
        rankings.append((question, [rank_text(index, text, language, limit=3, subject=subject), *per_question]))

    answerable = [(question, ranked) for question, ranked in rankings if question["primary"] != "none"]
    nones = [ranked for question, ranked in rankings if question["primary"] == "none"]
    results = []
    for min_normalised_score in [value / 2 for value in range(4, 21)]:
        for min_margin in (0.0, 0.05, 0.1, 0.15, 0.2, 0.3):
            for high_score in (15.0, 20.0, 25.0, 30.0, 40.0, float("inf")):
                thresholds = (min_normalised_score, min_margin, high_score)
                firsts = [(question, _first_confident(ranked, thresholds)) for question, ranked in answerable]
                confident = [(question, hit) for question, hit in firsts if hit is not None]
                right = sum(1 for question, hit in confident if hit.slug in relevant(question))
                none_handled = sum(1 for ranked in nones if _first_confident(ranked, thresholds) is None) / len(nones) if nones else 1.0
                results.append(
                    {
                        "min_normalised_score": min_normalised_score,
                        "min_margin": min_margin,
                        "high_score": high_score,
                        "confident_and_right": right / len(answerable) if answerable else 0.0,
                        "confident_precision": right / len(confident) if confident else 0.0,
                        "none_handled": none_handled,
                    }
                )
    allowed = [result for result in results if result["none_handled"] >= min_none]
    return sorted(allowed, key=lambda result: (-result["confident_and_right"], -result["confident_precision"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("questions", type=Path, help="JSONL file with labelled questions")
    parser.add_argument("--content", type=Path, default=ROOT / "kb" / "content", help="article folder (default: kb/content)")
    parser.add_argument("--pad-to", type=int, default=1000, help="articles in the latency run (default: 1000)")
    parser.add_argument("--seed", type=int, default=7, help="seed for mail variants and filler articles")
    parser.add_argument("--show-misses", action="store_true", help="print the id, labels and ranking of each miss")
    parser.add_argument("--calibrate", action="store_true", help="search the confidence thresholds instead of scoring")
    parser.add_argument("--min-none", type=float, default=0.7, help="share of none questions that must stay unconfident (default: 0.7)")
    args = parser.parse_args(argv)

    if not args.questions.exists():
        print(f"{args.questions}: file not found; give a JSONL question set.", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    settings = load_settings({"HELPDESK_DATA_DIR": "/tmp/helpdesk-bench"})
    questions = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    built = [build_raw_mail(question, number, rng) for number, question in enumerate(questions)]
    raws = [raw for raw, _ in built]

    records = directory_records(args.content)
    started = time.perf_counter()
    index = ArticleIndex(records)
    build_seconds = time.perf_counter() - started
    slugs = set(index.slugs)

    if args.calibrate:
        best = calibrate(index, questions, raws, args.min_none)[:10]
        print(json.dumps(best, indent=2, default=lambda value: round(value, 3)))
        return 0

    warm_up(settings, index)
    outcomes = evaluate(settings, index, questions, raws)

    baseline = [
        Outcome(question, ranked, True, None, 0.0)
        for question, ranked in zip(questions, baseline_rankings(records, raws))
    ]

    padded_records = records + filler_records(records, max(0, args.pad_to - len(records)), rng)
    started = time.perf_counter()
    padded_index = ArticleIndex(padded_records)
    padded_build_seconds = time.perf_counter() - started
    warm_up(settings, padded_index)
    padded = evaluate(settings, padded_index, questions, raws)

    report = {
        "questions": len(questions),
        "articles": len(records),
        "slugs": len(slugs),
        "suggest": {"all": rank_scores(outcomes, slugs), "per_language": per_language(outcomes, slugs)},
        "baseline_bm25": {"all": rank_scores(baseline, slugs), "per_language": per_language(baseline, slugs)},
        "urgency": urgency_scores(outcomes),
        "latency": {**latency(outcomes), "index_build_s": round(build_seconds, 2)},
        "latency_padded": {**latency(padded), "articles": len(padded_records), "index_build_s": round(padded_build_seconds, 2)},
        "padded_top3": rank_scores(padded, slugs)["top3"],
    }
    print(json.dumps(report, indent=2, default=lambda value: round(value, 3)))

    if args.show_misses:
        for outcome, (_, variant) in zip(outcomes, built):
            question = outcome.question
            gold = relevant(question)
            missed_rank = question["primary"] != "none" and gold & slugs and not (outcome.ranked[:1] and outcome.ranked[0] in gold)
            missed_none = question["primary"] == "none" and outcome.confident
            missed_urgency = bool(question.get("urgent")) != (outcome.urgent_reason is not None)
            if missed_rank or missed_none or missed_urgency:
                print(
                    f"{question.get('id')}\t{variant}\tgold={sorted(gold) or 'none'}\turgent={question.get('urgent_reason')}"
                    f"\tgot={outcome.ranked[:3]}\tconfident={outcome.confident}\turgent_got={outcome.urgent_reason}",
                    file=sys.stderr,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
