"""The web app's /healthz and /readyz, and `helpdesk health worker|beat|watch|mailboxes`, against real servers."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from admin.app import create_app
from helpdesk.cli import main
from helpdesk.db import get_engine, session_scope, utcnow
from helpdesk.health import mailbox_poll_checks
from helpdesk.ingest.sources import parse_mailbox_url
from helpdesk.ingest.state import mailbox_state, record_failure, record_success
from tests.admin_fixtures import PASSWORD, make_user
from tests.conftest import make_settings
from tests.services.dovecot import dovecot, imap_account  # noqa: F401
from tests.services.ports import free_port
from tests.services.redis import redis_server, redis_url  # noqa: F401
from tests.services.worker import celery_worker, settings_environment, wait_until  # noqa: F401
from workers.heartbeat import HEARTBEAT_KEY, read_beat_heartbeat, record_beat_heartbeat
from workers.watch_heartbeat import record_watch_heartbeat

BEAT_START_TIMEOUT_SECONDS = 60.0
LOG_LINE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def closed_port_url(password: str = "") -> str:
    """Return a Redis URL on a loopback port where nothing listens."""
    credentials = f":{password}@" if password else ""
    return f"redis://{credentials}127.0.0.1:{free_port()}/0"


def run_health(settings, *arguments: str):
    """Run `helpdesk health` with English messages, which the assertions below match."""
    return CliRunner().invoke(main, ["health", *arguments, "--lang", "en"], obj=settings)


# The web endpoints


def test_liveness_without_servers(settings):
    client = create_app(settings.with_overrides(broker_url=closed_port_url())).test_client()

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.redis
def test_readiness_ok_with_servers_up(settings, redis_url):
    client = create_app(settings.with_overrides(broker_url=redis_url)).test_client()

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok", "schema": "ok", "broker": "ok"}}
    assert "Set-Cookie" not in response.headers


def test_readiness_names_closed_broker(settings):
    client = create_app(settings.with_overrides(broker_url=closed_port_url("broker-secret"))).test_client()

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "failed"
    assert body["checks"] == {"database": "ok", "schema": "ok", "broker": "failed"}
    assert b"broker-secret" not in response.data
    assert b"127.0.0.1" not in response.data


@pytest.mark.redis
def test_readiness_fails_on_unmigrated_database(database_url, tmp_path, redis_url):
    settings = make_settings(tmp_path / "var", database_url, HELPDESK_BROKER_URL=redis_url)
    # Connecting creates the SQLite file, which then has no tables.
    with get_engine(database_url).connect() as connection:
        connection.execute(sa.text("SELECT 1"))
    client = create_app(settings).test_client()

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.get_json()["checks"]["schema"] == "failed"
    assert response.get_json()["checks"]["database"] == "ok"


@pytest.mark.redis
def test_readiness_fails_on_unreachable_database(tmp_path, redis_url):
    database_url = f"postgresql://helpdesk:db-secret@127.0.0.1:{free_port()}/helpdesk"
    client = create_app(make_settings(tmp_path / "var", database_url, HELPDESK_BROKER_URL=redis_url)).test_client()

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.get_json()["checks"] == {"database": "failed", "schema": "skipped", "broker": "ok"}
    assert b"db-secret" not in response.data


def test_health_paths_need_no_login_or_csrf(settings):
    client = create_app(settings.with_overrides(broker_url=closed_port_url())).test_client()

    posted = client.post("/healthz")
    head = client.head("/healthz")

    assert posted.status_code == 405
    assert posted.headers["Allow"] == "GET, HEAD"
    assert head.status_code == 200
    assert "Set-Cookie" not in posted.headers


def test_health_sets_no_cookie_for_signed_in_staff(settings):
    make_user(settings, "agent@helpdesk.test")
    client = create_app(settings.with_overrides(broker_url=closed_port_url())).test_client()
    login_page = client.get("/admin/login")
    token = login_page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    signed_in = client.post("/admin/login", data={"email": "agent@helpdesk.test", "password": PASSWORD, "csrf_token": token})

    response = client.get("/healthz")

    assert signed_in.status_code == 302
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_readiness_result_is_reused_briefly(settings):
    app = create_app(settings.with_overrides(broker_url=closed_port_url()))
    calls = []
    checks = app.wsgi_app.checks

    def counted_checks(current):
        calls.append(current)
        return checks(current)

    app.wsgi_app.checks = counted_checks
    client = app.test_client()

    first = client.get("/readyz")
    second = client.get("/readyz")

    assert first.status_code == 503
    assert second.status_code == 503
    assert len(calls) == 1


# helpdesk health worker


def node_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"


@pytest.mark.redis
@pytest.mark.slow
def test_worker_health_follows_worker(settings, redis_url, celery_worker):
    settings = settings.with_overrides(broker_url=redis_url)
    node = node_name("health")
    worker = celery_worker(settings, f"--hostname={node}")

    running = run_health(settings, "worker", "--node", node, "--timeout", "5")
    worker.stop()
    stopped = run_health(settings, "worker", "--node", node, "--timeout", "2")

    assert running.exit_code == 0, running.output
    assert f"{node} replied" in running.output
    assert stopped.exit_code == 1, stopped.output
    assert f"{node} did not reply" in stopped.output


def test_worker_health_fails_without_broker(settings):
    result = run_health(settings.with_overrides(broker_url=closed_port_url()), "worker", "--timeout", "1")

    assert result.exit_code == 1
    assert result.output.startswith("FAILED")


def test_health_speaks_dutch_by_default(settings, monkeypatch):
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    settings = settings.with_overrides(mailbox_urls=(IMAP_URL,))

    beat = CliRunner().invoke(main, ["health", "beat"], obj=settings)
    mailboxes = CliRunner().invoke(main, ["health", "mailboxes"], obj=settings)
    watch = CliRunner().invoke(main, ["health", "watch"], obj=settings)

    assert beat.output.startswith("FOUT"), beat.output
    assert "Er is geen hartslag van beat bewaard" in beat.output
    assert mailboxes.output.startswith("FOUT"), mailboxes.output
    assert "nog nooit met succes opgehaald" in mailboxes.output
    assert "never" not in mailboxes.output
    assert watch.output.startswith("FOUT"), watch.output
    assert "Er is geen hartslag van de watcher van" in watch.output


# helpdesk health beat


def start_beat(settings, folder) -> subprocess.Popen:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("HELPDESK_")}
    environment.update(settings_environment(settings))
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "celery", "-A", "workers.app", "beat", "--loglevel=INFO"]
    with open(folder / "beat.log", "wb") as log:
        return subprocess.Popen(command, cwd=folder, env=environment, stdout=log, stderr=subprocess.STDOUT)


@pytest.mark.redis
@pytest.mark.slow
def test_beat_health_follows_beat(settings, redis_url, tmp_path):
    settings = settings.with_overrides(broker_url=redis_url)
    before = run_health(settings, "beat")
    beat = start_beat(settings, tmp_path / "beat")
    try:
        wait_until(lambda: read_beat_heartbeat(settings) is not None, BEAT_START_TIMEOUT_SECONDS, "beat's first heartbeat")
        running = run_health(settings, "beat")
    finally:
        beat.send_signal(signal.SIGTERM)
        beat.wait(timeout=30)
    time.sleep(1.5)
    stopped = run_health(settings, "beat", "--max-age", "1")

    assert before.exit_code == 1
    assert "No beat heartbeat" in before.output
    assert running.exit_code == 0, running.output + (tmp_path / "beat" / "beat.log").read_text()
    assert stopped.exit_code == 1
    assert "beat has stopped or hangs" in stopped.output


@pytest.mark.redis
def test_beat_heartbeat_in_redis_expires(settings, redis_url, redis_server):
    settings = settings.with_overrides(broker_url=redis_url)

    record_beat_heartbeat(settings, now=1000.0)

    database = int(redis_url.rsplit("/", 1)[1])
    assert redis_server.client(database).ttl(HEARTBEAT_KEY) > 0
    assert read_beat_heartbeat(settings) == 1000.0


def test_beat_heartbeat_with_file_broker(settings):
    record_beat_heartbeat(settings, now=time.time() - 10)
    fresh = run_health(settings, "beat")
    record_beat_heartbeat(settings, now=time.time() - 1000)
    stale = run_health(settings, "beat")

    assert settings.broker_url.startswith("filesystem:")
    assert fresh.exit_code == 0, fresh.output
    assert stale.exit_code == 1
    assert "more than 90 s" in stale.output


def test_beat_health_fails_without_redis(settings):
    result = run_health(settings.with_overrides(broker_url=closed_port_url()), "beat")

    assert result.exit_code == 1
    assert "could not be read from Redis" in result.output


# helpdesk health watch (tests/test_watch.py runs it against a real watcher)


WATCHED_URL = "imap://watch%40helpdesk.test:watch-secret@mail.helpdesk.test/INBOX"
WATCHED_KEY = parse_mailbox_url(WATCHED_URL).key


def test_watch_heartbeat_with_file_broker(settings):
    settings = settings.with_overrides(mailbox_urls=(WATCHED_URL,))
    record_watch_heartbeat(settings, WATCHED_KEY, now=time.time() - 10)
    fresh = run_health(settings, "watch")
    record_watch_heartbeat(settings, WATCHED_KEY, now=time.time() - 1000)
    stale = run_health(settings, "watch")

    assert settings.broker_url.startswith("filesystem:")
    assert fresh.exit_code == 0, fresh.output
    assert f"{WATCHED_KEY} is watched" in fresh.output
    assert "watch-secret" not in fresh.output
    assert stale.exit_code == 1
    assert WATCHED_KEY in stale.output
    assert "more than 180 s" in stale.output


def test_watch_health_fails_for_one_stale_mailbox(settings, tmp_path):
    other_url = "imap://other%40helpdesk.test:other-secret@mail.helpdesk.test/INBOX"
    other_key = parse_mailbox_url(other_url).key
    maildir = f"maildir:{tmp_path / 'mailbox'}"
    settings = settings.with_overrides(mailbox_urls=(WATCHED_URL, other_url, maildir))
    record_watch_heartbeat(settings, WATCHED_KEY)

    result = run_health(settings, "watch")

    assert result.exit_code == 1
    assert f"{WATCHED_KEY} is watched" in result.output
    assert f"No heartbeat of the watcher of {other_key}" in result.output
    # Log lines reach the output too when this test configures logging first; only the report matters.
    report = [line for line in result.output.splitlines() if not LOG_LINE.match(line)]
    assert not [line for line in report if "maildir:" in line]


def test_watch_health_with_idle_off(settings):
    settings = settings.with_overrides(mailbox_urls=(WATCHED_URL,), imap_idle=False)

    result = run_health(settings, "watch")

    assert result.exit_code == 0, result.output
    assert "HELPDESK_IMAP_IDLE is off" in result.output


def test_watch_health_fails_without_redis(settings):
    settings = settings.with_overrides(mailbox_urls=(WATCHED_URL,), broker_url=closed_port_url())

    result = run_health(settings, "watch")

    assert result.exit_code == 1
    assert "could not be read from Redis" in result.output


# helpdesk health mailboxes


IMAP_URL = "imaps://vragen%40helpdesk.test:mailbox-secret@mail.helpdesk.test/INBOX"
IMAP_KEY = parse_mailbox_url(IMAP_URL).key


def test_mailbox_never_polled_fails(settings):
    result = run_health(settings.with_overrides(mailbox_urls=(IMAP_URL,)), "mailboxes")

    assert result.exit_code == 1
    assert "never polled successfully" in result.output
    assert "mailbox-secret" not in result.output


def test_mailbox_recent_poll_passes(settings):
    settings = settings.with_overrides(mailbox_urls=(IMAP_URL,))
    record_success(settings, IMAP_KEY, "INBOX")

    result = run_health(settings, "mailboxes")

    assert result.exit_code == 0, result.output
    assert IMAP_KEY in result.output


def test_mailbox_old_poll_fails_with_error(settings):
    settings = settings.with_overrides(mailbox_urls=(IMAP_URL,))
    record_success(settings, IMAP_KEY, "INBOX")
    with session_scope(settings) as session:
        mailbox_state(session, IMAP_KEY, "INBOX").last_success_at = utcnow() - dt.timedelta(hours=1)
    record_failure(settings, IMAP_KEY, "INBOX", "LOGIN failed")
    record_failure(settings, IMAP_KEY, "INBOX", "LOGIN failed")

    result = run_health(settings, "mailboxes", "--max-age", "600")

    assert result.exit_code == 1
    assert "more than 600 s" in result.output
    assert "2 failed polls in a row" in result.output
    assert "last error: LOGIN failed" in result.output


def test_mailbox_checks_cover_each_mailbox(settings, tmp_path):
    maildir = f"maildir:{tmp_path / 'mailbox'}"
    settings = settings.with_overrides(mailbox_urls=(IMAP_URL, maildir))
    record_success(settings, IMAP_KEY, "INBOX")

    results = mailbox_poll_checks(settings, 600)

    assert [result.status.value for result in results] == ["ok", "failed"]
    assert results[1].target.startswith("maildir:")


@pytest.mark.dovecot
@pytest.mark.slow
def test_mailbox_health_after_real_poll(settings, imap_account):
    from helpdesk.ingest.polling import poll_mailbox

    settings = settings.with_overrides(mailbox_urls=(imap_account.imap_url,))
    summary = poll_mailbox(settings, imap_account.imap_url)

    result = run_health(settings, "mailboxes")

    assert summary.error is None
    assert result.exit_code == 0, result.output
    assert imap_account.password not in result.output
