"""Proposals for new FAQ articles from a sent staff answer or from a group of frequent questions.

A proposal only prefills the editor's form: nothing is stored until the editor
creates the draft. Every text is redacted again, because a staff answer is
stored as written and may greet the client by name. Links to our own public
FAQ are kept as relative Markdown links, which the publication check accepts,
instead of becoming "[link]".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from helpdesk.config import Settings
from helpdesk.redaction import redact
from helpdesk.tickets.models import DeliveryState, Direction, Message, Ticket
from kb.drafts import fixed_paragraphs
from kb.language import detect_language
from kb.mining_models import QuestionGroup
from kb.models import DEFAULT_LANGUAGE, LANGUAGES, Article
from kb.text import fold, split_sentences

MAX_SLUG_LENGTH = 60
MAX_SHORT_ANSWER_LENGTH = 500

# Opening and closing lines of a mail that do not belong in an article.
_GREETING = re.compile(r"^(dag|beste|hallo|hoi|goeiedag|goedendag|bonjour|bonsoir|salut|hello|hi|dear)\b[^\n]{0,60}$", re.I)
_THANKS = re.compile(
    r"^(bedankt|dank je|dank u|merci|thank you|thanks)\b[^\n]{0,40}(vraag|bericht|mail|question|message)[^\n]{0,20}$", re.I
)
_SIGN_OFF = re.compile(
    r"^(groeten|(met )?(vriendelijke|hartelijke) groet(en)?|veel groeten|(bien )?cordialement|"
    r"bien à (toi|vous)|amicalement|kind regards|best regards|regards|best wishes)\b",
    re.I,
)

# A path on our own site: letters, digits, dashes and slashes, so that a
# full stop or bracket after the link stays in the sentence.
_OWN_PATH = r"(/[\w/-]*)?"
_FAQ_PATH = re.compile(r"^/faq/([a-z]{2})/([a-z0-9-]+)/?$")


class ProposalError(ValueError):
    """No proposal can be made from the given message or group; the message names the reason."""


@dataclass
class Proposal:
    title: str
    short_answer: str
    body: str
    language: str
    theme: str = ""
    slug: str = ""
    keywords: list[str] = field(default_factory=list)
    group_id: int | None = None
    message_id: int | None = None


def slugify(text: str) -> str:
    """Return a slug made of the folded words of `text`, at most MAX_SLUG_LENGTH characters."""
    words = re.findall(r"[a-z0-9]+", fold(text))
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > MAX_SLUG_LENGTH:
            break
        slug = candidate
    return slug or "vraag"


def generic_question(subject: str, text: str) -> str:
    """Return the client's first question sentence, or the subject when the mail contains no question."""
    for sentence in split_sentences(redact(text or "").text):
        if sentence.endswith("?") and len(sentence) >= 12:
            return sentence
    return redact(subject or "").text.strip()


def answer_paragraphs(session: Session, settings: Settings, body: str) -> list[str]:
    """Split a staff answer into redacted paragraphs without its greeting, thanks, closing and sign-off.

    The fixed paragraphs of the reply-draft templates count as greeting and
    closing in every language, next to the common forms staff type themselves.
    """
    paragraphs = [part.strip() for part in re.split(r"\n\s*\n", body or "") if part.strip()]
    openings: set[str] = set()
    closings: set[str] = set()
    for language in LANGUAGES:
        opening, closing = fixed_paragraphs(settings.from_name, language)
        openings.update(opening)
        closings.update(closing)

    def is_opening(paragraph: str) -> bool:
        return " ".join(paragraph.split()) in openings or bool(_GREETING.match(paragraph) or _THANKS.match(paragraph))

    def is_closing(paragraph: str) -> bool:
        return " ".join(paragraph.split()) in closings or bool(_SIGN_OFF.match(paragraph))

    while paragraphs and is_opening(paragraphs[0]):
        paragraphs.pop(0)
    for position, paragraph in enumerate(paragraphs):
        if is_closing(paragraph):
            paragraphs = paragraphs[:position]
            break
    return [_redact_keeping_own_links(session, settings, paragraph) for paragraph in paragraphs]


def _redact_keeping_own_links(session: Session, settings: Settings, text: str) -> str:
    """Redact `text`, with each link to our public site turned into a relative Markdown link first.

    The links are set aside during redaction, because the URL detector
    does not know our own address and would replace them by "[link]".
    """
    own_link = re.compile(re.escape(settings.public_url) + _OWN_PATH)
    # A site served below a path (https://example.org/helpdesk) keeps that path in its links.
    site_path = urlsplit(settings.public_url).path.rstrip("/")
    links: list[str] = []

    def set_aside(match: re.Match) -> str:
        links.append(_relative_link(session, site_path, match.group(1) or "/"))
        return f"\ue000{len(links) - 1}\ue001"

    redacted_text = redact(own_link.sub(set_aside, text)).text
    return re.sub("\ue000(\\d+)\ue001", lambda match: links[int(match.group(1))], redacted_text)


