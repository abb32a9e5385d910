"""Decoding of header values: encoded words, 8-bit bytes, addresses, ids and dates.

Headers come from the stdlib parser with the compat32 policy, which keeps
8-bit bytes as surrogate escapes instead of failing. RFC 2047 encoded words
are decoded word by word so that one word with a wrong or unknown charset
does not spoil the rest of the header.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from helpdesk.mail.charsets import decode_bytes

# RFC 2047 encoded word; the charset may carry an RFC 2231 language suffix (utf-8*nl).
ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([qQbB])\?([^?\s]*)\?=")
WHITESPACE_BETWEEN_WORDS = re.compile(r"\?=[ \t\r\n]+=\?")
FOLDED_LINE = re.compile(r"\r?\n[ \t]*")
MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
BARE_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
MAX_MESSAGE_ID_LENGTH = 998  # the SMTP line limit; longer values are not real ids
# Threading needs the thread's first id and the most recent ones, so a References
# header keeps its first id and its last 100.
MAX_MESSAGE_IDS = 101
# Parsed address headers are cached when their values total at most this many characters.
MAX_CACHED_ADDRESS_LENGTH = 1000
ADDRESS_CACHE_SIZE = 1024  # entries


@dataclass(frozen=True)
class Address:
    address: str
    name: str = ""


def raw_header_bytes(value: object) -> bytes:
    """Return the header's original bytes from a compat32 header value."""
    if isinstance(value, bytes):
        return value
    text = str(value)
    return text.encode("utf-8", errors="surrogateescape")


def decode_header_value(value: object, fallback_charset: str | None = None) -> str:
    """Decode a header to text: 8-bit bytes, then encoded words, then unfolding.

    `fallback_charset` is tried for 8-bit bytes before UTF-8 and the guess,
    because clients that put raw bytes in headers use their body charset there.
    """
    if value is None:
        return ""
    data = raw_header_bytes(value)
    if data.isascii():
        text = data.decode("ascii")
    else:
        text = decode_bytes(data, fallback_charset if _is_8bit_charset(fallback_charset) else None).text

    text = FOLDED_LINE.sub(" ", text)
    if "=?" in text:
        text = decode_encoded_words(text)
    return text.strip()


def _is_8bit_charset(label: str | None) -> bool:
    return bool(label) and label.lower() not in {"us-ascii", "ascii"}


def decode_encoded_words(text: str) -> str:
    """Decode RFC 2047 encoded words, joining adjacent words of one charset before decoding.

    Joining first matters because some clients split a multi-byte character
    over two encoded words.
    """
    if "=?" not in text:
        return text
    text = WHITESPACE_BETWEEN_WORDS.sub("?==?", text)
    pieces: list[str] = []
    position = 0
    pending_bytes = b""
    pending_charset: str | None = None

    def flush() -> None:
        nonlocal pending_bytes, pending_charset
        if pending_bytes or pending_charset:
            pieces.append(decode_bytes(pending_bytes, pending_charset).text)
        pending_bytes, pending_charset = b"", None

    for match in ENCODED_WORD.finditer(text):
        if match.start() > position:
            flush()
            pieces.append(text[position:match.start()])
        charset = match.group(1).split("*", 1)[0]
        data = _decode_word(match.group(0))
        if data is None:
            flush()
            pieces.append(match.group(0))
        else:
            if pending_charset is not None and pending_charset.lower() != charset.lower():
                flush()
            pending_bytes += data
            pending_charset = charset
        position = match.end()
    flush()
    pieces.append(text[position:])
    return "".join(pieces)


def _decode_word(word: str) -> bytes | None:
    try:
        decoded = decode_header(word)
    except (HeaderParseError, ValueError, LookupError):
        return None
    if len(decoded) != 1 or not isinstance(decoded[0][0], bytes):
        return None
    return decoded[0][0]


class HeaderFields:
    """Header fields of one message, indexed by lower-case name.

    Values are kept as the compat32 parser stores them, with 8-bit bytes as
    surrogate escapes, because `Message.get_all` would replace those bytes by
    U+FFFD. The fields are read once, so later changes to the message are not seen.
    """

    def __init__(self, message: Message) -> None:
        self._values: dict[str, list[str]] = {}
        for key, value in message.raw_items():
            self._values.setdefault(key.lower(), []).append(value)

    def values(self, name: str) -> list[str]:
        """Return every `name` field's value as stored, in the order of the header block."""
        return self._values.get(name.lower(), [])

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._values


def header_text(fields: HeaderFields, name: str, fallback_charset: str | None = None) -> str:
    """Return the decoded value of the first `name` header, or an empty string."""
    values = fields.values(name)
    if not values:
        return ""
    return decode_header_value(values[0], fallback_charset)


def parse_addresses(fields: HeaderFields, name: str, fallback_charset: str | None = None) -> list[Address]:
    """Return the addresses of every `name` header, with decoded display names.

    Addresses are split before encoded words are decoded, so a comma inside an
    encoded display name does not split one address into two.
    """
    values = fields.values(name)
    if not values:
        return []
    cacheable = all(type(value) is str for value in values) and sum(map(len, values)) <= MAX_CACHED_ADDRESS_LENGTH
    if cacheable:
        return list(_cached_addresses(tuple(values), fallback_charset))
    return _addresses(values, fallback_charset)


@functools.lru_cache(maxsize=ADDRESS_CACHE_SIZE)
def _cached_addresses(values: tuple[str, ...], fallback_charset: str | None) -> tuple[Address, ...]:
    # The same To and Cc values (the helpdesk's own address) recur in most
    # mail, and the result depends on nothing but the arguments.
    return tuple(_addresses(values, fallback_charset))


def _addresses(values: Sequence[object], fallback_charset: str | None) -> list[Address]:
    raw_values = []
    for value in values:
        data = raw_header_bytes(value)
        raw = data.decode("ascii") if data.isascii() else decode_bytes(data, fallback_charset).text
        raw_values.append(FOLDED_LINE.sub(" ", raw))

    try:
        pairs = getaddresses(raw_values)
    except (RecursionError, ValueError, IndexError, TypeError):
        # The stdlib address parser recurses per token and gives up on some
        # crafted headers; fall back to bare addresses without names.
        pairs = [("", match.group(0)) for value in raw_values for match in BARE_ADDRESS.finditer(value)]

    addresses: list[Address] = []
    for display_name, address in pairs:
        address = address.strip().strip("<>").strip()
        if not address and not display_name:
            continue
        addresses.append(Address(address=address, name=decode_encoded_words(display_name).strip()))
    return addresses


def message_ids(value: str | None) -> list[str]:
    """Return the distinct ids in a Message-ID, In-Reply-To or References value, without brackets.

    Of more than MAX_MESSAGE_IDS ids only the first and the last ones are kept.
    """
    if not value:
        return []
    found = [match.group(1) for match in MESSAGE_ID.finditer(value)]
    if not found:
        # Some clients omit the brackets; take bare tokens that look like ids.
        found = [token.strip("<>,;") for token in value.split() if "@" in token]
    valid = (message_id for message_id in found if message_id and len(message_id) <= MAX_MESSAGE_ID_LENGTH)
    unique = list(dict.fromkeys(valid))
    if len(unique) > MAX_MESSAGE_IDS:
        unique = unique[:1] + unique[-(MAX_MESSAGE_IDS - 1):]
    return unique


def parse_date(value: str | None) -> dt.datetime | None:
    """Return the Date header as an aware datetime, or None when missing or invalid."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None or not 1970 <= parsed.year <= 2200:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed
