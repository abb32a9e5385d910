"""The staff user form accepts only logins that are e-mail addresses, as the CLI does."""

import html

import pytest
from sqlalchemy import func, select

from helpdesk.accounts.models import User
from helpdesk.db import session_scope
from tests.admin_fixtures import admin_user, agent, app, client, csrf_token, login  # noqa: F401 (pytest fixtures)


def user_count(settings) -> int:
    with session_scope(settings) as session:
        return session.scalar(select(func.count()).select_from(User))


def new_user_form(client, email: str) -> dict:
    return {
        "csrf_token": csrf_token(client, "/admin/users/new/"),
        "email": email,
        "display_name": "Nieuwe Medewerker",
        "role": "agent",
        "language": "nl",
        "active": "y",
        "password": "een wachtwoord van 22 tekens",
    }


@pytest.mark.parametrize("email", ["geen-adres", "naam@domein", "twee woorden@example.org"])
def test_user_form_rejects_non_address(client, admin_user, settings, email):
    login(client, "admin@helpdesk.test")
    before = user_count(settings)

    response = client.post("/admin/users/new/", data=new_user_form(client, email))

    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert f"{email.lower()!r} is geen geldig e-mailadres: gebruik de vorm naam@voorbeeld.be." in page
    assert user_count(settings) == before


def test_user_form_accepts_address(client, admin_user, settings):
    login(client, "admin@helpdesk.test")

    response = client.post("/admin/users/new/", data=new_user_form(client, "Nieuw.Adres@Helpdesk.test"))

    assert response.status_code == 302
    with session_scope(settings) as session:
        assert session.scalar(select(User).where(User.email == "nieuw.adres@helpdesk.test")) is not None


def test_user_edit_rejects_non_address(client, admin_user, agent, settings):
    login(client, "admin@helpdesk.test")
    form = new_user_form(client, "geen-adres")
    form["csrf_token"] = csrf_token(client, f"/admin/users/edit/?id={agent}")
    del form["password"]

    response = client.post(f"/admin/users/edit/?id={agent}", data=form)

    assert response.status_code == 200
    with session_scope(settings) as session:
        assert session.get(User, agent).email == "agent@helpdesk.test"
