"""Celery configuration built from the settings, and the locks around periodic work."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest
import redis
from kombu.transport.redis import Transport as RedisTransport

from helpdesk.config import ConfigError
from helpdesk.outbound.services import RETRY_MAX_DELAY_SECONDS
from tests.conftest import make_settings
from tests.services.worker import settings_environment, wait_until
from workers.configuration import broker_folder, broker_options, create_app
from workers.locks import exclusive, lock_key


def settings_for(tmp_path, **environment):
    return make_settings(tmp_path / "var", f"sqlite:///{tmp_path / 'unused.sqlite3'}", **environment)


def test_default_broker_is_data_folder(tmp_path):
    settings = settings_for(tmp_path)

    options = broker_options(settings)

    folder = settings.data_dir / "broker"
    assert broker_folder(settings) == folder
    assert options["data_folder_in"] == options["data_folder_out"] == str(folder / "queue")
    assert options["processed_folder"] == str(folder / "processed")
    assert options["control_folder"] == str(folder / "control")
    assert (folder / "queue").is_dir()
    assert (folder / "processed").is_dir()
    assert (folder / "control").is_dir()


def test_filesystem_url_with_absolute_path(tmp_path):
    settings = settings_for(tmp_path, HELPDESK_BROKER_URL=f"filesystem://{tmp_path}/elsewhere")

    assert broker_folder(settings) == tmp_path / "elsewhere"


def test_redis_timeouts_exceed_blocking_pop(tmp_path):
    options = broker_options(settings_for(tmp_path, HELPDESK_BROKER_URL="redis://127.0.0.1:6379/3"))

    assert options["socket_timeout"] > RedisTransport.brpop_timeout
    assert options["socket_connect_timeout"] > 0
    assert options["visibility_timeout"] > RETRY_MAX_DELAY_SECONDS


def test_unknown_broker_scheme_is_rejected(tmp_path):
    with pytest.raises(ConfigError, match="unsupported scheme 'amqp'"):
        broker_options(settings_for(tmp_path, HELPDESK_BROKER_URL="amqp://guest@127.0.0.1//"))


def test_app_acknowledges_late(tmp_path):
    app = create_app(settings_for(tmp_path))

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_ignore_result is True


def test_beat_follows_poll_interval(tmp_path):
    app = create_app(settings_for(tmp_path, HELPDESK_POLL_INTERVAL_SECONDS="90"))

    schedule = app.conf.beat_schedule
    assert schedule["poll-mailboxes"]["schedule"] == dt.timedelta(seconds=90)
    assert schedule["retry-failed-sends"]["task"] == "workers.tasks.retry_failed_sends"
    assert schedule["apply-retention"]["task"] == "workers.tasks.apply_retention"
    assert "prune-broker-files" in schedule


def test_redis_broker_needs_no_pruning(tmp_path):
    app = create_app(settings_for(tmp_path, HELPDESK_BROKER_URL="redis://127.0.0.1:6379/3"))

    assert "prune-broker-files" not in app.conf.beat_schedule


def test_lock_key_is_safe():
    assert lock_key("poll:imap://user@host/INBOX") == "poll_imap_user_host_INBOX"


def test_file_lock_excludes_second_holder(tmp_path):
    settings = settings_for(tmp_path)

    with exclusive(settings, "poll-mailboxes") as first:
        with exclusive(settings, "poll-mailboxes") as second:
            with exclusive(settings, "other-work") as other:
                assert first is not None
                assert second is None
                assert other is not None
    with exclusive(settings, "poll-mailboxes") as again:
        assert again is not None


@pytest.mark.redis
def test_redis_lock_excludes_second_holder(tmp_path, redis_url):
    settings = settings_for(tmp_path, HELPDESK_BROKER_URL=redis_url)

    with exclusive(settings, "poll-mailboxes") as first:
        with exclusive(settings, "poll-mailboxes") as second:
            assert first is not None
            assert second is None
    with exclusive(settings, "poll-mailboxes") as again:
        assert again is not None


# Takes the poll lock with the expiry in argv[1], prints "held", then sleeps until killed.
LOCK_HOLDER = """
import sys, time
from helpdesk.config import load_settings
from workers.locks import exclusive
with exclusive(load_settings(), "poll-mailboxes", expiry_seconds=float(sys.argv[1])) as lease:
    print("held" if lease is not None else "busy", flush=True)
    time.sleep(600)
"""
SHORT_EXPIRY_SECONDS = 2.0


@pytest.fixture
def lock_holder(tmp_path):
    """Return a function that starts a process holding the poll lock; every started process is killed afterwards."""
    started: list[subprocess.Popen] = []

    def start(settings) -> subprocess.Popen:
        environment = {key: value for key, value in os.environ.items() if not key.startswith("HELPDESK_")}
        environment.update(settings_environment(settings))
        process = subprocess.Popen(
            [sys.executable, "-c", LOCK_HOLDER, str(SHORT_EXPIRY_SECONDS)],
            cwd=tmp_path, env=environment, stdout=subprocess.PIPE, text=True,
        )
        started.append(process)
        assert process.stdout.readline().strip() == "held"
        return process

    yield start
    for process in started:
        process.kill()
        process.wait()


@pytest.mark.redis
def test_redis_lock_of_killed_holder_expires(tmp_path, redis_url, lock_holder):
    settings = settings_for(tmp_path, HELPDESK_BROKER_URL=redis_url)
    holder = lock_holder(settings)
    # Two renewals in the holder, so the lock outlives its first expiry.
    time.sleep(SHORT_EXPIRY_SECONDS * 1.5)
    with exclusive(settings, "poll-mailboxes") as while_alive:
        assert while_alive is None

    holder.send_signal(signal.SIGKILL)
    holder.wait()
    killed_at = time.monotonic()
    with exclusive(settings, "poll-mailboxes") as just_after_kill:
        assert just_after_kill is None
    wait_until(lambda: lock_is_free(settings), SHORT_EXPIRY_SECONDS * 3, "the killed holder's lock to expire")

    assert time.monotonic() - killed_at <= SHORT_EXPIRY_SECONDS + 1


def lock_is_free(settings) -> bool:
    with exclusive(settings, "poll-mailboxes") as lease:
        return lease is not None


@pytest.mark.redis
def test_redis_lock_renewed_past_expiry(tmp_path, redis_url):
    settings = settings_for(tmp_path, HELPDESK_BROKER_URL=redis_url)

    with exclusive(settings, "poll-mailboxes", expiry_seconds=SHORT_EXPIRY_SECONDS) as lease:
        time.sleep(SHORT_EXPIRY_SECONDS * 2.5)
        with exclusive(settings, "poll-mailboxes") as second:
            assert second is None
        assert lease.lost() is False

    assert lock_is_free(settings)


@pytest.mark.redis
def test_redis_lock_lost_when_key_disappears(tmp_path, redis_url):
    settings = settings_for(tmp_path, HELPDESK_BROKER_URL=redis_url)
    client = redis.Redis.from_url(redis_url)

    with exclusive(settings, "poll-mailboxes", expiry_seconds=SHORT_EXPIRY_SECONDS) as lease:
        # As after a Redis restart without persistence, or a stall longer than the expiry.
        client.delete(f"helpdesk:lock:{lock_key('poll-mailboxes')}")
        wait_until(lease.lost, SHORT_EXPIRY_SECONDS * 2, "the lease to notice the lost lock")
        with exclusive(settings, "poll-mailboxes") as other:
            assert other is not None
    client.close()
