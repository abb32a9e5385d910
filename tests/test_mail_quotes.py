"""split_new_text on reply styles of common Dutch, French and English mail clients."""

from __future__ import annotations

import pytest

from helpdesk.mail import split_new_text

NEW = "Moet ik nuchter zijn?"
OLD = "> Je kan je gratis laten testen."


@pytest.mark.parametrize(
    "separator",
    [
        "Op ma 3 jun 2024 om 14:02 schreef Helpdesk <vragen@helpdesk.test>:",
        "Op ma 3 jun 2024 om 14:02 schreef Helpdesk <\nvragen@helpdesk.test>:",
        "Op 3 jun. 2024, om 14:02 heeft Helpdesk <vragen@helpdesk.test> het volgende geschreven:",
        "Le lun. 3 juin 2024 à 14:02, Helpdesk <vragen@helpdesk.test> a écrit :",
        "On Mon, Jun 3, 2024 at 2:02 PM Helpdesk <vragen@helpdesk.test> wrote:",
        "On 6/3/24 2:02 PM, Helpdesk wrote:",
        "-----Oorspronkelijk bericht-----",
        "-----Original Message-----",
        "-------- Message d'origine --------",
        "---------- Forwarded message ---------",
        "Van: Helpdesk <vragen@helpdesk.test>\nVerzonden: maandag 3 juni 2024 14:02\nAan: Client",
        "From: Helpdesk <vragen@helpdesk.test>\nSent: Monday, June 3, 2024 2:02 PM\nTo: Client",
        "De : Helpdesk <vragen@helpdesk.test>\nEnvoyé : lundi 3 juin 2024 14:02\nÀ : Client",
        "________________________________\nVan: Helpdesk <vragen@helpdesk.test>\nDatum: 3 juni 2024",
    ],
)
def test_quote_header_styles(separator):
    text = f"{NEW}\n\n{separator}\n\n{OLD}\nJe kan je gratis laten testen."

    assert split_new_text(text) == NEW


@pytest.mark.parametrize(
    "footer",
    [
        "Verzonden vanaf mijn iPhone",
        "Verstuurd vanaf mijn Samsung Galaxy smartphone.",
        "Envoyé de mon iPhone",
        "Sent from my iPad",
        "Get Outlook for Android",
        "-- \nClient Een\nStraat 1",
        "--\nClient Een",
    ],
)
def test_signatures_and_mobile_footers(footer):
    assert split_new_text(f"{NEW}\n\n{footer}") == NEW


def test_bottom_posted_reply():
    text = f"On Mon, Jun 3, 2024 Helpdesk wrote:\n{OLD}\n> Groeten\n\n{NEW}"

    assert split_new_text(text) == NEW


def test_interleaved_quotes_dropped():
    text = f"{OLD}\nDank u.\n{OLD}\n{NEW}"

    assert split_new_text(text) == f"Dank u.\n{NEW}"


def test_only_quoted_text_is_empty():
    assert split_new_text("-----Original Message-----\nFrom: Helpdesk\n\nOud bericht") == ""


@pytest.mark.parametrize(
    "text",
    [
        "Van: mijn vriend hoorde ik dat het gratis is.\nKlopt dat?",
        "On the other hand I wrote nothing about it.",
        "De: ik weet het niet",
        "Le test a été fait hier.",
    ],
)
def test_ordinary_lines_kept(text):
    assert split_new_text(text) == text
