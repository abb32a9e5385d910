"""Staff pages show names and Dutch words, not stored codes: languages, article titles, matched words."""

import re

import pytest

from helpdesk.accounts.models import Role
from helpdesk.db import session_scope
from helpdesk.tickets.models import Suggestion, Ticket
from kb.models import Article, ArticleStatus
from tests.admin_fixtures import admin_user, agent, agent_client, app, client, csrf_token, login, make_ticket, make_user  # noqa: F401 (pytest fixtures)


def test_user_pages_name_languages(client, settings, admin_user):
    make_user(settings, "franstalig@helpdesk.test", Role.AGENT, language="fr")
    login(client, "admin@helpdesk.test")

    listing = client.get("/admin/users/").get_data(as_text=True)
    form = client.get("/admin/users/new/").get_data(as_text=True)

    assert "<td>fr</td>" not in " ".join(listing.split())
    assert "Français" in listing
    assert ">Nederlands</option>" in form
    assert ">Français</option>" in form
    assert ">fr</option>" not in form


def test_ticket_lists_article_titles_and_meaningful_words(agent_client, settings):
    ticket_id = make_ticket(settings, language="nl", draft_slugs=["anoniem-testen"])
    with session_scope(settings) as session:
        session.add(Article(slug="anoniem-testen", language="nl", theme="testen", title="Kan ik anoniem testen?", status=ArticleStatus.PUBLISHED))
        session.add(Article(slug="klanten-met-relatie", language="nl", theme="testen", title="Klanten met een relatie", status=ArticleStatus.PUBLISHED))
        ticket = session.get(Ticket, ticket_id)
        session.add(Suggestion(ticket_id=ticket.id, slug="klanten-met-relatie", score=12.5, matched_terms=["niet", "de", "relatie"]))

    page = agent_client.get(f"/admin/ticket/{ticket_id}").get_data(as_text=True)

    assert "Kan ik anoniem testen?" in page
    assert "Klanten met een relatie" in page
    assert ">anoniem-testen<" not in page
    assert ">klanten-met-relatie<" not in page
    assert "gevonden woorden: relatie<" in page
    assert "12,50" in page


STOCK_WORDING = ("Record", "Failed to", "The password has", "objecten", "Er bestaat al.")


def post_new_user(client, email: str, password: str):
    token = csrf_token(client, "/admin/users/new/")
    data = {"csrf_token": token, "email": email, "display_name": "Nieuwe Collega", "role": "agent", "language": "nl", "active": "y", "password": password}
    return client.post("/admin/users/new/", data=data, follow_redirects=True)


def assert_no_stock_wording(page: str) -> None:
    for text in STOCK_WORDING:
        assert text not in page, text


def test_new_user_form_has_no_edit_only_fields(client, admin_user):
    login(client, "admin@helpdesk.test")

    form = client.get("/admin/users/new/").get_data(as_text=True)

    assert "Wachtwoord (minstens 12 tekens)" in form
    assert "leeg laten" not in form
    assert "Tweestapsverificatie resetten" not in form
    assert "Deblokkeren" not in form


def test_edit_user_form_keeps_edit_fields(client, admin_user, agent):
    login(client, "admin@helpdesk.test")

    form = client.get(f"/admin/users/edit/?id={agent}").get_data(as_text=True)

    assert "leeg laten" in form
    assert "Tweestapsverificatie resetten" in form
    assert "Deblokkeren" in form


def test_short_password_rejected_in_dutch(client, admin_user):
    login(client, "admin@helpdesk.test")

    page = post_new_user(client, "nieuw@helpdesk.test", "kort").get_data(as_text=True)

    assert "Het wachtwoord heeft 4 tekens: gebruik er minstens 12." in page
    assert_no_stock_wording(page)


def test_existing_address_rejected_with_subject(client, admin_user, agent):
    login(client, "admin@helpdesk.test")

    page = post_new_user(client, "agent@helpdesk.test", "een lang genoeg wachtwoord").get_data(as_text=True)

    assert "Er bestaat al een account met dit e-mailadres." in page
    assert_no_stock_wording(page)


def test_created_user_confirmed_in_dutch(client, admin_user):
    login(client, "admin@helpdesk.test")

    page = post_new_user(client, "nieuw@helpdesk.test", "een lang genoeg wachtwoord").get_data(as_text=True)

    assert "Aangemaakt." in page
    assert 'title="Bewerken"' in page
    assert_no_stock_wording(page)


