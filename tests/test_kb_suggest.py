"""Suggestions on the shipped articles: single and multi-question mail, no fit, other languages."""

from email.message import EmailMessage

import pytest

from kb.catalog import index_for_directory
from kb.language import detect_language
from kb.mailtext import parse_mail
from kb.suggest import split_questions, suggest
from kb.transfer import CONTENT_DIR


@pytest.fixture(scope="module")
def index():
    index = index_for_directory(CONTENT_DIR)
    if len(index.slugs) < 30:
        pytest.skip(f"{CONTENT_DIR} holds only {len(index.slugs)} published articles")
    return index


def slugs(result) -> list[str]:
    return [item.slug for item in result.suggestions]


def test_split_questions_keeps_context_with_each_question():
    text = "Ik was gisteren bij een escort. Het condoom scheurde. Wat nu? En moet ik het mijn vrouw zeggen? Groetjes"
    assert split_questions(text) == [
        "Ik was gisteren bij een escort. Het condoom scheurde. Wat nu?",
        "En moet ik het mijn vrouw zeggen? Groetjes",
    ]


def test_split_questions_without_question_mark_is_one_question():
    assert split_questions("Ik wil graag info over PrEP.\n\nDank") == ["Ik wil graag info over PrEP. Dank"]


def test_torn_condom_question(index):
    result = suggest(index, "condoom gescheurd", "Gisteren is het condoom gescheurd bij een dame. Wat moet ik nu doen?")
    assert result.language == "nl"
    assert slugs(result)[0] == "condoom-gescheurd"
    assert result.confident
    assert result.urgency.reason == "pep-window"
    assert "condoom" in " ".join(result.suggestions[0].matched_terms)


def test_thesaurus_slang_question(index):
    result = suggest(index, "", "Hoe groot is de kans op een soa bij PZC? Ze wilde geen kapotje gebruiken bij het pijpen.")
    assert slugs(result)[0] == "pijpen-zonder-condoom"


def test_compound_and_misspelling_question(index):
    result = suggest(index, "", "Hoeveel kost zo'n soatest eigelijk bij de huisdokter? Wordt dat terugbetaalt?")
    assert "testkosten" in slugs(result)[:2]


def test_multi_question_mail_gets_an_article_per_question(index):
    text = (
        "Ik ben getrouwd en ga soms naar een dame achter het raam. "
        "Kan ik me ergens laten testen zonder dat mijn vrouw het ooit te weten komt?\n\n"
        "En iets anders: ben ik eigenlijk strafbaar als klant in België?"
    )
    result = suggest(index, "twee vragen", text)
    # Testing without the wife knowing is covered by both of these articles.
    testing_articles = {"anoniem-testen", "klanten-met-relatie"}
    assert "klant-strafbaar" in result.confident_slugs
    assert testing_articles & set(result.confident_slugs)


@pytest.mark.parametrize(
    "text",
    [
        "Weet iemand hoe laat de trein naar Oostende vertrekt op zondag?",
        "Kunnen jullie mijn fiets herstellen? De ketting is gebroken.",
    ],
)
def test_question_without_fitting_article_is_not_confident(index, text):
    result = suggest(index, "vraagje", text)
    assert not result.confident
    assert result.confident_slugs == []


def test_french_question_finds_dutch_only_article(index):
    result = suggest(index, "", "Est-ce qu'on peut attraper une IST en faisant un cunnilingus à une escort ?")
    assert result.language == "fr"
    assert "beffen" in slugs(result)[:3]


def test_english_question(index):
    result = suggest(index, "", "Where can I get tested for STIs in Antwerp without my GP knowing?")
    assert result.language == "en"
    assert {"waar-testen", "anoniem-testen"} & set(slugs(result)[:2])


def test_title_follows_question_language_when_translated(index):
    result = suggest(index, "", "Le préservatif a craqué hier avec une escort, que dois-je faire ?")
    first = result.suggestions[0]
    assert first.slug == "condoom-gescheurd"
    assert first.language == "fr"
    assert first.title == index.by_slug_language[("condoom-gescheurd", "fr")].title


def quoted_reply_mail() -> bytes:
    message = EmailMessage()
    message["From"] = "client@example.net"
    message["To"] = "vragen@helpdesk.test"
    message["Subject"] = "Re: uw vraag"
    body = (
        "Merci pour la réponse. J'ai encore une question : combien coûte un test de dépistage chez le médecin ?\n\n"
        "Op 3 nov. 2026 om 10:12 schreef Helpdesk <vragen@helpdesk.test>:\n"
        "> Dag, bedankt voor je vraag. Je kunt je laten testen bij de huisarts of in een soa-centrum.\n"
        "> Een test is vertrouwelijk en de uitslag krijg je na een week.\n"
        "> Met vriendelijke groeten, het team\n"
    )
    message.set_content(body, charset="utf-8")
    return bytes(message)


def test_language_of_quoted_mail_follows_new_text():
    mail = parse_mail(quoted_reply_mail())
    assert "Dag, bedankt" not in mail.new_text
    assert detect_language(mail.new_text) == "fr"


def test_parse_mail_reads_html_only_mail():
    message = EmailMessage()
    message["Subject"] = "vraag"
    message.set_content("<html><body><p>Hoeveel kost een <b>soa-test</b>?</p></body></html>", subtype="html")
    mail = parse_mail(bytes(message))
    assert "soa-test" in mail.new_text
    assert "<p>" not in mail.new_text


def test_confident_question_leads_unclear_mail(index):
    text = (
        "Mijn buurman heeft een nieuwe hond en die blaft de hele nacht, wat kan ik daaraan doen? "
        "En iets heel anders: is PrEP iets voor mij als ik regelmatig naar escorts ga?"
    )
    result = suggest(index, "", text)
    assert result.suggestions[0].slug == "prep"
    assert result.suggestions[0].confident
    assert result.confident_slugs == ["prep"]
