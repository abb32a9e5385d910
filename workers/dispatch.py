"""Publishing tasks from processes that are not workers (the web app, the CLI)."""

from __future__ import annotations

import threading

from celery import Celery

from helpdesk.config import Settings, load_settings
from workers.configuration import create_app

_publishers: dict[str, Celery] = {}
_publishers_lock = threading.Lock()


def publisher(settings: Settings) -> Celery:
    """Return a Celery application that publishes to the broker of `settings`, one per broker URL."""
    with _publishers_lock:
        app = _publishers.get(settings.broker_url)
        if app is None:
            app = _publishers[settings.broker_url] = create_app(settings)
        return app


def send_task(name: str, args: list, settings: Settings | None = None) -> str:
    """Publish the task `name` with `args` to the broker of `settings` (default: the environment's); return the task id."""
    return publisher(settings or load_settings()).send_task(name, args=args).id
