"""The statistics page: questions per theme and week, first-response time, backlog and article use."""

from __future__ import annotations

import datetime as dt

from flask import Response, render_template, request
from flask_admin import BaseView, expose
from flask_babel import format_date, format_decimal, format_percent, format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin.auth import staff
from admin.db import db
from admin.forms import STATUS_LABELS
from admin.i18n import TIMEZONE
from admin.views import stats_charts
from admin.views.access import RoleRequiredMixin
from helpdesk.teams.access import TEAM_ALL, TEAM_FILTERS, queue_scope, team_choices
from helpdesk.tickets.statistics import NO_THEME, Statistics, compute_statistics

PERIODS = (4, 12, 26, 52)
DEFAULT_WEEKS = 12


def _weeks() -> int:
    raw = request.args.get("weeks", "")
    return int(raw) if raw.isdigit() and int(raw) in PERIODS else DEFAULT_WEEKS


def _team_filter() -> str:
    raw = request.args.get("team", "")
    return raw if raw in TEAM_FILTERS or raw.isdigit() else TEAM_ALL


def _theme_label(theme: str) -> str:
    return theme if theme != NO_THEME else _("zonder thema")


def format_duration(value: dt.timedelta | None) -> str:
    """Format a duration the way staff read it ("3 uur", "2 dagen"), or a dash when there is none."""
    if value is None:
        return "–"
    return format_timedelta(value, threshold=1.5, granularity="minute")


class StatisticsView(RoleRequiredMixin, BaseView):
    """Figures without message text, for every staff role."""

    def __init__(self, **kwargs) -> None:
        super().__init__(name=_l("Statistieken"), endpoint="stats", url="stats", **kwargs)

    def _statistics(self, weeks: int) -> Statistics:
        # Staff count only the tickets they may open, narrowed by the chosen team.
        return compute_statistics(db(), weeks, TIMEZONE, scope=queue_scope(db(), staff(), _team_filter()))

    @expose("/")
    def index(self):
        weeks = _weeks()
        figures = self._statistics(weeks)
        team_filter = _team_filter()
        return self.render(
            "admin/stats.html",
            figures=figures,
            weeks=weeks,
            teams=team_choices(db(), staff()),
            team_filter=team_filter,
            team_args={} if team_filter == TEAM_ALL else {"team": team_filter},
            periods=PERIODS,
            week_labels=[format_date(monday, "d MMM") for monday in figures.weeks],
            theme_rows=[(_theme_label(theme), figures.per_theme[theme]) for theme, _total in figures.theme_totals()],
            status_labels=STATUS_LABELS,
            format_duration=format_duration,
            article_share=format_percent(figures.article_share, format="#,##0 %") if figures.article_share is not None else "–",
        )

    @expose("/themes.svg")
    def themes_chart(self):
        weeks = _weeks()
        figures = self._statistics(weeks)
        series = stats_charts.limit_series([(_theme_label(theme), counts) for theme, counts in figures.per_theme.items()], _("overige"))
        chart = stats_charts.stacked_bars(
            series, [format_date(monday, "d MMM") for monday in figures.weeks], _("Vragen per thema en week"), format_decimal
        )
        return self._svg(chart)

    @expose("/backlog.svg")
    def backlog_chart(self):
        figures = self._statistics(1)
        values = [(str(STATUS_LABELS[status.value]), count) for status, count in figures.backlog.items()]
        return self._svg(stats_charts.single_bars(values, _("Open tickets per status"), format_decimal))

    def _svg(self, chart: stats_charts.Chart) -> Response:
        svg = render_template("admin/charts/bars.svg", chart=chart, plot_left=stats_charts.PLOT_LEFT, plot_right=stats_charts.PLOT_RIGHT)
        return Response(svg, mimetype="image/svg+xml")
