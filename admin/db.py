"""One SQLAlchemy session per request, shared by flask-admin and the custom views."""

from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy.orm import Session, scoped_session

from helpdesk.config import Settings
from helpdesk.db import session_factory

_EXTENSION = "helpdesk_db"


def init_database(app: Flask, settings: Settings) -> scoped_session[Session]:
    sessions = scoped_session(session_factory(settings))
    app.extensions[_EXTENSION] = sessions
    app.extensions["helpdesk_settings"] = settings

    @app.teardown_appcontext
    def _remove_session(_exception: BaseException | None) -> None:
        # remove() rolls back anything a view left uncommitted.
        sessions.remove()

    return sessions


def db() -> Session:
    """Return the current request's session; views commit it themselves."""
    return current_app.extensions[_EXTENSION]()


def current_settings() -> Settings:
    return current_app.extensions["helpdesk_settings"]
