"""parse_message on small raw fixtures, one per kind of mail a helpdesk receives."""

from __future__ import annotations

import random
import struct
from email.message import EmailMessage
from pathlib import Path

import pytest

from helpdesk.mail import parse_message, sanitize_html

FIXTURES = Path(__file__).parent / "fixtures" / "mail"


def parse_fixture(name: str, **options):
    return parse_message((FIXTURES / name).read_bytes(), **options)


def test_dutch_reply_drops_quote_and_mobile_footer():
    parsed = parse_fixture("reply-dutch-quoted.eml")

    assert parsed.subject == "Re: Vraag over een test [#1]"
    assert parsed.new_text == "Bedankt, moet ik nuchter zijn voor de bloedafname?"
    assert "Je kan je gratis laten testen." in parsed.text
    assert parsed.in_reply_to == ["out-1@helpdesk.test"]
    assert parsed.references == ["first-1@example.net", "out-1@helpdesk.test"]
    assert parsed.from_address == "client.een@example.net"
    assert parsed.from_name == "Client Een"
    assert parsed.automatic is None


def test_french_reply_drops_signature_and_quote():
    parsed = parse_fixture("reply-french-signature.eml")

    assert parsed.new_text == "Merci pour la réponse rapide."
    assert "Client Deux" in parsed.text


def test_outlook_original_message_separator():
    parsed = parse_fixture("reply-outlook-english.eml")

    assert parsed.new_text == "Thanks, that helps a lot."


def test_outlook_dutch_header_block():
    parsed = parse_fixture("reply-outlook-dutch-block.eml")

    assert parsed.new_text == "Dat is duidelijk, dank u."
    assert "Je kan je gratis laten testen." in parsed.text


def test_latin1_label_on_utf8_body():
    parsed = parse_fixture("charset-declared-latin1-is-utf8.eml")

    assert parsed.subject == "Café vraag"
    assert parsed.text == "Ik had één keer onbeschermd contact, is een test nodig?"
    assert "charset_invalid:utf-8" in parsed.problems


def test_utf8_label_on_windows_1252_body():
    parsed = parse_fixture("charset-declared-utf8-is-cp1252.eml")

    assert parsed.text == "Ça m'inquiète : j'ai eu un rapport non protégé. Que faire ?"
    assert "charset_invalid:cp1252" in parsed.problems


def test_missing_charset_with_8bit_headers():
    parsed = parse_fixture("charset-missing-8bit-headers.eml")

    assert parsed.subject == "Vraag over zwangerschap en café"
    assert parsed.from_name == "Zoë Client"
    assert parsed.from_address == "zoe@example.net"
    assert parsed.text == "Ik ben ongerust, kan ik nog zwanger worden na één keer?"


def test_rfc2047_subject_and_rfc2231_filename():
    parsed = parse_fixture("encoded-words-rfc2047-rfc2231.eml")

    assert parsed.subject == "Vraag over PrEP – dringend"
    assert parsed.from_name == "Élise Client"
    assert parsed.text == "Zie de bijlage met mijn resultaten – wat betekent dit?"
    assert [attachment.filename for attachment in parsed.attachments] == ["résultats labo.pdf"]
    assert parsed.attachments[0].content_type == "application/pdf"
    assert parsed.attachments[0].data.startswith(b"%PDF-1.4")


def test_html_only_becomes_text():
    parsed = parse_fixture("html-only-tracking.eml")

    assert "Hoe lang na een risico kan ik een hiv-test doen?" in parsed.text
    assert "alert" not in parsed.text
    assert "color: red" not in parsed.text
    assert parsed.html is not None


def test_html_sanitising_strips_scripts_and_remote_images():
    parsed = parse_fixture("html-only-tracking.eml")

    safe = sanitize_html(parsed.html)

    assert "<script" not in safe
    assert "alert" not in safe
    assert "tracker.example.com" not in safe
    assert "onclick" not in safe
    assert "<style" not in safe
    assert "risico" in safe


def test_related_inline_image_kept_as_cid():
    parsed = parse_fixture("related-inline-image.eml")

    assert parsed.text == "Wat betekent deze uitslag?"
    assert [attachment.content_id for attachment in parsed.attachments] == ["uitslag@example.net"]
    assert parsed.attachments[0].inline
    safe = sanitize_html(parsed.html)
    assert 'src="cid:uitslag@example.net"' in safe
    assert "remote.example.com" not in safe


def test_forwarded_message_included():
    parsed = parse_fixture("forwarded-message.eml")

    assert parsed.subject == "Fwd: Uitnodiging controle"
    assert parsed.new_text == "Ik kreeg deze mail, is dat echt?"
    assert "Gelieve langs te komen voor een controle." in parsed.text
    assert "Onderwerp: Uw controle-afspraak" in parsed.text


def test_forwarded_only_is_new_text():
    raw = (FIXTURES / "forwarded-message.eml").read_bytes().replace(
        b"Ik kreeg deze mail, is dat echt?", b""
    )

    parsed = parse_message(raw)

    assert "Gelieve langs te komen voor een controle." in parsed.new_text