def test_missing_user_and_empty_list_in_dutch(client, admin_user):
    login(client, "admin@helpdesk.test")

    missing = client.get("/admin/users/edit/?id=999", follow_redirects=True).get_data(as_text=True)
    macros = client.get("/admin/macros/").get_data(as_text=True)

    assert "Dit item bestaat niet (meer)." in missing
    assert_no_stock_wording(missing)
    assert "Er staat nog niets in deze lijst." in macros
    assert_no_stock_wording(macros)


def test_audit_details_read_as_dutch(client, settings, admin_user, agent):
    from helpdesk.accounts.services import audit
    from helpdesk.teams.models import Team

    with session_scope(settings) as session:
        team = Team(name="Team Gezondheid")
        session.add(team)
        session.flush()
        audit(session, None, "login_failed", "user", agent, detail={"failure": "totp_invalid", "failed_logins": 2})
        audit(session, None, "settings", "team", team.id, detail={"change": "team_members", "added": [agent], "removed": []})
        audit(session, None, "settings", "mailbox_route", 1, detail={"mailbox": "maildir:/srv/mail", "from": None, "to": team.id})
        audit(session, None, "settings", "user", agent, detail={"change": "user_created", "role": "agent"})
    login(client, "admin@helpdesk.test")

    page = client.get("/admin/audit/").get_data(as_text=True)

    assert "reden: verificatiecode fout; mislukte pogingen na elkaar: 2" in page
    assert "wijziging: leden gewijzigd; toegevoegd: Agent Anna; verwijderd: niemand" in page
    assert "van team: geen team; naar team: Team Gezondheid" in page
    assert "wijziging: account aangemaakt; rol: medewerker" in page
    for code in ("totp_invalid", "failed_logins", "team_members", "from=None", "user_created", "role=agent"):
        assert code not in page, code


def test_theme_names_follow_account_language(client, settings):
    make_user(settings, "english@helpdesk.test", Role.AGENT, language="en")
    ticket_id = make_ticket(settings, theme="gezondheid")
    login(client, "english@helpdesk.test")

    queue = client.get("/admin/queue/").get_data(as_text=True)
    ticket = client.get(f"/admin/ticket/{ticket_id}").get_data(as_text=True)

    assert ">health</option>" in queue
    assert "<td>health</td>" in queue
    assert ">gezondheid<" not in queue
    assert "Theme: health" in ticket


def test_parse_problems_shown_in_dutch(agent_client, settings):
    stored = "Message-ID missing or invalid; derived from the raw bytes; Date missing; geen leesbare e-mail: geen kopregels gevonden"
    ticket_id = make_ticket(settings)
    with session_scope(settings) as session:
        session.get(Ticket, ticket_id).messages[0].parse_problem = stored

    page = agent_client.get(f"/admin/ticket/{ticket_id}").get_data(as_text=True)

    assert "Message-ID ontbreekt of is ongeldig, dus afgeleid van de ruwe bytes; datum ontbreekt; geen leesbare e-mail" in page
    assert "missing" not in page
    assert "derived from" not in page


# English words that flask-admin, WTForms or a service would leave on a page that was not translated.
ENGLISH_WORDS = re.compile(r"\b(Record|Failed|missing|invalid|None|There are no|Save|Cancel|Delete|Search|Filter|List|Create|Edit|items?|table|not found|error)\b")
STAFF_PAGES = (
    "/admin/queue/",
    "/admin/ticket/1",
    "/admin/users/",
    "/admin/users/new/",
    "/admin/macros/",
    "/admin/macros/new/",
    "/admin/audit/",
    "/admin/stats/",
    "/admin/editor/",
    "/admin/editor/new",
    "/admin/questions/",
    "/admin/account/",
    "/admin/teams/",
)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_staff_pages_show_no_english(client, settings, admin_user):
    make_ticket(settings, theme="gezondheid")
    login(client, "admin@helpdesk.test")

    for url in STAFF_PAGES:
        page = client.get(url).get_data(as_text=True)
        text = re.sub(r"<script.*?</script>|<[^>]+>", " ", page, flags=re.DOTALL)
        assert ENGLISH_WORDS.findall(text) == [], url
