"""The editors' to-do list: frequent question groups from the latest mining run and missed public searches."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from admin.auth import staff
from admin.db import current_settings, db
from admin.forms import EmptyForm
from admin.views.access import RoleRequiredMixin
from admin.views.editor import EDITOR_ROLES, groups_with_hidden_tickets
from kb.mining import latest_run, run_mining
from kb.mining_models import SearchMiss
from kb.models import Article

MAX_MISSES_SHOWN = 30


class QuestionGroupsView(RoleRequiredMixin, BaseView):
    allowed_roles = EDITOR_ROLES

    def __init__(self, **kwargs) -> None:
        super().__init__(name=_l("Frequente vragen"), endpoint="questions", url="questions", **kwargs)

    @expose("/")
    def index(self):
        session = db()
        run = latest_run(session)
        groups = list(run.groups) if run is not None else []
        article_ids = {group.article_id for group in groups if group.article_id}
        articles = {article.id: article for article in session.scalars(select(Article).where(Article.id.in_(article_ids)))}
        return self.render(
            "admin/editor_questions.html",
            run=run,
            todo=[group for group in groups if not group.covered],
            covered=[group for group in groups if group.covered],
            articles=articles,
            # NOTE: a label's words come from every question in its group, other teams' included.
            hidden_groups=groups_with_hidden_tickets(session, staff(), groups),
            misses=self._top_misses(run),
            run_form=EmptyForm(),
        )

    def _top_misses(self, run) -> list:
        since = run.window_start.date() if run is not None else dt.date.today() - dt.timedelta(days=current_settings().faq_window_days)
        total = func.sum(SearchMiss.count).label("total")
        return db().execute(
            select(SearchMiss.language, SearchMiss.query, total)
            .where(SearchMiss.day >= since)
            .group_by(SearchMiss.language, SearchMiss.query)
            .order_by(total.desc(), SearchMiss.query)
            .limit(MAX_MISSES_SHOWN)
        ).all()

    @expose("/run", methods=["POST"])
    def run(self):
        # NOTE: runs inside the request; on a large window the periodic task
        # (`helpdesk faq mine` or the worker's beat) is the better place.
        if not EmptyForm().validate_on_submit():
            abort(400)
        session = db()
        settings = current_settings()
        result = run_mining(session, settings)
        session.commit()
        flash(
            _(
                "%(groups)s groepen gevonden in %(questions)s vragen; %(todo)s zonder passend artikel.",
                groups=result.group_count,
                questions=result.question_count,
                todo=result.uncovered_count,
            ),
            "success",
        )
        return redirect(url_for(".index"))