def test_calendar_invitation_summary():
    parsed = parse_fixture("calendar-invitation.eml")

    assert "Uitnodiging: Gesprek over testresultaat" in parsed.text
    assert "Plaats: Spreekkamer 2" in parsed.text
    assert "Zie uitnodiging." in parsed.text
    assert [attachment.content_type for attachment in parsed.attachments] == ["text/calendar"]


def test_missing_date_and_message_id():
    raw = (FIXTURES / "missing-date-and-message-id.eml").read_bytes()

    parsed = parse_message(raw)

    assert parsed.date is None
    assert parsed.message_id_generated
    assert parsed.message_id == parse_message(raw).message_id
    assert parsed.message_id != parse_message(raw + b"x").message_id
    assert parsed.text == "Deze mail heeft geen datum en geen Message-ID."


def test_attachment_only_mail():
    parsed = parse_fixture("attachment-only.eml")

    assert parsed.text == ""
    assert [attachment.filename for attachment in parsed.attachments] == ["scan.jpg"]
    assert parsed.attachments[0].size > 0
    assert parsed.unreadable is None


def test_very_long_line():
    line = "lang " * 40_000
    raw = (
        "From: a@example.net\r\nSubject: Lang\r\nMessage-ID: <long@example.net>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n" + line + "\r\n"
    ).encode()

    parsed = parse_message(raw)

    assert parsed.text == line.strip()
    assert parsed.subject == "Lang"


@pytest.mark.timeout(60)
def test_long_references_keep_first_and_last_ids():
    # Deduplicating 80,000 ids with list membership tests takes minutes.
    ids = [f"<id-{number}@example.net>" for number in range(80_000)]
    raw = (
        "From: a@example.net\r\nSubject: Lang\r\nMessage-ID: <refs@example.net>\r\n"
        f"References: {' '.join(ids + ids[:10])}\r\n\r\nTekst\r\n"
    ).encode()

    parsed = parse_message(raw)

    assert len(parsed.references) == 101
    assert parsed.references[0] == "id-0@example.net"
    assert parsed.references[1] == "id-79900@example.net"
    assert parsed.references[-1] == "id-79999@example.net"


def test_unknown_charset_label_not_echoed():
    raw = (
        b"From: a@example.net\r\nSubject: Vraag\r\nMessage-ID: <charset@example.net>\r\n"
        b'Content-Type: text/plain; charset="Marie Dubois 0478 12 34 56 marie@example.net"\r\n\r\nHallo\r\n'
    )

    parsed = parse_message(raw)

    assert "charset_unknown:ascii" in parsed.problems
    assert not any("Marie" in problem for problem in parsed.problems)
    assert not any("0478" in problem for problem in parsed.problems)
    assert not any("marie@" in problem for problem in parsed.problems)


def test_too_large_keeps_headers_only():
    raw = (FIXTURES / "reply-dutch-quoted.eml").read_bytes()

    parsed = parse_message(raw, max_bytes=200)

    assert parsed.too_large
    assert parsed.subject == "Re: Vraag over een test [#1]"
    assert parsed.text == ""
    assert f"too_large:{len(raw)}" in parsed.problems


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("auto-submitted-out-of-office.eml", "auto-submitted:auto-replied"),
        ("out-of-office-subject-only-nl.eml", "auto-reply-subject"),
        ("out-of-office-subject-only-fr.eml", "auto-reply-subject"),
        ("mailing-list.eml", "precedence:list"),
        ("bounce-dsn.eml", "delivery-status"),
    ],
)
def test_automatic_mail_reasons(name, reason):
    assert parse_fixture(name).automatic == reason


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("Subject: Out of Office: your question\r\n", "auto-reply-subject"),
        ("Subject: Automatic reply: your question\r\n", "auto-reply-subject"),
        ("Subject: Absence : votre question\r\n", "auto-reply-subject"),
        ("Subject: Vraag\r\nX-Autoreply: yes\r\n", "x-autoreply"),
        ("Subject: Vraag\r\nX-Autorespond: yes\r\n", "x-autorespond"),
        ("Subject: Vraag\r\nX-Auto-Response-Suppress: All\r\n", "x-auto-response-suppress"),
        ("Subject: Vraag\r\nPrecedence: bulk\r\n", "precedence:bulk"),
        ("Subject: Vraag\r\nPrecedence: junk\r\n", "precedence:junk"),
        ("Subject: Vraag\r\nList-Id: <x.example.org>\r\n", "list-id"),
        ("Subject: Vraag\r\nAuto-Submitted: auto-generated\r\n", "auto-submitted:auto-generated"),
    ],
)
def test_automatic_mail_headers(headers, reason):
    raw = f"From: a@example.net\r\n{headers}\r\nTekst\r\n".encode()

    assert parse_message(raw).automatic == reason


def test_mailer_daemon_sender_is_automatic():
    raw = b"From: MAILER-DAEMON@mx.example.net\r\nSubject: Hi\r\n\r\nx\r\n"

    assert parse_message(raw).automatic == "mailer-daemon"


