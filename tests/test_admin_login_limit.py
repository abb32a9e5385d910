"""The per-address sign-in limit counts refused sign-ins only, and its page leads a visitor to the login page."""

from tests.admin_fixtures import PASSWORD, agent, app, client, csrf_token, login  # noqa: F401 (pytest fixtures)

# LOGIN_RATE_LIMIT in admin/auth.py allows 20 counted attempts per 10 minutes.
COUNTED_ATTEMPTS = 20


def logout(client) -> None:
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/account/")})


def test_successful_logins_do_not_count(client, agent):
    for _ in range(COUNTED_ATTEMPTS + 5):
        assert login(client, "agent@helpdesk.test", PASSWORD).status_code == 302
        logout(client)

    statuses = [login(client, "nobody@helpdesk.test", "not the password").status_code for _ in range(COUNTED_ATTEMPTS + 1)]

    assert statuses[:COUNTED_ATTEMPTS] == [401] * COUNTED_ATTEMPTS
    assert statuses[COUNTED_ATTEMPTS] == 429


def test_limit_page_links_visitor_to_login(client, agent):
    for _ in range(COUNTED_ATTEMPTS):
        login(client, "nobody@helpdesk.test", "not the password")

    response = login(client, "nobody@helpdesk.test", "not the password")
    page = response.get_data(as_text=True)

    assert response.status_code == 429
    assert 'href="/admin/login"' in page
    assert "Naar de wachtrij" not in page


def test_unrouted_staff_url_gets_staff_404(client, agent):
    login(client, "agent@helpdesk.test", PASSWORD)

    response = client.get("/admin/ticket/abc")
    page = response.get_data(as_text=True)

    assert response.status_code == 404
    assert "Deze pagina of dit ticket bestaat niet (meer)." in page
    assert "Snel weg" not in page  # the public page's quick-exit button
