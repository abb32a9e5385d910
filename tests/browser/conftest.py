"""Fixtures for browser tests: the app served by waitress on loopback and Debian's Chromium via Playwright.

Playwright's own browser downloads are never used: the tests drive
/usr/bin/chromium and skip with a message when it is not installed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import waitress

from admin.app import create_app
from tests.admin_fixtures import PASSWORD, inline_delivery, make_user  # noqa: F401 (pytest fixtures)
from tests.services.ports import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class LiveServer:
    url: str
    settings: object


@dataclass
class PageEvents:
    """What a page did that a test must check: dialogs opened and console messages."""

    dialogs: list[str] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)

    def csp_violations(self) -> list[str]:
        return [text for kind, text in self.console if "Content Security Policy" in text]


@pytest.fixture
def live_server(sqlite_settings, smtp_server, inline_delivery):
    """Serve the app with waitress in a thread; replies go to the aiosmtpd fixture."""
    settings = sqlite_settings.with_overrides(smtp_url=smtp_server.url)
    app = create_app(settings)
    port = free_port()
    server = waitress.create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", settings=settings)
    finally:
        server.close()
        thread.join(timeout=5)


@pytest.fixture
def browser_context(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed: install Debian's chromium package to run browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            locale="nl-BE",
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page_events() -> PageEvents:
    return PageEvents()


@pytest.fixture
def page(browser_context, page_events):
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()

    def _on_dialog(dialog):
        page_events.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", _on_dialog)
    page.on("console", lambda message: page_events.console.append((message.type, message.text)))
    return page


@pytest.fixture
def staff_login(live_server, page):
    """Create an agent, sign in through the form and return the page."""
    make_user(live_server.settings, "agent@helpdesk.test", display_name="Agent Anna")
    page.goto(f"{live_server.url}/admin/login")
    page.get_by_label("E-mailadres").fill("agent@helpdesk.test")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_url(f"{live_server.url}/admin/queue/")
    return page
