"""Review and publication of FAQ articles: the redaction check, status changes and the audit trail.

Articles move draft -> in_review -> published, and published -> archived
(unpublished) -> draft. Only editors and admins change status. Publishing is
refused while `check_article` finds anything, and so is saving or restoring
content of an article that is already published, because that content goes
public at once. Every publish and unpublish is written to the audit log.

Callers own the transaction: these functions flush but never commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import AuditEntry, Role, User
from helpdesk.accounts.services import audit
from helpdesk.redaction import PLACEHOLDERS, detect, publication_problems
from kb.articles import ArticleError, normalise_content, restore_version, save_article, set_status, validate_slug
from kb.faq_images import add_image
from kb.faq_models import ArticleImage
from kb.models import Article, ArticleStatus, ArticleVersion

PUBLISHER_ROLES = frozenset({Role.EDITOR, Role.ADMIN})
CHECKED_FIELDS = ("title", "short_answer", "body", "keywords")

_PLACEHOLDER_PATTERN = re.compile("|".join(re.escape(placeholder) for placeholder in PLACEHOLDERS.values()))


@dataclass(frozen=True)
class Transition:
    sources: frozenset[ArticleStatus]
    target: ArticleStatus


TRANSITIONS = {
    "submit": Transition(frozenset({ArticleStatus.DRAFT}), ArticleStatus.IN_REVIEW),
    "reject": Transition(frozenset({ArticleStatus.IN_REVIEW}), ArticleStatus.DRAFT),
    "publish": Transition(frozenset({ArticleStatus.IN_REVIEW}), ArticleStatus.PUBLISHED),
    "unpublish": Transition(frozenset({ArticleStatus.PUBLISHED}), ArticleStatus.ARCHIVED),
    "reopen": Transition(frozenset({ArticleStatus.ARCHIVED}), ArticleStatus.DRAFT),
}
AUDITED_ACTIONS = {"publish", "unpublish"}


@dataclass(frozen=True)
class Problem:
    """One thing that forbids publishing: the field, the check's sentence and the text it found."""

    field: str
    message: str
    excerpt: str = ""
    entity_type: str = ""  # the detected detail's type (PHONE, EMAIL ...); empty for a placeholder


class PublicationRefused(ArticleError):
    """The article's content cannot go public; `problems` lists what the check found."""

    def __init__(self, article: Article, problems: list[Problem]):
        self.problems = problems
        super().__init__(
            f"article {article.language}/{article.slug} cannot be published: the check found "
            f"{len(problems)} identifying detail(s) or placeholder(s); remove them and save again."
        )


class NotAllowed(ArticleError):
    """The user's role or the article's status does not allow the action."""


def check_text(field: str, text: str) -> list[Problem]:
    """Run the publication check of `helpdesk.redaction` on one field, plus the placeholder check."""
    problems = []
    messages = publication_problems(text)
    entities = detect(text)
    # publication_problems states one sentence per detected entity; the excerpt
    # shows the editor the text itself, when both lists line up.
    excerpts = [text[entity.start : entity.end] for entity in entities] if len(entities) == len(messages) else []
    for number, message in enumerate(messages):
        aligned = bool(excerpts)
        problems.append(Problem(field, message, excerpts[number] if aligned else "", entities[number].type if aligned else ""))
    for match in _PLACEHOLDER_PATTERN.finditer(text):
        problems.append(
            Problem(field, f"Tekst bevat nog de plaatshouder {match.group(0)}: schrijf de zin algemeen.", match.group(0))
        )
    return problems


def check_content(content: dict, image_alts: list[tuple[int, str]] = ()) -> list[Problem]:
    """Check the published fields of `content` and the alt texts of the article's images."""
    problems = []
    for field in CHECKED_FIELDS:
        value = content.get(field) or ""
        text = ", ".join(value) if isinstance(value, list) else str(value)
        problems.extend(check_text(field, text))
    for image_id, alt in image_alts:
        problems.extend(check_text(f"image:{image_id}", alt))
    return problems


def image_alts(session: Session, article: Article) -> list[tuple[int, str]]:
    return list(session.execute(select(ArticleImage.id, ArticleImage.alt).where(ArticleImage.article_id == article.id)))


def check_article(session: Session, article: Article) -> list[Problem]:
    """Return what forbids publishing the article's current content (empty when it may go public)."""
    return check_content(article.content(), image_alts(session, article))


