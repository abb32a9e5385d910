"""Staff pages show names and Dutch words, not stored codes: languages, article titles, matched words."""

from helpdesk.accounts.models import Role
from helpdesk.db import session_scope
from helpdesk.tickets.models import Suggestion, Ticket
from kb.models import Article, ArticleStatus
from tests.admin_fixtures import admin_user, agent, agent_client, app, client, login, make_ticket, make_user  # noqa: F401 (pytest fixtures)


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
