import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from helpdesk.accounts.models import AuditEntry, Role
from helpdesk.db import session_scope, utcnow
from helpdesk.tickets.models import DeliveryState, Direction, Message
from kb.articles import create_draft
from kb.faq_models import ArticleImage
from kb.mining_models import MiningRun, QuestionGroup
from kb.models import Article, ArticleStatus, ArticleVersion
from tests.admin_fixtures import agent, agent_client, app, client, csrf_token, login, make_ticket, make_user  # noqa: F401

ANSWER = (
    "Dag Jan,\n\nBedankt voor je vraag.\n\n"
    "PrEP is een pil tegen hiv. Je krijgt ze via een hiv-referentiecentrum.\n\n"
    "Een arts volgt je elke drie maanden op.\n\nGroeten,\nAnna"
)


@pytest.fixture
def editor(settings) -> int:
    return make_user(settings, "editor@helpdesk.test", Role.EDITOR, display_name="Redacteur Rita")


@pytest.fixture
def editor_client(client, editor):
    response = login(client, "editor@helpdesk.test")
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def sent_answer(settings, question: str = "Hallo, ik ben Jan. Waar kan ik PrEP krijgen?") -> int:
    ticket_id = make_ticket(settings, "Vraag over PrEP", question, language="nl", theme="gezondheid")
    with session_scope(settings) as session:
        answer = Message(
            ticket_id=ticket_id,
            direction=Direction.OUTBOUND,
            message_id=f"answer-{ticket_id}@helpdesk.test",
            subject="Re: Vraag over PrEP",
            body=ANSWER,
            new_text=ANSWER,
            delivery_state=DeliveryState.SENT,
            sent_at=utcnow(),
        )
        session.add(answer)
        session.flush()
        return answer.id


def post(client, url: str, form_url: str, **data):
    data["csrf_token"] = csrf_token(client, form_url)
    return client.post(url, data=data)


def create_article(client, form_url: str = "/admin/editor/new", **fields) -> int:
    data = {
        "language": "nl",
        "slug": "waar-krijg-ik-prep",
        "title": "Waar krijg ik PrEP?",
        "short_answer": "In een hiv-referentiecentrum.",
        "body": "PrEP is een pil tegen hiv.",
        "keywords": "prep, hiv",
        "theme": "gezondheid",
        "sources": "Voorbeeldbron | https://www.example.org/prep",
        **fields,
    }
    response = post(client, "/admin/editor/new", form_url, **data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/admin/editor/(\d+)", response.headers["Location"]).group(1))


def article_row(settings, article_id: int) -> Article:
    with session_scope(settings) as session:
        article = session.get(Article, article_id)
        session.expunge(article)
        return article


def change_status(client, article_id: int, action: str):
    return post(client, f"/admin/editor/{article_id}/status", f"/admin/editor/{article_id}", action=action)


def save(client, article_id: int, **fields):
    page = client.get(f"/admin/editor/{article_id}").get_data(as_text=True)
    data = {
        "title": re.search(r'id="title"[^>]*value="([^"]*)"', page).group(1),
        "slug": re.search(r'id="slug"[^>]*value="([^"]*)"', page).group(1),
        "short_answer": "In een hiv-referentiecentrum.",
        "body": "PrEP is een pil tegen hiv.",
        "keywords": "prep, hiv",
        "theme": "gezondheid",
        "sources": "",
        **fields,
    }
    return post(client, f"/admin/editor/{article_id}/save", f"/admin/editor/{article_id}", **data)


def test_agents_cannot_reach_editor(agent_client, settings):
    with session_scope(settings) as session:
        article = create_draft(session, "iets", "nl", "Iets", status="in_review")
        article_id = article.id
    assert agent_client.get("/admin/editor/").status_code == 403
    assert agent_client.get("/admin/questions/").status_code == 403
    token = csrf_token(agent_client, "/admin/account/")
    response = agent_client.post(f"/admin/editor/{article_id}/status", data={"action": "publish", "csrf_token": token})
    assert response.status_code == 403
    assert article_row(settings, article_id).status == ArticleStatus.IN_REVIEW


def test_editor_menu_lists_faq_views(editor_client):
    page = editor_client.get("/admin/editor/").get_data(as_text=True)
    assert 'href="/admin/editor/"' in page
    assert 'href="/admin/questions/"' in page


def test_proposal_from_sent_answer(editor_client, settings):
    message_id = sent_answer(settings)
    page = editor_client.get(f"/admin/editor/new?message={message_id}").get_data(as_text=True)
    assert 'value="Waar kan ik PrEP krijgen?"' in page
    assert "PrEP is een pil tegen hiv." in page
    assert "Een arts volgt je elke drie maanden op." in page
    assert "Jan" not in page
    assert "Groeten" not in page
    assert "Bedankt voor je vraag" not in page
    assert f'name="message_id" type="hidden" value="{message_id}"' in page
    assert 'value="gezondheid"' in page


def test_proposal_rejects_inbound_message(editor_client, settings):
    ticket_id = make_ticket(settings)
    with session_scope(settings) as session:
        inbound_id = session.scalar(select(Message.id).where(Message.ticket_id == ticket_id))
    page = editor_client.get(f"/admin/editor/new?message={inbound_id}").get_data(as_text=True)
    assert f"Bericht {inbound_id} is geen verzonden antwoord van een medewerker" in page


def test_review_and_publish_flow(editor_client, client, settings, editor):
    article_id = create_article(editor_client)
    assert article_row(settings, article_id).status == ArticleStatus.DRAFT
    assert client.get("/faq/nl/waar-krijg-ik-prep").status_code == 404

    # Publishing straight from a draft skips review and is refused.
    change_status(editor_client, article_id, "publish")
    assert article_row(settings, article_id).status == ArticleStatus.DRAFT

    change_status(editor_client, article_id, "submit")
    assert article_row(settings, article_id).status == ArticleStatus.IN_REVIEW
    change_status(editor_client, article_id, "publish")
    assert article_row(settings, article_id).status == ArticleStatus.PUBLISHED
    page = client.get("/faq/nl/waar-krijg-ik-prep").get_data(as_text=True)
    assert "Waar krijg ik PrEP?" in page

    change_status(editor_client, article_id, "unpublish")
    assert article_row(settings, article_id).status == ArticleStatus.ARCHIVED
    assert client.get("/faq/nl/waar-krijg-ik-prep").status_code == 404

    with session_scope(settings) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "article").order_by(AuditEntry.id)).all()
        assert [entry.action for entry in entries] == ["publish", "unpublish"]
        assert all(entry.user_id == editor for entry in entries)
        assert entries[0].object_id == str(article_id)
        assert entries[0].detail["slug"] == "waar-krijg-ik-prep"


