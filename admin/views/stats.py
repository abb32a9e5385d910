"""The statistics page: questions per theme and week, first-response time, backlog and article use."""

from __future__ import annotations

import datetime as dt

from flask import Response, flash, render_template, request
from flask_admin import BaseView, expose
from flask_babel import format_date, format_decimal, format_percent, format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin.auth import staff
from admin.db import db
from admin.forms import STATUS_LABELS
from admin.i18n import TIMEZONE
from admin.labels import theme_label
from admin.views import stats_charts
from admin.views.access import RoleRequiredMixin
from helpdesk.teams.access import TEAM_ALL, TEAM_FILTERS, queue_scope, team_choices
from helpdesk.tickets.queue import parse_id
from helpdesk.tickets.statistics import NO_THEME, Statistics, compute_statistics

PERIODS = (4, 12, 26, 52)
DEFAULT_WEEKS = 12


class StatsQueryError(ValueError):
    """A URL parameter of the statistics page is invalid; the message names the value for staff."""


def _weeks() -> int:
    """Return the period in weeks from the URL; raise StatsQueryError for a value that is not offered."""
    raw = request.args.get("weeks", "").strip()
    if not raw:
        return DEFAULT_WEEKS
    if raw not in {str(period) for period in PERIODS}:
        choices = ", ".join(str(period) for period in PERIODS)
        raise StatsQueryError(_("Periode %(value)r is ongeldig: kies %(choices)s weken.", value=raw, choices=choices))
    return int(raw)


def _team_filter() -> str:
    """Return the team filter from the URL; raise StatsQueryError for a value that names no team filter."""
    raw = request.args.get("team", "").strip()
    if not raw:
        return TEAM_ALL
    if raw not in TEAM_FILTERS and parse_id(raw) is None:
        raise StatsQueryError(_("Team %(value)r bestaat niet: kies een team uit de lijst.", value=raw))
    return raw


def _theme_label(theme: str) -> str:
    return theme_label(theme) if theme != NO_THEME else _("zonder thema")


def format_duration(value: dt.timedelta | None) -> str:
    """Format a duration the way staff read it ("3 uur", "2 dagen"), or a dash when there is none."""
    if value is None:
        return "–"
    return format_timedelta(value, threshold=1.5, granularity="minute")


class StatisticsView(RoleRequiredMixin, BaseView):
    """Figures without message text, for every staff role."""

    def __init__(self, **kwargs) -> None:
        super().__init__(name=_l("Statistieken"), endpoint="stats", url="stats", **kwargs)

    def _statistics(self, weeks: int, team_filter: str) -> Statistics:
        # Staff count only the tickets they may open, narrowed by the chosen team.
        return compute_statistics(db(), weeks, TIMEZONE, scope=queue_scope(db(), staff(), team_filter))

    @expose("/")
    def index(self):
        # As in the queue, a bad value shows the default figures with the message and status 400.
        status = 200
        try:
            weeks, team_filter = _weeks(), _team_filter()
        except StatsQueryError as error:
            flash(str(error), "error")
            weeks, team_filter, status = DEFAULT_WEEKS, TEAM_ALL, 400

        figures = self._statistics(weeks, team_filter)
        html = self.render(
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
        return html, status

    @expose("/themes.svg")
    def themes_chart(self):
        try:
            weeks, team_filter = _weeks(), _team_filter()
        except StatsQueryError as error:
            return Response(str(error), status=400, mimetype="text/plain")
        figures = self._statistics(weeks, team_filter)
        series = stats_charts.limit_series([(_theme_label(theme), counts) for theme, counts in figures.per_theme.items()], _("overige"))
        chart = stats_charts.stacked_bars(
            series, [format_date(monday, "d MMM") for monday in figures.weeks], _("Vragen per thema en week"), format_decimal
        )
        return self._svg(chart)

    @expose("/backlog.svg")
    def backlog_chart(self):
        try:
            team_filter = _team_filter()
        except StatsQueryError as error:
            return Response(str(error), status=400, mimetype="text/plain")
        figures = self._statistics(1, team_filter)
        values = [(str(STATUS_LABELS[status.value]), count) for status, count in figures.backlog.items()]
        return self._svg(stats_charts.single_bars(values, _("Open tickets per status"), format_decimal))

    def _svg(self, chart: stats_charts.Chart) -> Response:
        svg = render_template("admin/charts/bars.svg", chart=chart, plot_left=stats_charts.PLOT_LEFT, plot_right=stats_charts.PLOT_RIGHT)
        return Response(svg, mimetype="image/svg+xml")
