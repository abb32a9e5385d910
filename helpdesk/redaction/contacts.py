"""E-mail addresses, URLs, social-media handles and IP addresses."""

from __future__ import annotations

import functools
import ipaddress
import re

from helpdesk.redaction.context import DIGIT, keyword_pattern, lowercase
from helpdesk.redaction.entities import Entity
from helpdesk.redaction.lexicon import lexicon, read_word_list

# Obfuscated forms: "naam [at] domein [dot] be", "naam(at)domein.be", "naam @ domein . be".
_AT = r"(?:\s?@\s?|\s?[\[({]\s?(?:at|@|apenstaart)\s?[\])}]\s?)"
_DOT = r"(?:\.|\s?[\[({]\s?(?:dot|punt|point|\.)\s?[\])}]\s?|\s\.\s)"
EMAIL = re.compile(
    rf"(?<![\w.%+-])[A-Za-z0-9][\w.%+-]*{_AT}[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    rf"(?:{_DOT}[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*{_DOT}[A-Za-z]{{2,24}}(?![A-Za-z0-9-])",
    re.IGNORECASE,
)
# Every match of EMAIL contains one of these. Most texts contain none, and scanning
# for them is much faster than trying EMAIL at every word.
_AT_HINT = re.compile(r"@|[\[({]\s?(?:at|apenstaart)\s?[\])}]", re.IGNORECASE)

_TLDS = (
    "be|nl|com|net|org|eu|fr|de|lu|uk|co|io|me|ly|gl|gg|to|tv|info|biz|xxx|sex|app|link|site|online|club"
    "|shop|live|ro|bg|pl|hu|es|it|pt|ru|ua|cz|sk|ch|at|dk|se|no|us|ca|ma|tr|vlaanderen|brussels|gent|amsterdam"
)
URL = re.compile(
    r"(?<![\w@.-])(?:"
    r"(?:https?|ftp)://[^\s<>\"'\]]+"
    r"|www\.[^\s<>\"'\]]+"
    rf"|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.(?:{_TLDS})"
    r"(?:/[^\s<>\"']*)?(?![\w@-])"
    r")",
    re.IGNORECASE,
)
# Every match of URL contains a scheme, "www." or a dot before a listed top-level domain.
_URL_HINT = re.compile(rf"://|www\.|\.(?:{_TLDS})", re.IGNORECASE)
_URL_TRAILING = ".,;:!?'\"»”’*"

# Bare platform domains name a platform, not a person ("op onlyfans.com"); with a path they are profiles.
PLATFORM_DOMAINS = {
    "onlyfans.com", "instagram.com", "facebook.com", "fb.com", "tiktok.com", "twitter.com", "x.com",
    "snapchat.com", "telegram.org", "t.me", "wa.me", "whatsapp.com", "reddit.com", "linkedin.com",
    "youtube.com", "google.com", "google.be", "gmail.com", "hotmail.com", "outlook.com", "grindr.com",
    "tinder.com", "redlights.be", "pornhub.com", "fansly.com", "chaturbate.com", "skype.com",
}

_HANDLE_AT = re.compile(r"(?<![\w@.+/-])@[A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?")
_HANDLE_REDDIT = re.compile(r"(?<![\w/])u/[A-Za-z0-9_-]{3,20}")
_HANDLE_SKYPE = re.compile(r"(?<![\w])live:\.?(?:cid\.)?[A-Za-z0-9_.-]{3,40}")
# Platform labels before a bare user name; short or ambiguous labels ("ig", "of") need a colon.
_HANDLE_LABEL = re.compile(
    r"(?<![\w@])(?:(?:snap(?:chat)?|insta(?:gram)?|telegram|tiktok|twitter|kik|wickr|skype|threema|discord|"
    r"grindr|tinder|romeo|planetromeo|badoo|bumble|onlyfans|fansly|wechat|viber|reddit|nick(?:name)?|"
    r"gebruikersnaam|username|user ?name|pseudo|pseudoniem|profielnaam|schuilnaam)"
    r"(?:\s*[-:=]\s*|\s+(?:is|heet|was|naam|name|handle|id|account|profiel|profile)\s*[:=]?\s*|\s+)"
    r"|(?:ig|of|tg|x|fb|signal|line|account|profiel|profile|id)\s*:\s*)"
    r"(?:(?:van|of|de|du)\s+(?:haar|hem|hun|her|him|lui|elle)\s+(?:is\s+)?)?"
    r"[\"'“‘«]?(?P<handle>@?[a-z0-9_][a-z0-9_.-]{2,31})",
)
_HANDLE_QUOTED_NICK = re.compile(
    r"(?:nick|nickname|gebruikersnaam|username|pseudo|profiel|profile|account|schuilnaam|bijnaam)"
    r"\s+(?:heet|is|was|named|called|genaamd|met de naam)?\s*[\"'“‘«](?P<handle>[^\"'”’»\n]{3,32})[\"'”’»]",
)
# A word with an underscore inside ("lola_vip") is almost always a user name.
_HANDLE_SHAPE = re.compile(r"(?<![\w@./-])[A-Za-z][A-Za-z0-9.]*_[A-Za-z0-9_.]*[A-Za-z0-9](?![\w@-])")
_HANDLE_MARKS = {_HANDLE_AT: "@", _HANDLE_REDDIT: "u/", _HANDLE_SKYPE: "live:", _HANDLE_SHAPE: "_"}
_HANDLE_STOPWORDS = keyword_pattern(
    "is", "was", "heet", "en", "of", "de", "het", "een", "me", "mij", "haar", "hem", "via", "op", "in", "met",
    "naar", "ook", "niet", "geen", "and", "or", "the", "a", "an", "to", "on", "et", "le", "la", "les", "un",
    "une", "sur", "profiel", "profile", "account", "naam", "name", "verwijderd", "deleted", "gesprek",
    "bericht", "berichten", "message", "messages", "chat", "gestuurd", "sturen", "contact", "stuurde",
)

# The first digit comes before the lookbehind that checks the character before it,
# which lets the regex engine skip quickly to the next digit.
_IPV4 = re.compile(r"\d(?<![\w.]\d)\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3}(?![\w.]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?:/\d{1,3})?(?![\w:])")


def find_emails(text: str) -> list[Entity]:
    """Find e-mail addresses, also those written with [at] and [dot]."""
    if not _AT_HINT.search(text):
        return []
    return [Entity(match.start(), match.end(), "EMAIL") for match in EMAIL.finditer(text)]


def _trim_url(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in _URL_TRAILING:
        end -= 1
    # A closing bracket belongs to the URL only when the URL opened it.
    for opening, closing in ("()", "[]"):
        while end > start and text[end - 1] == closing and text.count(opening, start, end) < text.count(closing, start, end):
            end -= 1
            while end > start and text[end - 1] in _URL_TRAILING:
                end -= 1
    return end


def _domain_of(url: str) -> tuple[str, str]:
    body = re.sub(r"^(?:[a-z]+://)?(?:www\.)?", "", url, flags=re.IGNORECASE)
    domain, _, path = body.partition("/")
    domain = domain.split(":")[0].split("?")[0].lower()
    return domain, path.strip("/")


@functools.cache
def public_domains() -> tuple[frozenset[str], tuple[str, ...]]:
    """Load the public-service domains and the public suffixes (".fgov.be") from the data folder."""
    entries = read_word_list("public_domains.txt")
    suffixes = tuple(sorted(entry for entry in entries if entry.startswith(".")))
    return frozenset(entry for entry in entries if not entry.startswith(".")), suffixes


def is_public_domain(domain: str) -> bool:
    """Tell whether `domain` is a listed public service, one of its subdomains or under a public suffix."""
    domains, suffixes = public_domains()
    labels = domain.split(".")
    if any(".".join(labels[position:]) in domains for position in range(len(labels) - 1)):
        return True
    return domain.endswith(suffixes)


def _is_public_link(url: str) -> bool:
    # A public service has no personal pages, so any path on it is information.
    # A platform's bare domain names the platform; with a path it points to a profile.
    domain, path = _domain_of(url)
    if is_public_domain(domain):
        return True
    return not path and domain in PLATFORM_DOMAINS


def find_urls(text: str) -> list[Entity]:
    """Find links to profiles, adverts and personal sites; links to public services stay."""
    found = []
    if not _URL_HINT.search(text):
        return found
    for match in URL.finditer(text):
        end = _trim_url(text, match.start(), match.end())
        url = text[match.start():end]
        if "." not in url or _is_public_link(url):
            continue
        found.append(Entity(match.start(), end, "URL"))
    return found


def _handle_is_plausible(handle: str) -> bool:
    bare = handle.lstrip("@")
    if len(bare) < 3 or bare.isdigit():
        return False
    return not _HANDLE_STOPWORDS.fullmatch(bare)


def find_handles(text: str) -> list[Entity]:
    """Find user names: @name, u/name, live:…, names after a platform label, quoted nicknames."""
    common_words = lexicon().common_words
    found = []
    for pattern in (_HANDLE_AT, _HANDLE_REDDIT, _HANDLE_SKYPE, _HANDLE_SHAPE):
        if _HANDLE_MARKS[pattern] not in text:
            continue  # every match contains this mark
        for match in pattern.finditer(text):
            end = match.end()
            while end > match.start() and text[end - 1] in "._-":
                end -= 1
            if end - match.start() >= 3:
                found.append(Entity(match.start(), end, "HANDLE"))
    lowered = lowercase(text)
    for pattern in (_HANDLE_LABEL, _HANDLE_QUOTED_NICK):
        for match in pattern.finditer(lowered):
            start, end = match.span("handle")
            while end > start and text[end - 1] in "._-":
                end -= 1
            handle = text[start:end]
            if _handle_is_plausible(handle) and (pattern is _HANDLE_QUOTED_NICK or _looks_like_handle(handle, common_words)):
                found.append(Entity(start, end, "HANDLE"))
    return found


def _looks_like_handle(handle: str, common_words: frozenset[str]) -> bool:
    # After a platform label ("via snap gevonden") an ordinary word is text, not a user name.
    bare = handle.lstrip("@")
    if handle.startswith("@") or any(character.isdigit() or character in "_." for character in bare):
        return True
    return bare.casefold() not in common_words


def find_ip_addresses(text: str) -> list[Entity]:
    """Find IPv4 and IPv6 addresses that parse as such."""
    found = []
    ipv4_matches = _IPV4.finditer(text) if DIGIT.search(text) else ()
    for match in ipv4_matches:
        try:
            ipaddress.IPv4Address(match.group())
        except ValueError:
            continue
        found.append(Entity(match.start(), match.end(), "IP_ADDRESS"))
    ipv6_matches = _IPV6.finditer(text) if ":" in text else ()
    for match in ipv6_matches:
        candidate = match.group().split("/")[0]
        if candidate.count(":") < 2:
            continue
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        found.append(Entity(match.start(), match.end(), "IP_ADDRESS"))
    return found
