"""The Celery application of the worker and beat: `celery -A workers.app worker`.

`helpdesk worker` runs the same application. Its settings come from the
environment (and `.env`) of the process, read once at import.
"""

from __future__ import annotations

import logging

from celery import signals

from helpdesk import metrics
from helpdesk.config import Settings, load_settings
from helpdesk.logs import configure_logging
from workers.configuration import create_app


@signals.setup_logging.connect
def _configure_logging(loglevel=None, **_options) -> None:
    # Connecting this signal stops Celery from setting up logging itself, so
    # its own lines and the helpdesk's share one format: ids as key=value.
    configure_logging(loglevel or logging.INFO)


def current_settings() -> Settings:
    """Return the settings that the running Celery application was built with."""
    return app.helpdesk_settings


app = create_app(load_settings())
# Beat records a heartbeat at every wake-up for `helpdesk health beat`.
app.conf.beat_scheduler = "workers.heartbeat:HeartbeatScheduler"
metrics.observe_celery_tasks()