def require_publisher(user: User) -> None:
    if user is None or user.role not in PUBLISHER_ROLES:
        raise NotAllowed("only editors and admins may change or publish FAQ articles.")


def save_content(session: Session, article: Article, user: User, **changes) -> tuple[bool, list[Problem]]:
    """Save changed content as a new version and return (changed, problems of the new content).

    Raises PublicationRefused, saving nothing, when the article is published and
    the new content fails the check.
    """
    require_publisher(user)
    if article.status == ArticleStatus.PUBLISHED:
        proposed = {**article.content(), **normalise_content(changes)}
        problems = check_content(proposed, image_alts(session, article))
        if problems:
            raise PublicationRefused(article, problems)
    changed = save_article(session, article, saved_by_id=user.id, **changes)
    if changed and article.status == ArticleStatus.PUBLISHED:
        _audit(session, user, "publish", article, change="edited")
    return changed, check_article(session, article)


def restore(session: Session, article: Article, version: int, user: User) -> bool:
    """Make an earlier version current again as a new version, under the same rule as saving."""
    require_publisher(user)
    snapshot = session.scalar(
        select(ArticleVersion).where(ArticleVersion.article_id == article.id, ArticleVersion.version == version)
    )
    if snapshot is not None and article.status == ArticleStatus.PUBLISHED:
        problems = check_content(snapshot.content(), image_alts(session, article))
        if problems:
            raise PublicationRefused(article, problems)
    changed = restore_version(session, article, version, saved_by_id=user.id)
    if changed and article.status == ArticleStatus.PUBLISHED:
        _audit(session, user, "publish", article, change="restored", restored_version=version)
    return changed


def change_status(session: Session, article: Article, action: str, user: User) -> ArticleStatus:
    """Apply a review action (submit, reject, publish, unpublish, reopen) and return the new status."""
    require_publisher(user)
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise NotAllowed(f"action {action!r} is unknown: use one of {', '.join(TRANSITIONS)}.")
    if article.status not in transition.sources:
        allowed = ", ".join(sorted(status.value for status in transition.sources))
        raise NotAllowed(
            f"article {article.language}/{article.slug} is {article.status.value}: "
            f"{action} needs status {allowed}."
        )
    if transition.target == ArticleStatus.PUBLISHED:
        problems = check_article(session, article)
        if problems:
            raise PublicationRefused(article, problems)

    set_status(session, article, transition.target)
    if action in AUDITED_ACTIONS:
        _audit(session, user, action, article)
    return transition.target


def add_illustration(session: Session, article: Article, data: bytes, alt: str, user: User) -> ArticleImage:
    """Store an uploaded illustration; on a published article its alt text must pass the check first."""
    require_publisher(user)
    if article.status == ArticleStatus.PUBLISHED:
        problems = check_text("image:new", " ".join((alt or "").split()))
        if problems:
            raise PublicationRefused(article, problems)
    image = add_image(session, article, data, alt, user)
    if article.status == ArticleStatus.PUBLISHED:
        _audit(session, user, "publish", article, change="image_added", image_id=image.id)
    return image


def rename(session: Session, article: Article, slug: str, user: User) -> None:
    """Change the slug of an article that was never public and has no translations.

    Published addresses are linked from sent replies, so their slug stays.
    """
    require_publisher(user)
    validate_slug(slug)
    if slug == article.slug:
        return
    if article.status not in {ArticleStatus.DRAFT, ArticleStatus.IN_REVIEW} or was_published(session, article):
        raise NotAllowed(f"article {article.language}/{article.slug} has been public: its address cannot change.")
    siblings = session.scalar(select(func.count(Article.id)).where(Article.slug == article.slug, Article.id != article.id))
    if siblings:
        raise NotAllowed(f"article {article.slug} has translations: rename is only possible for a single article.")
    if session.scalar(select(Article.id).where(Article.slug == slug, Article.language == article.language)):
        raise ArticleError(f"article {article.language}/{slug} already exists: choose another slug.")
    article.slug = slug
    session.flush()


def was_published(session: Session, article: Article) -> bool:
    return bool(
        session.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.action == "publish", AuditEntry.object_type == "article", AuditEntry.object_id == str(article.id)
            )
        )
    )


def _audit(session: Session, user: User, action: str, article: Article, **detail) -> None:
    audit(
        session,
        user,
        action,
        "article",
        article.id,
        detail={"slug": article.slug, "language": article.language, "version": article.version, **detail},
    )