@pytest.mark.parametrize(
    ("field", "value", "found"),
    [
        ("body", "Bel Jan Peeters op 0470 12 34 56 voor een afspraak.", "0470 12 34 56"),
        ("title", "Waar krijgt Marieke Janssens PrEP?", "Marieke Janssens"),
        ("short_answer", "Vraag het aan [naam] in het centrum.", "[naam]"),
    ],
)
def test_publish_refused_while_check_finds(editor_client, settings, field, value, found):
    article_id = create_article(editor_client)
    response = save(editor_client, article_id, **{field: value})
    assert response.status_code == 302
    page = editor_client.get(f"/admin/editor/{article_id}").get_data(as_text=True)
    assert "Publiceren kan pas als" in page
    assert found in page

    change_status(editor_client, article_id, "submit")
    response = change_status(editor_client, article_id, "publish")
    assert response.status_code == 302
    assert article_row(settings, article_id).status == ArticleStatus.IN_REVIEW
    assert "Publiceren geweigerd" in editor_client.get(f"/admin/editor/{article_id}").get_data(as_text=True)


def test_published_edit_with_phone_is_refused(editor_client, settings):
    article_id = create_article(editor_client)
    change_status(editor_client, article_id, "submit")
    change_status(editor_client, article_id, "publish")
    version = article_row(settings, article_id).version

    response = save(editor_client, article_id, body="Bel ons op 0470 12 34 56.")
    assert response.status_code == 422
    assert "0470 12 34 56" in response.get_data(as_text=True)  # the form keeps the editor's text
    article = article_row(settings, article_id)
    assert article.body == "PrEP is een pil tegen hiv."
    assert article.version == version


def test_every_version_is_kept_and_restorable(editor_client, settings):
    article_id = create_article(editor_client)
    save(editor_client, article_id, body="Tweede tekst.")
    save(editor_client, article_id, body="Derde tekst.")
    with session_scope(settings) as session:
        versions = session.scalars(select(ArticleVersion.body).where(ArticleVersion.article_id == article_id).order_by(ArticleVersion.version)).all()
    assert versions == ["PrEP is een pil tegen hiv.", "Tweede tekst.", "Derde tekst."]

    version_page = editor_client.get(f"/admin/editor/{article_id}/version/2").get_data(as_text=True)
    assert "Tweede tekst." in version_page
    post(editor_client, f"/admin/editor/{article_id}/restore", f"/admin/editor/{article_id}", version="1")
    article = article_row(settings, article_id)
    assert article.body == "PrEP is een pil tegen hiv."
    assert article.version == 4


def test_slug_cannot_change_after_publication(editor_client, settings):
    article_id = create_article(editor_client)
    save(editor_client, article_id, slug="prep-krijgen")
    assert article_row(settings, article_id).slug == "prep-krijgen"

    change_status(editor_client, article_id, "submit")
    change_status(editor_client, article_id, "publish")
    change_status(editor_client, article_id, "unpublish")
    change_status(editor_client, article_id, "reopen")
    response = save(editor_client, article_id, slug="ander-adres")
    assert response.status_code == 422
    assert article_row(settings, article_id).slug == "prep-krijgen"


