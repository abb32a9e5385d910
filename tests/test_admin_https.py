"""Staff forms over HTTPS: the Referer that the CSRF check needs is sent, and only to our own site."""

import pytest

from admin.app import create_app
from helpdesk.accounts.models import Role
from tests.admin_fixtures import PASSWORD, csrf_token, make_user

BASE_URL = "https://helpdesk.example.org"


@pytest.fixture
def https_app(settings):
    return create_app(settings.with_overrides(public_url=BASE_URL))


def test_staff_pages_send_referrer_to_own_site_only(https_app):
    response = https_app.test_client().get("/admin/login", base_url=BASE_URL)
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_public_pages_send_no_referrer(https_app):
    response = https_app.test_client().get("/faq/nl/", base_url=BASE_URL)
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_https_login_with_same_origin_referer(https_app, settings):
    make_user(settings, "agent@staff.test", Role.AGENT)
    client = https_app.test_client()
    token = csrf_token(client, BASE_URL + "/admin/login")

    form = {"email": "agent@staff.test", "password": PASSWORD, "csrf_token": token}
    refused = client.post("/admin/login", data=form, base_url=BASE_URL)
    accepted = client.post(
        "/admin/login", data=form, base_url=BASE_URL, headers={"Referer": BASE_URL + "/admin/login"}
    )

    assert refused.status_code == 400
    assert accepted.status_code == 302
