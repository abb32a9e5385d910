"""The web application: the staff workplace under /admin and the public FAQ under /faq."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, render_template, request
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from admin import auth, converters, public
from admin.db import init_database
from admin.health import HealthMiddleware
from admin.i18n import init_i18n
from admin.labels import describe_parse_problem, theme_label
from admin.security import PUBLIC_BLUEPRINT, add_security_headers, configure_sessions
from admin.views.account import AccountView, HomeView
from admin.views.editor import ArticleEditorView
from admin.views.editor_questions import QuestionGroupsView
from admin.views.macros import MacroAdminView
from admin.views.model_wording import staff_flashes
from admin.views.queue import TicketQueueView
from admin.views.staff import AuditLogView, UserAdminView
from admin.views.stats import StatisticsView
from admin.views.teams import TeamAdminView
from admin.views.ticket import TicketView
from helpdesk.config import TEMPLATES_DIR, Settings, load_settings

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Flask app; settings come from the environment when not given."""
    settings = settings or load_settings()
    app = Flask(__name__, template_folder=str(TEMPLATES_DIR), static_folder=str(STATIC_DIR), static_url_path="/static")
    app.jinja_env.autoescape = True
    converters.install(app)

    sessions = init_database(app, settings)
    configure_sessions(app, settings)
    add_security_headers(app)
    init_i18n(app)
    auth.init_auth(app)
    _init_admin(app, sessions)
    app.register_blueprint(public.blueprint)
    _register_error_pages(app)
    app.jinja_env.globals.update(staff_flashes=staff_flashes, theme_label=theme_label, describe_parse_problem=describe_parse_problem)
    app.wsgi_app = HealthMiddleware(app.wsgi_app, settings)
    return app


def _init_admin(app: Flask, sessions) -> Admin:
    admin = Admin(
        app,
        name="Helpdesk",
        url="/admin",
        index_view=HomeView(),
        theme=Bootstrap4Theme(base_template="admin/staff_base.html", fluid=True),
    )
    admin.add_view(TicketQueueView())
    admin.add_view(TicketView())
    admin.add_view(ArticleEditorView())
    admin.add_view(QuestionGroupsView())
    admin.add_view(MacroAdminView(sessions, category=_l("Beheer")))
    admin.add_view(StatisticsView())
    admin.add_view(UserAdminView(sessions, category=_l("Beheer")))
    admin.add_view(TeamAdminView(category=_l("Beheer")))
    admin.add_view(AuditLogView(category=_l("Beheer")))
    admin.add_view(AccountView())
    return admin


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        return _error_page(400, error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        return _error_page(error.code or 500, error)


def _error_page(status: int, error: HTTPException):
    template = "admin/error.html" if _is_staff_request() else "public/error.html"
    return render_template(template, status=status, error=error), status


def _is_staff_request() -> bool:
    """Tell whether the request is for a staff page, even one whose URL matched no route (such as /admin/ticket/abc)."""
    if request.blueprint is not None:
        return request.blueprint != PUBLIC_BLUEPRINT
    return request.path == "/admin" or request.path.startswith("/admin/")