def test_translation_starts_from_dutch(editor_client, settings):
    article_id = create_article(editor_client)
    response = post(editor_client, f"/admin/editor/{article_id}/translate", f"/admin/editor/{article_id}", language="fr")
    assert response.status_code == 302
    with session_scope(settings) as session:
        french = session.scalar(select(Article).where(Article.slug == "waar-krijg-ik-prep", Article.language == "fr"))
        assert french.status == ArticleStatus.DRAFT
        assert french.title == "Waar krijg ik PrEP?"


def png_bytes(exif: bool = False, size=(40, 30), image_format: str = "PNG") -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    output = io.BytesIO()
    if exif:
        metadata = Image.Exif()
        metadata[0x010E] = "Camera of Jan Peeters"  # ImageDescription
        image.save(output, image_format, exif=metadata)
    else:
        image.save(output, image_format)
    return output.getvalue()


def upload(client, article_id: int, data: bytes, filename: str, alt: str):
    token = csrf_token(client, f"/admin/editor/{article_id}")
    return client.post(
        f"/admin/editor/{article_id}/images",
        data={"csrf_token": token, "alt": alt, "image": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def test_image_upload_reencodes_and_requires_alt(editor_client, client, settings):
    article_id = create_article(editor_client)
    upload(editor_client, article_id, png_bytes(exif=True, image_format="JPEG"), "foto.jpg", "Een rode kaart")
    upload(editor_client, article_id, png_bytes(), "zonder-alt.png", "")
    upload(editor_client, article_id, b"<svg xmlns='http://www.w3.org/2000/svg'/>", "tekening.png", "Een tekening")
    with session_scope(settings) as session:
        images = session.scalars(select(ArticleImage).where(ArticleImage.article_id == article_id)).all()
        assert len(images) == 1
        image = images[0]
        assert image.content_type == "image/jpeg"
        assert image.alt == "Een rode kaart"
        assert b"Jan Peeters" not in image.data
        assert Image.open(io.BytesIO(image.data)).getexif() == {}
        public_url = f"/faq/images/{image.filename}"

    assert client.get(public_url).status_code == 404  # draft article: not public yet
    change_status(editor_client, article_id, "submit")
    change_status(editor_client, article_id, "publish")
    response = client.get(public_url)
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert "immutable" in response.headers["Cache-Control"]
    assert "Set-Cookie" not in response.headers
    assert client.get(public_url, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    page = client.get("/faq/nl/waar-krijg-ik-prep").get_data(as_text=True)
    assert f'src="{public_url}" alt="Een rode kaart"' in page


def test_image_alt_with_name_refused_on_published(editor_client, settings):
    article_id = create_article(editor_client)
    change_status(editor_client, article_id, "submit")
    change_status(editor_client, article_id, "publish")
    upload(editor_client, article_id, png_bytes(), "kaart.png", "Foto van Marieke Janssens")
    with session_scope(settings) as session:
        assert session.scalars(select(ArticleImage)).all() == []


def test_group_becomes_draft(editor_client, settings):
    message_id = sent_answer(settings)
    with session_scope(settings) as session:
        ticket_id = session.get(Message, message_id).ticket_id
        run = MiningRun(window_days=90, window_start=utcnow(), window_end=utcnow(), finished_at=utcnow(), question_count=3)
        run.groups.append(
            QuestionGroup(
                rank=1, size=3, current_count=3, previous_count=0, priority=6.0, language="nl", theme="gezondheid",
                label="prep, hiv, pil", examples=["Waar kan ik PrEP halen?", "Hoe kom ik aan PrEP?"],
                ticket_ids=[ticket_id], covered=False,
            )
        )
        session.add(run)
        session.flush()
        group_id = run.groups[0].id

    questions = editor_client.get("/admin/questions/").get_data(as_text=True)
    assert "Waar kan ik PrEP halen?" in questions
    assert f"/admin/editor/new?group={group_id}" in questions

    page = editor_client.get(f"/admin/editor/new?group={group_id}").get_data(as_text=True)
    assert 'value="Waar kan ik PrEP halen?"' in page
    assert "PrEP is een pil tegen hiv." in page
    assert f'name="group_id" type="hidden" value="{group_id}"' in page

    article_id = create_article(editor_client, f"/admin/editor/new?group={group_id}", group_id=str(group_id), slug="prep-halen")
    with session_scope(settings) as session:
        assert session.get(QuestionGroup, group_id).article_id == article_id
    assert "Artikel in de maak" in editor_client.get("/admin/questions/").get_data(as_text=True)


def test_run_mining_from_questions_page(editor_client, settings):
    response = post(editor_client, "/admin/questions/run", "/admin/questions/")
    assert response.status_code == 302
    with session_scope(settings) as session:
        assert session.scalars(select(MiningRun)).one().finished_at is not None
