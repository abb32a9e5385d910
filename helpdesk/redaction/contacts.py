"""E-mail addresses, URLs, social-media handles and IP addresses."""

from __future__ import annotations

import ipaddress
import re

from helpdesk.redaction.context import keyword_pattern, lowercase
from helpdesk.redaction.entities import Entity
from helpdesk.redaction.lexicon import lexicon

# Obfuscated forms: "naam [at] domein [dot] be", "naam(at)domein.be", "naam @ domein . be".
_AT = r"(?:\s?@\s?|\s?[\[({]\s?(?:at|@|apenstaart)\s?[\])}]\s?)"
_DOT = r"(?:\.|\s?[\[({]\s?(?:dot|punt|point|\.)\s?[\])}]\s?|\s\.\s)"
EMAIL = re.compile(
    rf"(?<![\w.%+-])[A-Za-z0-9][\w.%+-]*{_AT}[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    rf"(?:{_DOT}[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*{_DOT}[A-Za-z]{{2,24}}(?![A-Za-z0-9-])",
    re.IGNORECASE,
)

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
_URL_TRAILING = ".,;:!?'\"»”’*"

# Public services and organisations cited as information: no person behind them.
# A link deeper into a social or advertising site stays a URL: it points to a profile.
PUBLIC_DOMAINS = {
    "sensoa.be", "itg.be", "itm.be", "helpcenter.itg.be", "swab2know.be", "ghapro.be", "pasop.be",
    "espacep.be", "boysproject.be", "utsopi.be", "payoke.be", "pag-asa.be", "surya-vzw.be",
    "childfocus.be", "caw.be", "aditi.be", "ggd.nl", "soaaids.nl", "sense.info", "violett.be",
    "belgium.be", "fgov.be", "vlaanderen.be", "mijngezondheid.be", "riziv.be", "inami.be",
    "politie.be", "police.be", "politie.nl", "rijksoverheid.nl", "overheid.nl", "wikipedia.org",
    "gezondheid.be", "zorg-en-gezondheid.be", "who.int", "cdc.gov", "nhs.uk", "ecdc.europa.eu",
    "1712.be", "stopitnow.be", "hivplan.be", "prepinfo.be", "safesexshop.be", "stopmensenhandel.be",
    "stoptraite.be", "zelfmoord1813.be", "preventiesuicide.be", "tele-onthaal.be", "awel.be", "zanzu.be",
    "allesoverseks.be", "druglijn.be", "infordrogues.be", "myria.be", "unia.be", "ecpat.be", "elfjuli.be",
    "mensenhandel.be", "meldpunt.be", "sidasol.be", "preventionsida.org", "planningfamilial.net",
}
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
_HANDLE_STOPWORDS = keyword_pattern(
    "is", "was", "heet", "en", "of", "de", "het", "een", "me", "mij", "haar", "hem", "via", "op", "in", "met",
    "naar", "ook", "niet", "geen", "and", "or", "the", "a", "an", "to", "on", "et", "le", "la", "les", "un",
    "une", "sur", "profiel", "profile", "account", "naam", "name", "verwijderd", "deleted", "gesprek",
    "bericht", "berichten", "message", "messages", "chat", "gestuurd", "sturen", "contact", "stuurde",
)

_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?:/\d{1,3})?(?![\w:])")


def find_emails(text: str) -> list[Entity]:
    """Find e-mail addresses, also those written with [at] and [dot]."""
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


def _is_public_link(url: str) -> bool:
    domain, path = _domain_of(url)
    if any(domain == public or domain.endswith("." + public) for public in PUBLIC_DOMAINS):
        return True
    return not path and domain in PLATFORM_DOMAINS


def find_urls(text: str) -> list[Entity]:
    """Find links to profiles, adverts and personal sites; links to public services stay."""
    found = []
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
        if pattern is _HANDLE_SHAPE and "_" not in text:
            continue
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
    for match in _IPV4.finditer(text):
        try:
            ipaddress.IPv4Address(match.group())
        except ValueError:
            continue
        found.append(Entity(match.start(), match.end(), "IP_ADDRESS"))
    for match in _IPV6.finditer(text):
        candidate = match.group().split("/")[0]
        if candidate.count(":") < 2:
            continue
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        found.append(Entity(match.start(), match.end(), "IP_ADDRESS"))
    return found
