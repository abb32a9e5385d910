"""The ticket page's insert tools in Chromium: the article lands at the cursor or before the sign-off."""

import pytest

from helpdesk.db import session_scope
from kb.models import Article, ArticleStatus
from tests.admin_fixtures import make_ticket

pytestmark = pytest.mark.browser

DRAFT = "Dag,\n\nBedankt voor je vraag.\n\nHeb je nog vragen? Antwoord gewoon op deze mail.\n\nMet vriendelijke groeten,\nHet team"
ARTICLE_TITLE = "Waar kan ik me laten testen?"


def open_ticket_with_article(live_server, page) -> None:
    with session_scope(live_server.settings) as session:
        session.add(
            Article(
                slug="waar-testen", language="nl", theme="testen", title=ARTICLE_TITLE,
                short_answer="Bij een testcentrum, anoniem.", status=ArticleStatus.PUBLISHED,
            )
        )
    ticket_id = make_ticket(live_server.settings, language="nl", draft=DRAFT)
    page.goto(f"{live_server.url}/admin/ticket/{ticket_id}")
    page.get_by_label("Artikel uit de kennisbank").select_option(label=ARTICLE_TITLE)


def draft_after_insert(page) -> str:
    page.get_by_role("button", name="Artikel invoegen").click()
    page.wait_for_load_state()
    assert page.get_by_text("Artikel ingevoegd.").is_visible()
    return page.get_by_label("Antwoord aan de cliënt").input_value()


def test_article_inserted_at_cursor(live_server, staff_login, page_events):
    page = staff_login
    open_ticket_with_article(live_server, page)
    draft = page.get_by_label("Antwoord aan de cliënt")
    draft.click()
    draft.press("Control+Home")
    draft.press("ArrowDown")
    draft.press("ArrowDown")

    text = draft_after_insert(page)

    assert text.startswith(f"Dag,\n\n{ARTICLE_TITLE}\n")
    assert text.index("anoniem.") < text.index("Bedankt voor je vraag.")
    assert page_events.csp_violations() == []


def test_article_without_cursor_before_sign_off(live_server, staff_login, page_events):
    page = staff_login
    open_ticket_with_article(live_server, page)

    text = draft_after_insert(page)

    assert text.index("Bedankt voor je vraag.") < text.index(ARTICLE_TITLE)
    assert text.index("anoniem.") < text.index("Heb je nog vragen?")
    assert text.endswith("Met vriendelijke groeten,\nHet team")
    assert page_events.csp_violations() == []