@pytest.mark.parametrize(
    "subject",
    ["Absence de règles depuis deux mois", "Afwezigheid van symptomen na een risico", "Auto-test kopen?"],
)
def test_real_questions_not_automatic(subject):
    raw = f"From: a@example.net\r\nSubject: {subject}\r\nAuto-Submitted: no\r\n\r\nVraag\r\n".encode()

    assert parse_message(raw).automatic is None


def test_bounce_refers_to_original():
    parsed = parse_fixture("bounce-dsn.eml")

    assert parsed.bounce is not None
    assert parsed.bounce.original_message_ids == ["out-1@helpdesk.test"]
    assert parsed.bounce.failed
    assert parsed.bounce.status == "5.1.1"
    assert "User unknown" in parsed.bounce.reason


def _tnef_attribute(level: int, name: int, kind: int, data: bytes) -> bytes:
    checksum = sum(data) & 0xFFFF
    return struct.pack("<BHHI", level, name, kind, len(data)) + data + struct.pack("<H", checksum)


def tnef_bytes(body: str, filename: str, content: bytes) -> bytes:
    """Build a minimal winmail.dat: a plain body and one attached file (MS-OXTNEF attribute layout)."""
    data = struct.pack("<IH", 0x223E9F78, 0x0001)
    data += _tnef_attribute(1, 0x9006, 0x0009, struct.pack("<I", 0x00010000))  # attTnefVersion
    data += _tnef_attribute(1, 0x800C, 0x0002, body.encode("cp1252") + b"\x00")  # attBody
    data += _tnef_attribute(2, 0x9002, 0x0006, b"\x00" * 14)  # attAttachRendData starts an attachment
    data += _tnef_attribute(2, 0x8010, 0x0001, filename.encode() + b"\x00")  # attAttachTitle
    data += _tnef_attribute(2, 0x800F, 0x0006, content)  # attAttachData
    return data


def test_tnef_winmail_body_and_attachment():
    message = EmailMessage()
    message["From"] = "Client <client@example.net>"
    message["Subject"] = "Outlook vraag"
    message["Message-ID"] = "<tnef@example.net>"
    message.set_content("")
    message.add_attachment(
        tnef_bytes("Mag ik na een PEP-kuur alcohol drinken?", "uitslag.txt", b"negatief"),
        maintype="application",
        subtype="ms-tnef",
        filename="winmail.dat",
    )

    parsed = parse_message(message.as_bytes())

    assert "Mag ik na een PEP-kuur alcohol drinken?" in parsed.text
    assert [(attachment.filename, attachment.data) for attachment in parsed.attachments] == [
        ("uitslag.txt", b"negatief")
    ]


def test_broken_tnef_kept_as_attachment():
    message = EmailMessage()
    message["Subject"] = "Kapot"
    message.set_content("Tekst")
    message.add_attachment(b"not tnef at all", maintype="application", subtype="ms-tnef", filename="winmail.dat")

    parsed = parse_message(message.as_bytes())

    assert parsed.text == "Tekst"
    assert [attachment.filename for attachment in parsed.attachments] == ["winmail.dat"]
    assert "tnef_unreadable" in parsed.problems


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\x01\x02",
        b"garbage without headers",
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n--x--",
        b"Subject: =?utf-8?b?!!!?= =?x-unknown?q?abc?=\r\n\r\nbody",
        b"Content-Type: text/plain; charset=does-not-exist\r\n\r\n\xff\xfe\xfd",
        b"Content-Transfer-Encoding: base64\r\n\r\n====not base64====",
    ],
)
def test_bad_input_never_raises(raw):
    parsed = parse_message(raw)

    assert parsed.message_id
    assert isinstance(parsed.text, str)
    assert isinstance(parsed.subject, str)


def test_encrypted_mail_is_unreadable():
    raw = (
        b"From: a@example.net\r\nSubject: Geheim\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQA=\r\n"
    )

    parsed = parse_message(raw)

    assert parsed.unreadable == "smime_encrypted"
    assert parsed.subject == "Geheim"


GARBAGE = {
    "random bytes": bytes(random.Random(7).getrandbits(8) for _ in range(4096)),
    "control bytes": b"\x00\x01\x02garbage\xff\xfe" * 50,
    "pdf file": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
    "plain text file": b"boodschappen\nmelk\nbrood\n",
    "empty": b"",
}


@pytest.mark.parametrize("raw", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_without_headers_is_unreadable(raw):
    parsed = parse_message(raw)

    assert parsed.unreadable == "no_headers"
    assert parsed.unreadable in parsed.problems
    assert parsed.text == ""


def test_garbage_with_unknown_header_is_unreadable():
    raw = b"Q7:" + bytes(random.Random(3).getrandbits(8) for _ in range(512)).replace(b"\n", b"")

    parsed = parse_message(raw)

    assert parsed.unreadable == "no_known_headers"


def test_minimal_mail_without_date_or_id_is_readable():
    parsed = parse_message(b"From: client@example.net\r\nSubject: Vraag\r\n\r\nMag ik anoniem testen?\r\n")

    assert parsed.unreadable is None
    assert parsed.text == "Mag ik anoniem testen?"
    assert parsed.message_id_generated
