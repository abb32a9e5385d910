import re

from helpdesk.accounts.models import Role
from tests.admin_fixtures import agent, agent_client, app, client, login, make_ticket, make_user  # noqa: F401 (pytest fixtures)

# Inline code, that is; JSON data blocks (structured data for search engines) never run.
INLINE_SCRIPT = re.compile(r'<script(?![^>]*\b(?:src=|type="application/(?:ld\+)?json"))[^>]*>', re.IGNORECASE)
# Event-handler attributes and javascript: links, which the CSP blocks as inline script.
INLINE_HANDLER = re.compile(r'\son[a-z]+="|href="javascript:', re.IGNORECASE)


def assert_security_headers(response, url, referrer_policy="no-referrer"):
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in policy.split("; ") if part}
    assert directives.get("frame-ancestors") == ["'none'"], url
    assert directives.get("script-src") == ["'self'"], url
    assert directives.get("default-src") == ["'self'"], url
    assert "'unsafe-inline'" not in policy, url
    assert response.headers.get("Referrer-Policy") == referrer_policy, url
    assert response.headers.get("X-Content-Type-Options") == "nosniff", url
    assert response.headers.get("X-Frame-Options") == "DENY", url


def test_security_headers_on_staff_pages(agent_client, settings):
    ticket_id = make_ticket(settings)
    for url in ("/admin/queue/", f"/admin/ticket/{ticket_id}", "/admin/account/"):
        response = agent_client.get(url)
        assert response.status_code == 200, url
        # Staff pages send the Referer to this site only: Flask-WTF's HTTPS check needs it.
        assert_security_headers(response, url, referrer_policy="same-origin")
        assert response.headers.get("Cache-Control") == "no-store", url


def test_security_headers_on_public_and_login_pages(client):
    assert_security_headers(client.get("/admin/login"), "/admin/login", referrer_policy="same-origin")
    for url in ("/faq/nl/", "/faq/fr/search?q=test", "/static/helpdesk.css", "/faq/xx/"):
        assert_security_headers(client.get(url), url)


def test_pages_have_no_inline_script(agent_client, settings):
    ticket_id = make_ticket(settings)
    for url in ("/admin/login", "/admin/queue/", f"/admin/ticket/{ticket_id}", "/admin/account/", "/admin/stats/", "/faq/nl/"):
        page = agent_client.get(url).get_data(as_text=True)
        assert not INLINE_SCRIPT.search(page), url
        assert not INLINE_HANDLER.search(page), url


def test_admin_pages_have_no_inline_script(client, settings):
    make_user(settings, "boss@helpdesk.test", Role.ADMIN)
    login(client, "boss@helpdesk.test")
    for url in ("/admin/macros/", "/admin/macros/new/", "/admin/users/", "/admin/users/new/", "/admin/users/edit/?id=1", "/admin/audit/"):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        assert not INLINE_SCRIPT.search(page), url
        assert not INLINE_HANDLER.search(page), url


def test_assets_are_served_by_the_app(agent_client):
    page = agent_client.get("/admin/queue/").get_data(as_text=True)
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert assets
    for url in assets:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
        assert agent_client.get(url).status_code == 200, url
