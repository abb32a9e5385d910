"""The article editor states problems in Dutch, without detector codes, field names or character offsets."""

from tests.admin_fixtures import agent, agent_client, app, client, csrf_token, login, make_ticket, make_user  # noqa: F401
from tests.test_faq_editor import create_article, editor, editor_client  # noqa: F401 (pytest fixtures)


def test_publication_check_names_field_and_kind(editor_client):
    article_id = create_article(editor_client, body="Bel gerust naar 0470 12 34 56 voor een afspraak.")

    page = editor_client.get(f"/admin/editor/{article_id}").get_data(as_text=True)

    assert "Bevat nog een identificerend gegeven (telefoonnummer):" in page
    assert "<strong>Tekst</strong>" in page
    assert "0470 12 34 56</mark>" in page
    assert "PHONE" not in page
    assert "positie" not in page
    assert "<strong>body</strong>" not in page


def test_proposal_from_unknown_message_in_dutch(editor_client):
    page = editor_client.get("/admin/editor/new?message=999999").get_data(as_text=True)

    assert "Bericht 999999 is geen verzonden antwoord van een medewerker" in page
    assert "is not a sent staff answer" not in page


def test_proposal_from_unknown_group_in_dutch(editor_client):
    page = editor_client.get("/admin/editor/new?group=999").get_data(as_text=True)

    assert "Vraaggroep 999 bestaat niet" in page
    assert "was not found" not in page
