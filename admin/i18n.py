"""Languages of the screens: Dutch first, French and English, with Belgian formats."""

from __future__ import annotations

import logging
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request
from flask_babel import Babel, format_decimal
from flask_login import current_user

from admin.security import PUBLIC_BLUEPRINT

logger = logging.getLogger(__name__)

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
LANGUAGES = ("nl", "fr", "en")
LANGUAGE_NAMES = {"nl": "Nederlands", "fr": "Français", "en": "English"}
DEFAULT_LANGUAGE = "nl"
TIMEZONE = "Europe/Brussels"


def compile_catalogs(directory: Path = TRANSLATIONS_DIR) -> list[Path]:
    """Compile each .po file whose .mo file is missing or older; return the files written.

    The .mo files are build output and not in git, so a fresh checkout compiles
    them on the first start. A read-only installation logs the failure and
    shows the Dutch source texts instead.
    """
    written = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        try:
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file, locale=po_path.parts[-3])
            with mo_path.open("wb") as mo_file:
                write_mo(mo_file, catalog)
        except OSError as error:
            logger.error("translation catalogue not compiled", extra={"path": str(po_path), "error": str(error)})
            continue
        written.append(mo_path)
    return written


def page_language() -> str:
    """Pick the language: the URL on public pages, the user's choice for staff, else the browser's."""
    if request.blueprint == PUBLIC_BLUEPRINT:
        language = (request.view_args or {}).get("language")
        if language in LANGUAGES:
            return language
    elif current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def select_locale() -> str:
    # Belgian variants give Belgian date and number formats; gettext falls
    # back from nl_BE to the nl catalogue.
    return f"{page_language()}_BE"


def format_score(score: float) -> str:
    """Format a suggestion score with two decimals in the page's number format (30,32 in Dutch)."""
    return format_decimal(score, format="#,##0.00")


def init_i18n(app: Flask) -> Babel:
    compile_catalogs()
    app.config.update(
        BABEL_DEFAULT_LOCALE=f"{DEFAULT_LANGUAGE}_BE",
        BABEL_DEFAULT_TIMEZONE=TIMEZONE,
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS_DIR),
    )
    babel = Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(
        page_language=page_language, LANGUAGE_NAMES=LANGUAGE_NAMES, LANGUAGES=LANGUAGES, format_score=format_score
    )
    return babel
