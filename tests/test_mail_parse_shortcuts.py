"""Shortcuts inside parse_message give the same results as the straightforward routes."""

from __future__ import annotations

import email
from email.message import Message
from email.policy import compat32

import pytest

from helpdesk.mail import parse_message, parser
from helpdesk.mail.body import ContentCharsets
from helpdesk.mail.headers import HeaderFields, parse_addresses
from helpdesk.mail.parser import header_block_lines, repair_header_block
from helpdesk.mail.quotes import REPLY_HEADERS, _reply_header_at


def split_header_lines(raw: bytes) -> list[bytes]:
    """Return the lines before the first blank line from a split of the whole mail."""
    lines = raw.splitlines(keepends=True)
    end = next((index for index, line in enumerate(lines) if not line.strip()), len(lines))
    return lines[:end]


HEADER_BLOCKS = [
    b"",
    b"\r\n",
    b"From: a@example.net\r\nSubject: x\r\n\r\nbody\r\n",
    b"From: a@example.net\nSubject: x\n\nbody\n",
    b"From: a@example.net\rSubject: x\r\rbody\r",
    b"From: a@example.net\r\nSubject: x\r\n \t \r\nbody",
    b"From: a@example.net\r\n  folded continuation\r\nSubject: x\r\n\r\nbody\r\n",
    b"From: a@example.net\r\nSubject: no blank line, only headers",
    b"From: a@example.net\r\n\x0b\x0c\r\nbody after a whitespace-only line\r\n",
    b"Subject: " + b"x" * 200 + b"\r\nTo: b@example.net\r\n\r\n" + b"y" * 300,
]


@pytest.mark.parametrize("raw", HEADER_BLOCKS)
def test_header_lines_match_full_split(raw, monkeypatch):
    expected = split_header_lines(raw)

    # Trying every prefix size ends a prefix inside each line and between each CR and LF.
    for size in range(1, len(raw) + 2):
        monkeypatch.setattr(parser, "HEADER_SCAN_BYTES", size)
        assert header_block_lines(raw) == expected, size


def test_header_lines_of_large_body():
    raw = b"From: a@example.net\r\nSubject: x\r\n\r\n" + b"A" * 76 + b"\r\n" * 20_000

    assert header_block_lines(raw) == [b"From: a@example.net\r\n", b"Subject: x\r\n"]


def test_repair_keeps_large_body_bytes(monkeypatch):
    monkeypatch.setattr(parser, "HEADER_SCAN_BYTES", 16)
    body = b"".join(b"line %d\r\n" % number for number in range(5_000))
    raw = b"From: a@example.net\r\nSubject: first half\r\nsecond half\r\nTo: b@example.net\r\n\r\n" + body

    repaired = repair_header_block(raw)

    assert repaired.startswith(b"From: a@example.net\r\nSubject: first half\r\n second half\r\nTo: b@example.net\r\n\r\n")
    assert repaired.endswith(body)
    assert len(repaired) == len(raw) + 1


@pytest.mark.parametrize(
    "lines",
    [
        ["On Mon, 3 Jun 2024, Client Een wrote:"],
        ["ON MON, 3 JUN 2024 CLIENT EEN WROTE:"],
        ["On Mon, 3 Jun 2024 at 10:00, Client Een", "<client@example.net> wrote:"],
        ["Op ma 3 jun. 2024 om 10:00 schreef Client Een <client@example.net>:"],
        ["Le lun. 3 juin 2024 à 10:00, Client a écrit :"],
        ["Am Montag, 3. Juni 2024 schrieb Client:"],
        ["Online, someone wrote:"],
        ["Once upon a time I wrote:"],
        ["Lees dit, ik schreef:"],
        ["Amsterdam schrieb:"],
        ["On", "Monday Client", "wrote:"],
        ["  On Monday Client wrote:  "],
        ["> On Monday Client wrote:"],
        ["Hallo, on Monday Client wrote:"],
    ],
)
def test_reply_header_start_filter(lines):
    def reply_header_by_patterns(index: int) -> bool:
        first = lines[index].strip()
        if not first or len(first) > 400 or first.lstrip().startswith(">"):
            return False
        for count in range(1, 4):
            if index + count > len(lines):
                break
            candidate = " ".join(line.strip() for line in lines[index:index + count])
            if any(pattern.match(candidate) for pattern in REPLY_HEADERS):
                return True
        return False

    assert _reply_header_at(lines, 0) == reply_header_by_patterns(0)


def test_header_fields_keep_order_and_bytes():
    message = email.message_from_bytes(
        b"Received: one\r\nTo: a@example.net\r\nreceived: two\r\nSubject: caf\xe9\r\n\r\nbody\r\n",
        policy=compat32,
    )

    fields = HeaderFields(message)

    assert fields.values("RECEIVED") == ["one", "two"]
    assert fields.values("Subject") == ["caf\udce9"]
    assert fields.values("Cc") == []
    assert "to" in fields
    assert "Cc" not in fields


def test_cached_addresses_not_shared():
    message = email.message_from_bytes(b"To: Een <een@example.net>, twee@example.net\r\n\r\n", policy=compat32)
    fields = HeaderFields(message)

    first = parse_addresses(fields, "To")
    first.clear()
    second = parse_addresses(fields, "To")

    assert [address.address for address in second] == ["een@example.net", "twee@example.net"]
    assert second[0].name == "Een"


def test_8bit_sender_name_follows_body_charset():
    def mail(charset: str) -> bytes:
        return (
            b"From: Ren\xe9e <renee@example.net>\r\nTo: vragen@helpdesk.test\r\nSubject: vraag\r\n"
            b"Content-Type: text/plain; charset=" + charset.encode() + b"\r\n\r\nHallo\r\n"
        )

    assert parse_message(mail("iso-8859-1")).from_name == "Renée"
    assert parse_message(mail("koi8-r")).from_name == "RenИe"
    assert parse_message(mail("iso-8859-1")).from_name == "Renée"


class CountingMessage(Message):
    charset_reads = 0

    def get_content_charset(self, failobj=None):
        CountingMessage.charset_reads += 1
        return super().get_content_charset(failobj)


def test_content_charset_read_once_per_part():
    message = email.message_from_bytes(
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n", _class=CountingMessage, policy=compat32
    )
    charsets = ContentCharsets()
    CountingMessage.charset_reads = 0

    assert charsets.of(message) == "utf-8"
    assert charsets.of(message) == "utf-8"
    assert CountingMessage.charset_reads == 1


class FailingCharsetMessage(Message):
    def get_content_charset(self, failobj=None):
        raise TypeError("broken charset parameter")


def test_content_charset_error_raised_each_time():
    message = FailingCharsetMessage()
    charsets = ContentCharsets()

    for _ in range(2):
        with pytest.raises(TypeError):
            charsets.of(message)
