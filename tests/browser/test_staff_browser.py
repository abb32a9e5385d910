import http.client
import re
import threading
import time
from urllib.parse import urlsplit

import pyotp
import pytest
import waitress
from sqlalchemy import select

from admin.app import create_app

from helpdesk.accounts.models import Role
from helpdesk.db import session_scope
from helpdesk.tickets.macros import Macro
from helpdesk.tickets.models import Attachment, Message, Note, TicketStatus
from tests.admin_fixtures import CLIENT_ADDRESS, PASSWORD, make_ticket, make_user
from tests.browser.conftest import LiveServer
from tests.services.ports import free_port

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


def sign_in(page, live_server, email: str, code: str | None = None) -> None:
    page.goto(f"{live_server.url}/admin/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    if code is not None:
        page.get_by_label("Verificatiecode (alleen als je tweestapsverificatie gebruikt)").fill(code)
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_load_state()


def test_login_with_totp_code(live_server, page):
    secret = pyotp.random_base32()
    make_user(live_server.settings, "totp@helpdesk.test", Role.ADMIN, totp_secret=secret)

    sign_in(page, live_server, "totp@helpdesk.test")
    assert page.get_by_text("Vul ook de verificatiecode uit je app in.").is_visible()
    assert page.url.startswith(f"{live_server.url}/admin/login")

    code = pyotp.TOTP(secret).now()
    sign_in(page, live_server, "totp@helpdesk.test", code=code)
    assert page.url == f"{live_server.url}/admin/queue/"
    assert page.get_by_role("heading", name="Wachtrij").is_visible()

    # The same code does not open a second session, even within its 30 seconds.
    page.get_by_role("button", name="Afmelden").click()
    page.wait_for_url(f"{live_server.url}/admin/login")
    sign_in(page, live_server, "totp@helpdesk.test", code=code)
    assert page.get_by_text("Deze code is al gebruikt. Wacht op de volgende code.").is_visible()
    assert page.url.startswith(f"{live_server.url}/admin/login")


def status_with_cookie(live_server, path: str, cookie: str) -> int:
    """Request `path` with only the given session cookie, as a second browser holding a copy would."""
    parts = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", path, headers={"Cookie": f"helpdesk_session={cookie}"})
        return connection.getresponse().status
    finally:
        connection.close()


def test_sign_out_everywhere_ends_copied_session(live_server, staff_login, browser_context):
    page = staff_login
    cookie = next(item["value"] for item in browser_context.cookies() if item["name"] == "helpdesk_session")
    assert status_with_cookie(live_server, "/admin/queue/", cookie) == 200

    page.goto(f"{live_server.url}/admin/account/")
    page.get_by_role("button", name="Overal afmelden").click()
    page.wait_for_url(f"{live_server.url}/admin/login")
    assert status_with_cookie(live_server, "/admin/queue/", cookie) == 302


def test_agent_sees_no_admin_pages(live_server, staff_login):
    page = staff_login
    menu = page.get_by_role("navigation", name="Hoofdmenu")
    assert menu.get_by_role("link", name="Wachtrij").is_visible()
    assert menu.get_by_role("link", name="Gebruikers").count() == 0
    assert menu.get_by_role("link", name="Auditlogboek").count() == 0
    assert menu.get_by_role("link", name="FAQ-artikels").count() == 0  # agents cannot publish

    response = page.goto(f"{live_server.url}/admin/users/")
    assert response.status == 403
    assert page.get_by_role("heading", name="Geen toegang").is_visible()


def test_form_without_csrf_token_is_rejected(live_server, staff_login):
    page = staff_login
    ticket_id = make_ticket(live_server.settings, "Vraag zonder token")
    page.goto(f"{live_server.url}/admin/ticket/{ticket_id}")
    page.get_by_label("Interne notitie", exact=True).fill("Deze notitie mag niet bewaard worden")
    page.evaluate("() => document.querySelectorAll('#notes input[name=csrf_token]').forEach((input) => input.remove())")

    with page.expect_response(f"{live_server.url}/admin/ticket/{ticket_id}/note") as posted:
        page.get_by_role("button", name="Notitie toevoegen").click()
    assert posted.value.status == 400
    assert page.get_by_role("heading", name="Het formulier kon niet verwerkt worden").is_visible()
    with session_scope(live_server.settings) as session:
        assert session.scalars(select(Note)).all() == []


def test_queue_filters_with_keyboard(live_server, staff_login):
    page = staff_login
    make_ticket(live_server.settings, "Open vraag over testen")
    make_ticket(live_server.settings, "Gesloten vraag over PrEP", status=TicketStatus.CLOSED)
    page.goto(f"{live_server.url}/admin/queue/")

    page.get_by_label("Status", exact=True).select_option("closed")
    page.get_by_label("Zoek in onderwerpen en berichten").fill("prep")
    page.get_by_label("Zoek in onderwerpen en berichten").press("Enter")
    page.wait_for_url(re.compile(r"/admin/queue/\?.*status=closed"))
    assert page.get_by_role("link", name="Gesloten vraag over PrEP").is_visible()
    assert page.get_by_role("link", name="Open vraag over testen").count() == 0


def test_insert_canned_reply_keeps_typed_text(live_server, staff_login):
    page = staff_login
    with session_scope(live_server.settings) as session:
        session.add(Macro(title="Testcentra", language="nl", body="Je kunt je anoniem laten testen."))
    ticket_id = make_ticket(live_server.settings, "Vraag over testen", language="nl")
    page.goto(f"{live_server.url}/admin/ticket/{ticket_id}")

    page.get_by_label("Antwoord aan de cliënt").fill("Beste,")
    page.get_by_label("Standaardantwoord", exact=True).select_option(label="Testcentra (nl)")
    page.get_by_role("button", name="Standaardantwoord invoegen").click()
    page.wait_for_load_state()
    assert page.get_by_label("Antwoord aan de cliënt").input_value() == "Beste,\n\nJe kunt je anoniem laten testen."


def test_totp_on_and_off_from_account_page(live_server, staff_login):
    page = staff_login
    page.goto(f"{live_server.url}/admin/account/")
    secret = page.locator("code.secret").first.inner_text()
    enrol_form = page.locator("form", has=page.get_by_role("button", name="Tweestapsverificatie aanzetten"))
    enrol_form.get_by_label("Huidig wachtwoord").fill("not the password")
    enrol_form.get_by_label("Code uit je app").fill(pyotp.TOTP(secret).now())
    enrol_form.get_by_role("button", name="Tweestapsverificatie aanzetten").click()
    page.wait_for_load_state()
    assert page.get_by_text("Het huidige wachtwoord of de code klopt niet").is_visible()

    enrol_form.get_by_label("Huidig wachtwoord").fill(PASSWORD)
    enrol_form.get_by_label("Code uit je app").fill(pyotp.TOTP(secret).now())
    enrol_form.get_by_role("button", name="Tweestapsverificatie aanzetten").click()
    page.wait_for_load_state()
    assert page.get_by_text("Tweestapsverificatie staat aan.", exact=True).is_visible()

    # The enrolment used the current code, so turning TOTP off takes the next one.
    off_form = page.locator("form", has=page.get_by_role("button", name="Tweestapsverificatie uitzetten"))
    off_form.get_by_label("Huidig wachtwoord").fill(PASSWORD)
    off_form.get_by_label("Code uit je app").fill(pyotp.TOTP(secret).at(time.time() + 30))
    off_form.get_by_role("button", name="Tweestapsverificatie uitzetten").click()
    page.wait_for_load_state()
    assert page.get_by_text("Tweestapsverificatie staat uit.").is_visible()


@pytest.fixture
def totp_server(sqlite_settings):
    """Serve the app with TOTP required for administrators, as HELPDESK_TOTP_REQUIRED_ROLES=admin does."""
    settings = sqlite_settings.with_overrides(totp_required_roles="admin")
    server = waitress.create_server(create_app(settings), host="127.0.0.1", port=free_port(), threads=2)
    thread = threading.Thread(target=server.run, name="waitress-totp", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.effective_port}", settings=settings)
    finally:
        server.close()
        thread.join(timeout=5)


def test_required_totp_set_up_at_first_login(totp_server, page):
    make_user(totp_server.settings, "boss@helpdesk.test", Role.ADMIN)
    sign_in(page, totp_server, "boss@helpdesk.test")
    assert page.url == f"{totp_server.url}/admin/account/totp-setup"

    page.goto(f"{totp_server.url}/admin/users/")
    assert page.url == f"{totp_server.url}/admin/account/totp-setup"  # nothing else opens first
    secret = page.locator("code.secret").first.inner_text()
    page.get_by_label("Huidig wachtwoord").fill(PASSWORD)
    page.get_by_label("Code uit je app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Tweestapsverificatie aanzetten").click()
    page.wait_for_url(f"{totp_server.url}/admin/queue/")
    assert page.get_by_text("Tweestapsverificatie staat aan.").is_visible()
    assert page.goto(f"{totp_server.url}/admin/users/").status == 200
