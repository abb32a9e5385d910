import re

import pytest
from sqlalchemy import select

from helpdesk.db import session_scope
from helpdesk.tickets.models import Attachment, Message
from tests.admin_fixtures import CLIENT_ADDRESS, make_ticket

pytestmark = pytest.mark.browser

MARKER = "XSS-FIRED"
PAYLOADS = [
    f"<script>alert('{MARKER}')</script>",
    f"<img src=x onerror=\"console.log('{MARKER}');alert(1)\">",
    f"<svg onload=\"console.log('{MARKER}')\"></svg>",
    f"\"><script>console.log('{MARKER}')</script>",
    f"</textarea><script>console.log('{MARKER}')</script>",
    f"<a href=\"javascript:console.log('{MARKER}')\">klik</a>",
    f"<iframe srcdoc=\"<script>parent.console.log('{MARKER}')</script>\"></iframe>",
    f"<details open ontoggle=\"console.log('{MARKER}')\">x</details>",
    f"<style>@import 'http://127.0.0.1:9/{MARKER}.css';</style>",
]


def test_send_reply_from_browser(live_server, staff_login, smtp_server):
    page = staff_login
    ticket_id = make_ticket(
        live_server.settings, "Vraag over PrEP", "Waar vind ik PrEP?", message_id="prep-vraag@client.example.net"
    )

    page.goto(f"{live_server.url}/admin/queue/")
    page.get_by_role("link", name="Vraag over PrEP").click()
    page.wait_for_url(f"{live_server.url}/admin/ticket/{ticket_id}")
    page.get_by_label("Antwoord aan de cliënt").fill("Beste,\n\nPrEP krijg je in een hiv-referentiecentrum.\n\nGroeten")
    page.get_by_role("button", name="Verzenden").click()
    page.wait_for_load_state()

    mail = smtp_server.wait_for(1)[0].message
    assert mail["From"].addresses[0].addr_spec == live_server.settings.from_address
    assert mail["To"].addresses[0].addr_spec == CLIENT_ADDRESS
    assert f"[#{ticket_id}]" in mail["Subject"]
    assert mail["In-Reply-To"] == "<prep-vraag@client.example.net>"
    assert "<prep-vraag@client.example.net>" in mail["References"]
    assert "hiv-referentiecentrum" in mail.get_content()
    assert page.get_by_text("Het antwoord is verzonden.").is_visible()


def make_hostile_ticket(settings, payload: str) -> int:
    ticket_id = make_ticket(
        settings,
        f"Onderwerp {payload}",
        f"Tekst {payload}\n\n> citaat {payload}",
        new_text=f"Tekst {payload}",
        html=f"<p>HTML {payload}</p>",
        theme=f"thema{payload}"[:60],
    )
    with session_scope(settings) as session:
        message = session.scalar(select(Message).where(Message.ticket_id == ticket_id))
        session.add(Attachment(message_id=message.id, filename=f"bijlage{payload}.pdf"[:255], content_type=f"text/html{payload}"[:255], size=10))
    return ticket_id


def test_script_payloads_never_execute(live_server, staff_login, page_events):
    page = staff_login
    ticket_ids = [make_hostile_ticket(live_server.settings, payload) for payload in PAYLOADS]

    urls = [f"{live_server.url}/admin/queue/", f"{live_server.url}/admin/queue/?search=script"]
    urls += [f"{live_server.url}/admin/ticket/{ticket_id}" for ticket_id in ticket_ids]
    for url in urls:
        page.goto(url)
        page.wait_for_load_state("load")
        for summary in page.locator("summary").all():
            summary.click()
        assert page.evaluate("() => document.querySelectorAll('script:not([src])').length") == 0, url

    assert page_events.dialogs == []
    assert [text for _, text in page_events.console if MARKER in text] == []
    assert page_events.csp_violations() == []


def test_public_pages_work_without_cookies(live_server, page, browser_context):
    page.goto(f"{live_server.url}/")
    assert re.search(r"/faq/nl/$", page.url)
    page.get_by_label("Zoek in de vragen").fill("condoom")
    page.get_by_role("button", name="Zoeken").click()
    page.wait_for_url(re.compile(r"/faq/nl/search\?q=condoom"))
    page.get_by_role("link", name="Français").click()
    assert "/faq/fr/" in page.url
    assert browser_context.cookies() == []
