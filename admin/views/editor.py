"""The FAQ editor: create articles from sent answers or question groups, edit, review and publish.

Only editors and admins get in. Every POST handler validates its form (and so
its CSRF token), calls one service, commits and redirects back.
"""

from __future__ import annotations

import logging

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import not_, select

from admin import public
from admin.auth import staff
from admin.db import current_settings, db
from admin.forms import EmptyForm
from admin.views.access import RoleRequiredMixin, ticket_visible
from admin.views.editor_problems import describe_problem
from admin.views.queue import user_names
from admin.views.editor_forms import (
    EditArticleForm,
    ImageForm,
    NewArticleForm,
    RestoreForm,
    StatusActionForm,
    TranslateForm,
    format_sources,
)
from helpdesk.accounts.models import Role
from helpdesk.teams.access import visible_condition
from helpdesk.tickets.models import Message, Ticket
from kb import faq_images, promotion, publishing
from kb.articles import ArticleError, create_draft, get_article, list_versions
from kb.faq_feedback import vote_totals
from kb.faq_models import ArticleImage
from kb.markup import article_html
from kb.mining_models import QuestionGroup
from kb.models import DEFAULT_LANGUAGE, Article, ArticleStatus, ArticleVersion

logger = logging.getLogger(__name__)

EDITOR_ROLES = frozenset({Role.EDITOR, Role.ADMIN})

STATUS_LABELS = {
    ArticleStatus.DRAFT: _l("concept"),
    ArticleStatus.IN_REVIEW: _l("ter nalezing"),
    ArticleStatus.PUBLISHED: _l("gepubliceerd"),
    ArticleStatus.ARCHIVED: _l("offline gehaald"),
}
ACTION_LABELS = {
    "submit": _l("Ter nalezing voorleggen"),
    "reject": _l("Terug naar concept"),
    "publish": _l("Publiceren"),
    "unpublish": _l("Offline halen"),
    "reopen": _l("Opnieuw bewerken"),
}
ACTION_DONE = {
    "submit": _l("Het artikel wacht op nalezing."),
    "reject": _l("Het artikel is terug een concept."),
    "publish": _l("Het artikel is gepubliceerd."),
    "unpublish": _l("Het artikel is offline gehaald."),
    "reopen": _l("Het artikel is terug een concept."),
}


def load_article(article_id: int) -> Article:
    article = db().get(Article, article_id)
    if article is None:
        abort(404)
    return article


def edit_form(article: Article) -> EditArticleForm:
    return EditArticleForm(
        formdata=None,
        title=article.title,
        short_answer=article.short_answer,
        body=article.body,
        keywords=", ".join(article.keywords or []),
        theme=article.theme,
        sources=format_sources(article.sources),
        last_checked=article.last_checked,
        slug=article.slug,
    )


def known_themes() -> list[str]:
    return sorted(theme for theme in db().scalars(select(Article.theme).distinct()) if theme)


def groups_with_hidden_tickets(session, user, groups: list[QuestionGroup]) -> set[int]:
    """Return the ids of `groups` that contain a ticket `user` may not open.

    Such a group's examples and proposed article quote other teams' mail, so
    only its label and counts are shown.
    """
    visible = visible_condition(session, user)
    ticket_ids = [ticket_id for group in groups for ticket_id in group.ticket_ids or []]
    if visible is None or not ticket_ids:
        return set()

    # A range instead of an IN list, because a run can group many thousands of tickets.
    in_range = Ticket.id.between(min(ticket_ids), max(ticket_ids))
    hidden = set(session.scalars(select(Ticket.id).where(in_range, not_(visible))))
    return {group.id for group in groups if hidden.intersection(group.ticket_ids or [])}


def flash_form_errors(form) -> None:
    for field_name, errors in form.errors.items():
        label = getattr(form, field_name).label.text if hasattr(form, field_name) else field_name
        for error in errors:
            flash(f"{label}: {error}", "error")


