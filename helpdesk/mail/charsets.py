"""Decoding of mail bytes whose charset is missing, unknown or wrong.

The order is: the declared charset, then UTF-8, then a guess. Mail clients
in Belgium and France that send undeclared 8-bit text nearly always mean
windows-1252, so the guess is windows-1252 unless charset-normalizer finds a
non-Western encoding (Cyrillic, Greek, Asian) that fits the bytes better.
"""

from __future__ import annotations

import codecs
import functools
from dataclasses import dataclass

from charset_normalizer import from_bytes

from helpdesk.mail.problems import problem

# Labels seen in real mail that Python's codec registry does not know.
CHARSET_ALIASES = {
    "iso-8859-8-i": "iso8859_8",
    "iso-8859-6-i": "iso8859_6",
    "win-1252": "cp1252",
    "x-mac-roman": "mac_roman",
    "x-sjis": "shift_jis",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",  # GB18030 is a superset; senders often mislabel GBK text as GB2312
    "gbk": "gb18030",
    "iso-gb2312": "gb18030",
    "cp-850": "cp850",
}

# Declared single-byte charsets that accept every byte, so a wrong label never
# fails to decode. Text declared as one of these but valid as UTF-8 is UTF-8.
PERMISSIVE_CODECS = {"ascii", "latin-1", "iso8859-1", "iso8859-15", "cp1252"}

# Guesses from charset-normalizer that are accepted. Any other guess, such as
# the cp1250 or latin-1 it often reports for Dutch and French text, becomes
# windows-1252.
NON_WESTERN_CODECS = {
    "big5",
    "big5hkscs",
    "cp1251",
    "cp1253",
    "cp1255",
    "cp1256",
    "cp866",
    "cp874",
    "cp932",
    "cp949",
    "euc_jp",
    "euc_kr",
    "gb18030",
    "gb2312",
    "gbk",
    "iso2022_jp",
    "iso8859_5",
    "iso8859_6",
    "iso8859_7",
    "iso8859_8",
    "koi8_r",
    "koi8_u",
    "mac_cyrillic",
    "shift_jis",
    "tis_620",
}

# Below this many 8-bit bytes a guess is unreliable, so windows-1252 is used.
MIN_GUESS_BYTES = 8

# Only the first bytes feed the guess: charset-normalizer slows down on long
# input and the start of a text is representative.
GUESS_SAMPLE_BYTES = 64 * 1024


@dataclass(frozen=True)
class DecodedText:
    text: str
    charset: str
    problem: str | None = None


@functools.lru_cache(maxsize=256)
def codec_for(label: str | None) -> str | None:
    """Return Python's codec name for a MIME charset label, or None when unknown."""
    if not label:
        return None
    cleaned = label.strip().strip("\"'").lower()
    cleaned = CHARSET_ALIASES.get(cleaned, cleaned)
    try:
        return codecs.lookup(cleaned).name
    except LookupError:
        return None


def decode_bytes(data: bytes, declared: str | None = None) -> DecodedText:
    """Decode `data`, trying the declared charset, UTF-8 and then a guess.

    Never raises. `problem` describes a missing, unknown or wrong declaration.
    """
    if not data:
        return DecodedText("", "ascii")

    codec = codec_for(declared)
    # The label is free text from the mail and may hold a name or an address,
    # so the problem names only the codec that decoded the text.
    code: str | None = "charset_unknown" if declared and codec is None else None

    if codec is not None:
        decoded = _decode_declared(data, codec)
        if decoded is not None:
            return decoded
        code = "charset_invalid"

    if data.isascii():
        return DecodedText(data.decode("ascii"), "ascii", code and problem(code, "ascii"))

    utf8 = _decode_mostly_utf8(data)
    if utf8 is not None:
        return DecodedText(utf8, "utf-8", code and problem(code, "utf-8"))

    guess = guess_codec(data)
    text = _decode_windows_1252(data) if guess == "cp1252" else data.decode(guess, errors="replace")
    return DecodedText(text, guess, problem(code or "charset_missing", guess))


def _decode_declared(data: bytes, codec: str) -> DecodedText | None:
    if codec in PERMISSIVE_CODECS and not data.isascii() and _is_utf8(data):
        return DecodedText(data.decode("utf-8"), "utf-8", problem("charset_invalid", "utf-8"))

    try:
        if codec in {"latin-1", "iso8859-1"}:
            # Senders that declare ISO-8859-1 mean windows-1252 (curly quotes,
            # euro sign), as HTML5 decoders also assume.
            return DecodedText(_decode_windows_1252(data), "cp1252")
        text = data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None
    return DecodedText(text.lstrip("\ufeff"), codec)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decode_mostly_utf8(data: bytes) -> str | None:
    """Return the UTF-8 reading of `data` when at most a few sequences are broken.

    A truncated or damaged UTF-8 text keeps most of its characters this way,
    while windows-1252 would turn every accented letter into two wrong ones.
    """
    text = data.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    if broken == 0:
        return text.lstrip("\ufeff")
    non_ascii = sum(1 for character in text if ord(character) > 127) - broken
    if non_ascii > broken:
        return text.lstrip("\ufeff")
    return None


def _decode_windows_1252(data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        # Five byte values are undefined in windows-1252; latin-1 maps them to
        # control characters instead of failing.
        return data.decode("latin-1")


def guess_codec(data: bytes) -> str:
    """Return the codec that charset-normalizer finds for non-Western text, else cp1252."""
    sample = data[:GUESS_SAMPLE_BYTES]
    if sum(1 for byte in sample if byte > 127) < MIN_GUESS_BYTES:
        return "cp1252"
    try:
        best = from_bytes(sample).best()
    except Exception:  # noqa: BLE001 - a detector failure must not stop parsing
        return "cp1252"
    if best is None:
        return "cp1252"
    codec = codec_for(best.encoding)
    if codec is None or codec.replace("-", "_") not in NON_WESTERN_CODECS:
        return "cp1252"
    return codec
