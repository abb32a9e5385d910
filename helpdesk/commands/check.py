"""The `helpdesk check` command: is this installation ready to run?"""

from __future__ import annotations

import json
import logging
import os

import click

from helpdesk.checks import CheckResult, Status, run_checks
from helpdesk.checks.i18n import LANGUAGES, SOURCE_LANGUAGE, translations
from helpdesk.checks.results import DEFAULT_TIMEOUT_SECONDS
from helpdesk.cli import get_settings, main

# POSIX order: LC_ALL overrides LC_MESSAGES, which overrides LANG.
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


def language_from_locale() -> str:
    """Return "en" when the locale variables ask for English, else Dutch."""
    for variable in LOCALE_VARIABLES:
        value = os.environ.get(variable, "")
        if value:
            return "en" if value.lower().startswith("en") else SOURCE_LANGUAGE
    return SOURCE_LANGUAGE


language_option = click.option(
    "--lang",
    "language",
    type=click.Choice(LANGUAGES),
    default=None,
    help="Language of the messages. Default: English when LC_ALL, LC_MESSAGES or LANG starts with en, else Dutch.",
)


@main.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object.")
@language_option
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=DEFAULT_TIMEOUT_SECONDS,
    show_default=True,
    help="Seconds to wait for each server (database, Redis, IMAP, SMTP).",
)
def check(as_json: bool, language: str | None, timeout: float) -> None:
    """Check the settings, the database and every server the helpdesk uses.

    Prints one line per check and exits with code 1 when any check failed.
    """
    # Alembic logs two INFO lines whenever it reads the schema revision, which
    # would break the one-line-per-check output.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    language = language or language_from_locale()
    gettext = translations(language).gettext
    results = run_checks(get_settings, gettext, timeout)

    if as_json:
        click.echo(json.dumps(_as_json(results, language), ensure_ascii=False, indent=2))
    else:
        echo_results(results, gettext)

    if any(result.failed for result in results):
        raise SystemExit(1)


def echo_results(results: list[CheckResult], gettext) -> None:
    """Print one line per result, its translated status in an aligned column."""
    labels = status_labels(gettext)
    width = max(len(label) for label in labels.values())
    for result in results:
        click.echo(f"{labels[result.status]:<{width}}  {result.message}")


def status_labels(gettext) -> dict[Status, str]:
    """Return the word printed before each result line, in the language of `gettext`."""
    return {
        Status.OK: gettext("OK"),
        Status.WARNING: gettext("LET OP"),
        Status.FAILED: gettext("FOUT"),
        Status.SKIPPED: gettext("OVERGESLAGEN"),
    }


def _as_json(results: list[CheckResult], language: str) -> dict:
    return {
        "ok": not any(result.failed for result in results),
        "language": language,
        "checks": [
            {"name": result.name, "status": result.status.value, "message": result.message, "target": result.target}
            for result in results
        ],
    }