class ArticleEditorView(RoleRequiredMixin, BaseView):
    allowed_roles = EDITOR_ROLES

    def __init__(self, **kwargs) -> None:
        super().__init__(name=_l("FAQ-artikels"), endpoint="editor", url="editor", **kwargs)

    def _back(self, article_id: int, anchor: str = "") -> Response:
        return redirect(url_for(".article", article_id=article_id) + (f"#{anchor}" if anchor else ""))

    def _reject(self, message: str, article_id: int, anchor: str = "") -> Response:
        """Undo the request's changes, show `message` and go back to the article."""
        db().rollback()
        # The message may quote what the redaction check found, so only ids are logged.
        logger.info("article change rejected", extra={"article_id": article_id, "user_id": staff().id, "endpoint": request.endpoint})
        flash(message, "error")
        return self._back(article_id, anchor)

    @expose("/")
    def index(self):
        session = db()
        articles = session.scalars(select(Article).order_by(Article.updated_at.desc())).all()
        by_status = {status: [article for article in articles if article.status == status] for status in ArticleStatus}
        answers = promotion.recent_sent_answers(session, scope=visible_condition(session, staff()))
        tickets = {ticket.id: ticket for ticket in session.scalars(select(Ticket).where(Ticket.id.in_({a.ticket_id for a in answers})))}
        return self.render(
            "admin/editor_list.html",
            by_status=by_status,
            status_labels=STATUS_LABELS,
            answers=answers,
            tickets=tickets,
            votes=vote_totals(session),
        )

    @expose("/new", methods=["GET", "POST"])
    def new(self):
        session = db()
        if request.method == "GET":
            form = NewArticleForm(formdata=None, **self._proposal_fields())
            return self.render("admin/editor_new.html", form=form, themes=known_themes(), problems=[])

        form = NewArticleForm()
        if not form.validate_on_submit():
            flash_form_errors(form)
            return self.render("admin/editor_new.html", form=form, themes=known_themes(), problems=[]), 422
        content = form.content()
        try:
            article = create_draft(
                session, form.slug.data, form.language.data, content.pop("title"), saved_by_id=staff().id, **content
            )
        except ArticleError as error:
            session.rollback()
            flash(str(error), "error")
            return self.render("admin/editor_new.html", form=form, themes=known_themes(), problems=[]), 422
        self._link_group(form.group_id.data, article)
        session.commit()
        flash(_("Het concept is aangemaakt."), "success")
        return self._back(article.id)

    def _proposal_fields(self) -> dict:
        session = db()
        try:
            message_id = request.args.get("message", type=int)
            if message_id:
                # An editor outside the answer's team must not read its ticket through a proposal.
                answer = session.get(Message, message_id)
                if answer is not None and not ticket_visible(answer.ticket_id):
                    abort(404)
                proposal = promotion.from_message(session, current_settings(), message_id)
            elif group_id := request.args.get("group", type=int):
                group = session.get(QuestionGroup, group_id)
                if group is not None and groups_with_hidden_tickets(session, staff(), [group]):
                    abort(404)
                proposal = promotion.from_group(session, current_settings(), group_id)
            else:
                return {"language": DEFAULT_LANGUAGE}
        except promotion.ProposalError:
            # from_message and from_group each raise for one reason only, which these sentences state.
            if message_id:
                reason = _("Bericht %(id)s is geen verzonden antwoord van een medewerker: kies een antwoord dat verzonden is.", id=message_id)
            else:
                reason = _("Vraaggroep %(id)s bestaat niet: voer `helpdesk faq mine` uit en kies een groep uit de lijst.", id=group_id)
            flash(reason, "error")
            return {"language": DEFAULT_LANGUAGE}
        return {
            "title": proposal.title,
            "short_answer": proposal.short_answer,
            "body": proposal.body,
            "keywords": ", ".join(proposal.keywords),
            "theme": proposal.theme,
            "slug": proposal.slug,
            "language": proposal.language,
            "group_id": proposal.group_id or "",
            "message_id": proposal.message_id or "",
        }

    def _link_group(self, group_id: str | None, article: Article) -> None:
        if group_id and group_id.isdigit():
            group = db().get(QuestionGroup, int(group_id))
            if group is not None:
                group.article_id = article.id

    @expose("/<int:article_id>")
    def article(self, article_id: int):
        article = load_article(article_id)
        return self._render_article(article, edit_form(article), publishing.check_article(db(), article))

    def _render_article(self, article: Article, form: EditArticleForm, problems, status: int = 200):
        session = db()
        translations = session.scalars(select(Article).where(Article.slug == article.slug, Article.id != article.id)).all()
        translated = {translation.language for translation in translations}
        translate_form = TranslateForm()
        translate_form.language.choices = [choice for choice in translate_form.language.choices if choice[0] not in translated]
        actions = [action for action, transition in publishing.TRANSITIONS.items() if article.status in transition.sources]
        return self.render(
            "admin/editor_article.html",
            article=article,
            form=form,
            problems=[describe_problem(problem) for problem in problems],
            preview=article_html(article.body),
            versions=list_versions(session, article),
            images=faq_images.article_images(session, article.id),
            image_form=ImageForm(),
            button_form=EmptyForm(),
            status_form=StatusActionForm(),
            restore_form=RestoreForm(),
            translate_form=translate_form,
            can_translate=article.language == DEFAULT_LANGUAGE and bool(translate_form.language.choices),
            translations=translations,
            actions=actions,
            action_labels=ACTION_LABELS,
            status_labels=STATUS_LABELS,
            themes=known_themes(),
            votes=vote_totals(session).get((article.slug, article.language)),
            user_names=user_names(),
        ), status

    @expose("/<int:article_id>/save", methods=["POST"])
    def save(self, article_id: int):
        session = db()
        article = load_article(article_id)
        form = EditArticleForm()
        if not form.validate_on_submit():
            flash_form_errors(form)
            return self._render_article(article, form, publishing.check_article(session, article), 422)
        try:
            publishing.rename(session, article, form.slug.data, staff())
            changed, problems = publishing.save_content(session, article, staff(), **form.content())
        except publishing.PublicationRefused as error:
            session.rollback()
            flash(_("Niet bewaard: dit artikel is gepubliceerd en de nieuwe tekst bevat nog identificerende gegevens."), "error")
            return self._render_article(load_article(article_id), form, error.problems, 422)
        except ArticleError as error:
            session.rollback()
            flash(str(error), "error")
            return self._render_article(load_article(article_id), form, publishing.check_article(session, article), 422)
        session.commit()
        if article.status == ArticleStatus.PUBLISHED:
            public.invalidate_page_cache()
        if not changed:
            flash(_("Er was niets gewijzigd."), "info")
        elif problems:
            flash(_("Bewaard als versie %(version)s. De controle vond nog gegevens die publiceren verhinderen.", version=article.version), "error")
        else:
            flash(_("Bewaard als versie %(version)s.", version=article.version), "success")
        return self._back(article.id, "problems" if problems else "")

    @expose("/<int:article_id>/status", methods=["POST"])
    def status(self, article_id: int):
        session = db()
        article = load_article(article_id)
        form = StatusActionForm()
        if not form.validate_on_submit():
            abort(400)
        try:
            publishing.change_status(session, article, form.action.data, staff())
        except publishing.PublicationRefused:
            return self._reject(_("Publiceren geweigerd: de controle vond identificerende gegevens of plaatshouders. Pas de tekst aan en bewaar opnieuw."), article_id, "problems")
        except ArticleError as error:
            return self._reject(str(error), article_id)
        session.commit()
        public.invalidate_page_cache()
        flash(str(ACTION_DONE[form.action.data]), "success")
        return self._back(article.id)

    @expose("/<int:article_id>/restore", methods=["POST"])
    def restore(self, article_id: int):
        session = db()
        article = load_article(article_id)
        form = RestoreForm()
        if not form.validate_on_submit():
            abort(400)
        try:
            changed = publishing.restore(session, article, form.version.data, staff())
        except publishing.PublicationRefused:
            return self._reject(_("Niet teruggezet: die versie bevat identificerende gegevens en het artikel is gepubliceerd."), article_id)
        except ArticleError as error:
            return self._reject(str(error), article_id)
        session.commit()
        public.invalidate_page_cache()
        if changed:
            flash(_("Versie %(old)s is teruggezet als versie %(new)s.", old=form.version.data, new=article.version), "success")
        else:
            flash(_("De huidige tekst is al gelijk aan versie %(old)s.", old=form.version.data), "info")
        return self._back(article.id, "versions")

    @expose("/<int:article_id>/version/<int:version>")
    def version(self, article_id: int, version: int):
        article = load_article(article_id)
        snapshot = db().scalar(
            select(ArticleVersion).where(ArticleVersion.article_id == article.id, ArticleVersion.version == version)
        )
        if snapshot is None:
            abort(404)
        return self.render(
            "admin/editor_version.html",
            article=article,
            snapshot=snapshot,
            preview=article_html(snapshot.body),
            restore_form=RestoreForm(),
            user_names=user_names(),
        )

    @expose("/<int:article_id>/translate", methods=["POST"])
    def translate(self, article_id: int):
        session = db()
        original = load_article(article_id)
        form = TranslateForm()
        if not form.validate_on_submit():
            flash_form_errors(form)
            return self._back(article_id)
        existing = get_article(session, original.slug, form.language.data)
        if existing is not None:
            return self._back(existing.id)
        content = original.content()
        title = content.pop("title")
        # The Dutch text is the starting point: the editor translates it before review.
        translation = create_draft(session, original.slug, form.language.data, title, saved_by_id=staff().id, **content)
        session.commit()
        flash(_("Vertaling aangemaakt als concept met de Nederlandse tekst. Vertaal ze voor je ze ter nalezing voorlegt."), "info")
        return self._back(translation.id)

    @expose("/<int:article_id>/images", methods=["POST"])
    def add_image(self, article_id: int):
        session = db()
        article = load_article(article_id)
        form = ImageForm()
        if not form.validate_on_submit():
            flash_form_errors(form)
            return self._back(article_id, "images")
        try:
            publishing.add_illustration(session, article, form.image.data.read(), form.alt.data, staff())
        except publishing.PublicationRefused as error:
            return self._reject(_("Niet toegevoegd: de alt-tekst bevat identificerende gegevens (%(found)s).", found=", ".join(p.excerpt for p in error.problems)), article_id, "images")
        except ArticleError as error:
            return self._reject(str(error), article_id, "images")
        session.commit()
        public.invalidate_page_cache()
        flash(_("Afbeelding toegevoegd."), "success")
        return self._back(article_id, "images")

    @expose("/<int:article_id>/images/<int:image_id>/delete", methods=["POST"])
    def delete_image(self, article_id: int, image_id: int):
        session = db()
        article = load_article(article_id)
        if not EmptyForm().validate_on_submit():
            abort(400)
        try:
            faq_images.remove_image(session, article, image_id)
        except ArticleError as error:
            flash(str(error), "error")
            return self._back(article_id, "images")
        session.commit()
        public.invalidate_page_cache()
        flash(_("Afbeelding verwijderd."), "success")
        return self._back(article_id, "images")

    @expose("/image/<int:image_id>")
    def image(self, image_id: int):
        """Serve an illustration of any article (drafts too) to editors, never cached by shared caches."""
        image = db().get(ArticleImage, image_id)
        if image is None:
            abort(404)
        return Response(image.data, mimetype=image.content_type, headers={"Cache-Control": "private, no-store"})