def _relative_link(session: Session, site_path: str, path: str) -> str:
    """Return a Markdown link to `path` on our site, named by the article's title when it is one.

    NOTE: the static FAQ export copies article bodies as they are, so there
    these links point at the live site's paths, not at the exported pages.
    """
    label = site_path + path
    faq = _FAQ_PATH.match(path)
    if faq is not None:
        language, slug = faq.groups()
        title = session.scalar(select(Article.title).where(Article.slug == slug, Article.language == language))
        label = title or label
    return f"[{label}]({site_path}{path})"


def _short_answer(paragraphs: list[str]) -> str:
    if not paragraphs:
        return ""
    first = " ".join(paragraphs[0].split())
    if len(first) <= MAX_SHORT_ANSWER_LENGTH:
        return first
    return first[: MAX_SHORT_ANSWER_LENGTH - 1].rsplit(" ", 1)[0] + "…"


def is_sent_answer(message: Message | None) -> bool:
    return (
        message is not None
        and message.direction == Direction.OUTBOUND
        and message.delivery_state == DeliveryState.SENT
        and not message.is_acknowledgement
    )


def from_message(session: Session, settings: Settings, message_id: int) -> Proposal:
    """Propose an article from a sent answer: the client's first question as title, the answer as text.

    The first question names the topic; a follow-up mail often asks a detail
    that makes no sense as an article title.
    """
    answer = session.get(Message, message_id)
    if not is_sent_answer(answer):
        raise ProposalError(f"message {message_id} is not a sent staff answer: choose an answer that was sent.")
    question = session.scalar(
        select(Message)
        .where(
            Message.ticket_id == answer.ticket_id,
            Message.direction == Direction.INBOUND,
            Message.is_automatic.is_(False),
            Message.id < answer.id,
        )
        .order_by(Message.id)
        .limit(1)
    )
    ticket = session.get(Ticket, answer.ticket_id)
    title = generic_question(question.subject, question.new_text or question.body) if question else ""
    title = title or redact(ticket.subject or "").text
    paragraphs = answer_paragraphs(session, settings, answer.body)
    language = _language(ticket.language or (question.language if question else None), title)
    return Proposal(
        title=title,
        short_answer=_short_answer(paragraphs),
        body="\n\n".join(paragraphs),
        language=language,
        theme=ticket.theme or "",
        slug=slugify(title),
        message_id=answer.id,
    )


def from_group(session: Session, settings: Settings, group_id: int) -> Proposal:
    """Propose an article from a question group: its closest example as title, a sent answer as text."""
    group = session.get(QuestionGroup, group_id)
    if group is None:
        raise ProposalError(f"question group {group_id} was not found: run `helpdesk faq mine` and choose a listed group.")
    title = redact(group.examples[0]).text if group.examples else group.label
    answer = _latest_sent_answer(session, group.ticket_ids or [])
    paragraphs = answer_paragraphs(session, settings, answer.body) if answer is not None else []
    return Proposal(
        title=generic_question("", title) or title,
        short_answer=_short_answer(paragraphs),
        body="\n\n".join(paragraphs),
        language=_language(group.language, title),
        theme=group.theme or "",
        slug=slugify(group.label or title),
        keywords=[word.strip() for word in (group.label or "").split(",") if word.strip()],
        group_id=group.id,
        message_id=answer.id if answer is not None else None,
    )


def _latest_sent_answer(session: Session, ticket_ids: list[int]) -> Message | None:
    if not ticket_ids:
        return None
    return session.scalar(
        select(Message)
        .where(
            Message.ticket_id.in_(ticket_ids),
            Message.direction == Direction.OUTBOUND,
            Message.delivery_state == DeliveryState.SENT,
            Message.is_acknowledgement.is_(False),
        )
        .order_by(Message.id.desc())
        .limit(1)
    )


def _language(language: str | None, text: str) -> str:
    if language in LANGUAGES:
        return language
    detected = detect_language(text) if text.strip() else DEFAULT_LANGUAGE
    return detected if detected in LANGUAGES else DEFAULT_LANGUAGE


def recent_sent_answers(session: Session, limit: int = 20, scope: ColumnElement[bool] | None = None) -> list[Message]:
    """Return the newest sent staff answers, for the editors' list of answers to promote.

    `scope` is a condition on Ticket, such as the teams an editor may see; None lists answers of every ticket.
    """
    query = (
        select(Message)
        .where(
            Message.direction == Direction.OUTBOUND,
            Message.delivery_state == DeliveryState.SENT,
            Message.is_acknowledgement.is_(False),
        )
        .order_by(Message.id.desc())
        .limit(limit)
    )
    if scope is not None:
        query = query.join(Ticket, Ticket.id == Message.ticket_id).where(scope)
    return list(session.scalars(query))
