"""Where a canned reply or an article lands in a reply draft."""

import pytest

from helpdesk.tickets.draft_insert import closing_start, insert_snippet

NL_DRAFT = "Dag,\n\nBedankt voor je vraag.\n\nHeb je nog vragen? Antwoord gewoon op deze mail.\n\nMet vriendelijke groeten,\nHet team"
FR_DRAFT = "Bonjour,\n\nMerci pour ta question.\n\nVous avez encore des questions ? Répondez simplement à ce message.\n\nBien cordialement,\nL'équipe"
EN_DRAFT = "Hello,\n\nThanks for your question.\n\nAny more questions? Simply reply to this email.\n\nKind regards,\nThe team"


@pytest.mark.parametrize(
    ("draft", "closing"),
    [
        (NL_DRAFT, "Heb je nog vragen?"),
        (FR_DRAFT, "Vous avez encore des questions ?"),
        (EN_DRAFT, "Any more questions?"),
        ("Dag,\n\nHier is het antwoord.\n\nGroetjes\nSam", "Groetjes"),
    ],
)
def test_closing_found_in_each_language(draft, closing):
    assert draft[closing_start(draft) :].startswith(closing)


def test_snippet_goes_before_sign_off():
    result = insert_snippet(NL_DRAFT, "Artikel\nKort antwoord.")

    assert result == (
        "Dag,\n\nBedankt voor je vraag.\n\nArtikel\nKort antwoord.\n\n"
        "Heb je nog vragen? Antwoord gewoon op deze mail.\n\nMet vriendelijke groeten,\nHet team"
    )


def test_snippet_appended_without_sign_off():
    assert insert_snippet("Dag,\n\nmijn eigen zin.", "Artikel") == "Dag,\n\nmijn eigen zin.\n\nArtikel"


def test_quoted_sign_off_far_up_is_ignored():
    draft = "Dag,\n\nJe schreef: Groeten, Sam\n\nEen.\n\nTwee.\n\nDrie.\n\nVier."

    assert insert_snippet(draft, "Artikel").endswith("Vier.\n\nArtikel")


def test_snippet_at_line_start_cursor():
    cursor = NL_DRAFT.index("Bedankt")

    result = insert_snippet(NL_DRAFT, "Artikel", cursor)

    assert result.startswith("Dag,\n\nArtikel\n\nBedankt voor je vraag.")


def test_mid_line_cursor_moves_to_line_end():
    cursor = NL_DRAFT.index("voor je vraag")

    result = insert_snippet(NL_DRAFT, "Artikel", cursor)

    assert "Bedankt voor je vraag.\n\nArtikel\n\nHeb je nog vragen?" in result


def test_cursor_counts_characters_after_crlf():
    draft = "Dag 🙂,\r\n\r\nTekst.\r\n\r\nGroeten,\r\nHet team"
    cursor = len("Dag 🙂,\n\n")

    result = insert_snippet(draft, "Artikel", cursor)

    assert result == "Dag 🙂,\n\nArtikel\n\nTekst.\n\nGroeten,\nHet team"


@pytest.mark.parametrize("cursor", [-5, 10_000])
def test_cursor_outside_draft_is_clamped(cursor):
    result = insert_snippet("Een.\n\nTwee.", "Artikel", cursor)

    assert "Artikel" in result
    assert result.count("Artikel") == 1


def test_empty_draft_gets_only_snippet():
    assert insert_snippet("  \n", "  Artikel \n") == "Artikel"
