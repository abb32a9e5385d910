"""Translations of the check messages: the Dutch texts are the msgids, English comes from a catalogue.

After changing a message, update the English catalogue and fill in the new
or fuzzy entries (tests/test_check_cli.py fails while one is missing):

    pybabel extract -k _ -k gettext --no-location -o /tmp/checks.pot helpdesk/checks helpdesk/commands/check.py
    pybabel update -i /tmp/checks.pot -D checks -d helpdesk/checks/translations -l en
"""

from __future__ import annotations

import gettext
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

CATALOG_DIR = Path(__file__).resolve().parent / "translations"
DOMAIN = "checks"
SOURCE_LANGUAGE = "nl"
LANGUAGES = ("nl", "en")


def catalog_path(language: str) -> Path:
    return CATALOG_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def translations(language: str) -> gettext.NullTranslations:
    """Return the translations for `language`, compiled in memory from its .po file.

    Compiling here instead of shipping a .mo file keeps a source checkout
    working without a build step; the catalogue is small.
    """
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}: use one of {', '.join(LANGUAGES)}")

    with catalog_path(language).open("rb") as po_file:
        catalog = read_po(po_file, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
