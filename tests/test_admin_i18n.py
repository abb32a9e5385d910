"""Languages of the staff workplace: complete catalogues and Belgian date and number formats."""

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from helpdesk.accounts.models import Role
from tests.admin_fixtures import client, app, login, make_ticket, make_user  # noqa: F401 (pytest fixtures)

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "admin" / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """Extract every translatable text of the web app with pybabel, as the catalogue maintainers do."""
    pot = tmp_path_factory.mktemp("babel") / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(TRANSLATIONS / "babel.cfg"), "-k", "_l", "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        return [message for message in read_po(handle) if message.id]


@pytest.mark.parametrize("language", ["nl", "fr", "en"])
def test_catalogue_has_every_text(extracted, language):
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    missing = [message.id for message in extracted if message.id not in catalogue]
    assert missing == []
    if language == "nl":
        return  # Dutch texts are the message ids themselves

    for message in extracted:
        translated = catalogue[message.id].string
        forms = translated if isinstance(translated, tuple) else (translated,)
        source = message.id[0] if isinstance(message.id, tuple) else message.id
        assert all(forms), f"{language}: no translation for {source!r}"
        for form in forms:
            assert set(PLACEHOLDER.findall(form)) == set(PLACEHOLDER.findall(source)), f"{language}: placeholders differ in {form!r}"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("nl", "5/11/2026, 14:07"), ("fr", "5/11/26 14:07"), ("en", "05/11/26, 14:07")],
)
def test_queue_dates_in_belgian_form(client, settings, language, expected):
    make_user(settings, f"{language}@helpdesk.test", Role.AGENT, language=language)
    login(client, f"{language}@helpdesk.test")
    make_ticket(settings, created_at=dt.datetime(2026, 11, 5, 13, 7, tzinfo=dt.timezone.utc))
    page = client.get("/admin/queue/").get_data(as_text=True)
    assert expected in page  # Brussels time, local date order
