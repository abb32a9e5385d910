"""`helpdesk watch`: IMAP IDLE against a private Dovecot, with the poll lock in a real Redis.

No beat runs in these tests, so every ticket comes from a poll that the
watcher started. The waits are generous and measure nothing: they fail a
test only when a mail is not ingested at all before the IDLE renewal time.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpdesk.cli import main
from helpdesk.config import Settings
from helpdesk.ingest import idle as idle_module
from helpdesk.ingest.idle import IdleWatcher
from helpdesk.ingest.imap import MIN_PREPARED_MAILS
from helpdesk.ingest.sources import parse_mailbox_url
from tests.services import dovecot as dovecot_services
from tests.services.dovecot import DovecotServer
from tests.services.mailflow import counts, question, sender
from tests.services.ports import free_port
from tests.services.worker import settings_environment, wait_until
from workers.locks import exclusive
from workers.watch import POLL_LOCK, LockedPoll
from workers.watch_heartbeat import HeartbeatRecorder, read_watch_heartbeat

# Far below the IDLE renewal time used here, so a mail that is only found
# when IDLE is renewed fails the test.
ARRIVAL_TIMEOUT_SECONDS = 60.0
IDLE_RENEW_SECONDS = 600.0
STOP_TIMEOUT_SECONDS = 30.0


@pytest.fixture
def watch_settings(settings, redis_url, imap_account) -> Settings:
    return settings.with_overrides(
        mailbox_urls=(imap_account.imap_url,),
        broker_url=redis_url,
        imap_after_processing="seen",
    )


def tickets(settings: Settings) -> int:
    return counts(settings)["tickets"]


def start_watch(settings: Settings, folder: Path) -> tuple[subprocess.Popen, Path]:
    """Start `helpdesk watch` for `settings` in `folder`; return the process and its log file."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("HELPDESK_")}
    environment.update(settings_environment(settings))
    environment["PYTHONUNBUFFERED"] = "1"
    log_path = folder / "watch.log"
    command = [str(Path(sys.executable).parent / "helpdesk"), "watch", "--idle-renew-seconds", str(IDLE_RENEW_SECONDS)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=folder, env=environment, stdout=log, stderr=subprocess.STDOUT)
    return process, log_path


def stop_watch(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def restart_dropping_connections(server: DovecotServer) -> None:
    """Restart Dovecot and end its imap processes, which outlive the master process of this test set-up.

    Only the calling test may have IMAP connections open, because the
    session's Dovecot serves one test at a time.
    """
    listing = subprocess.run(
        ["ps", "-o", "pid=,args=", "--ppid", str(server.process.pid)], capture_output=True, text=True, check=True
    ).stdout
    imap_pids = [int(line.split()[0]) for line in listing.splitlines() if line.rstrip().endswith("/imap")]
    assert imap_pids, listing

    server.stop()
    for pid in imap_pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    server.start()


def run_watcher(watcher: IdleWatcher) -> threading.Thread:
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    return thread


def test_watch_ingests_new_mail_and_survives_restart(watch_settings, dovecot, imap_account, tmp_path):
    account = imap_account
    account.append(question(1))
    process, log_path = start_watch(watch_settings, tmp_path)
    try:
        wait_until(lambda: tickets(watch_settings) == 1, ARRIVAL_TIMEOUT_SECONDS, "mail from before the start")
        wait_until(lambda: "IDLE watcher connected" in log_path.read_text(), ARRIVAL_TIMEOUT_SECONDS, "the IDLE connection")

        account.append(question(2))
        wait_until(lambda: tickets(watch_settings) == 2, ARRIVAL_TIMEOUT_SECONDS, "mail that arrived during IDLE")

        restart_dropping_connections(dovecot)
        account.append(question(3))
        wait_until(lambda: tickets(watch_settings) == 3, ARRIVAL_TIMEOUT_SECONDS, "mail after a Dovecot restart")
    finally:
        exit_code = stop_watch(process)

    log = log_path.read_text()
    assert exit_code == 0, log
    assert "IDLE connection failed, reconnecting" in log
    assert "session=2" in log
    assert "watch stopped" in log
    assert counts(watch_settings)["inbound"] == 3


def test_watch_acknowledgement_sent_by_worker(watch_settings, imap_account, smtp_server, celery_worker, tmp_path):
    settings = watch_settings.with_overrides(autoreply_enabled=True, smtp_url=smtp_server.url)
    celery_worker(settings)
    process, log_path = start_watch(settings, tmp_path)
    try:
        wait_until(lambda: "IDLE watcher connected" in log_path.read_text(), ARRIVAL_TIMEOUT_SECONDS, "the IDLE connection")
        imap_account.append(question(1))
        received = smtp_server.wait_for(1, timeout=ARRIVAL_TIMEOUT_SECONDS)
    finally:
        exit_code = stop_watch(process)

    assert exit_code == 0, log_path.read_text()
    assert tickets(settings) == 1
    assert received[0].envelope_to == [sender(1)]


def test_mail_between_poll_and_idle_is_ingested(watch_settings, imap_account):
    stopped = threading.Event()
    mailbox = parse_mailbox_url(imap_account.imap_url)
    locked_poll = LockedPoll(watch_settings, imap_account.imap_url, stopped)
    polls = []

    def poll_then_append() -> None:
        # The first poll's UID SEARCH is over when this append runs, and
        # the watcher has not entered IDLE yet.
        locked_poll()
        polls.append(tickets(watch_settings))
        if len(polls) == 1:
            imap_account.append(question(2))

    imap_account.append(question(1))
    watcher = IdleWatcher(watch_settings, mailbox, poll_then_append, IDLE_RENEW_SECONDS)
    thread = run_watcher(watcher)
    try:
        wait_until(lambda: tickets(watch_settings) == 2, ARRIVAL_TIMEOUT_SECONDS, "mail appended right after a poll")
    finally:
        watcher.stop()
        stopped.set()
        thread.join(STOP_TIMEOUT_SECONDS)

    assert not thread.is_alive()
    assert polls[0] == 1
    assert watcher.sessions == 1


def test_poll_waits_for_lock_holder(watch_settings, imap_account):
    stopped = threading.Event()
    locked_poll = LockedPoll(watch_settings, imap_account.imap_url, stopped)
    imap_account.append(question(1))

    with exclusive(watch_settings, POLL_LOCK) as lease:
        assert lease is not None
        thread = threading.Thread(target=locked_poll, daemon=True)
        thread.start()
        # The request must still be pending while another process holds the lock.
        thread.join(1.0)
        assert thread.is_alive()
        assert tickets(watch_settings) == 0

    thread.join(ARRIVAL_TIMEOUT_SECONDS)
    assert not thread.is_alive()
    assert tickets(watch_settings) == 1


def test_watcher_stops_while_waiting_for_lock(watch_settings, imap_account):
    stopped = threading.Event()
    locked_poll = LockedPoll(watch_settings, imap_account.imap_url, stopped)

    with exclusive(watch_settings, POLL_LOCK):
        thread = threading.Thread(target=locked_poll, daemon=True)
        thread.start()
        stopped.set()
        thread.join(STOP_TIMEOUT_SECONDS)
        assert not thread.is_alive()

    assert tickets(watch_settings) == 0


def test_poll_retries_while_redis_is_down(watch_settings, imap_account):
    stopped = threading.Event()
    unreachable = watch_settings.with_overrides(broker_url=f"redis://127.0.0.1:{free_port()}/0")
    locked_poll = LockedPoll(unreachable, imap_account.imap_url, stopped)
    imap_account.append(question(1))

    thread = threading.Thread(target=locked_poll, daemon=True)
    thread.start()
    thread.join(2.0)
    still_retrying = thread.is_alive()
    stopped.set()
    thread.join(STOP_TIMEOUT_SECONDS)

    assert still_retrying
    assert not thread.is_alive()
    assert tickets(watch_settings) == 0


@pytest.fixture
def dovecot_without_idle(monkeypatch):
    """A Dovecot of this test alone that announces no IDLE capability."""
    # Doubled braces, because the server formats the template with str.format.
    without_idle = "protocol imap {{\n  imap_capability = IMAP4rev1 LITERAL+ UIDPLUS MOVE\n}}\n"
    monkeypatch.setattr(dovecot_services, "CONFIG_TEMPLATE", dovecot_services.CONFIG_TEMPLATE + without_idle)
    root = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))
    root.chmod(0o755)
    server = DovecotServer(root)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


def test_watcher_leaves_server_without_idle(dovecot_without_idle, settings):
    account = dovecot_without_idle.add_user()
    polls = []
    watcher = IdleWatcher(settings, parse_mailbox_url(account.imap_url), lambda: polls.append(1), IDLE_RENEW_SECONDS)

    thread = run_watcher(watcher)
    thread.join(STOP_TIMEOUT_SECONDS)

    assert not thread.is_alive()
    assert watcher.unsupported
    assert polls == []


def test_watch_prepares_backlog_in_pool(watch_settings, imap_account, tmp_path):
    settings = watch_settings.with_overrides(ingest_processes="2", imap_batch_size=10)
    backlog = MIN_PREPARED_MAILS + 5
    for number in range(backlog):
        imap_account.append(question(number))

    process, log_path = start_watch(settings, tmp_path)
    try:
        wait_until(lambda: tickets(settings) == backlog, ARRIVAL_TIMEOUT_SECONDS, "the backlog")
    finally:
        exit_code = stop_watch(process)

    log = log_path.read_text()
    assert exit_code == 0, log
    assert "ingest process pool started processes=2" in log
    assert counts(settings)["inbound"] == backlog


def test_watch_without_idle_setting_waits_for_sigterm(watch_settings, imap_account, tmp_path):
    process, log_path = start_watch(watch_settings.with_overrides(imap_idle=False), tmp_path)
    wait_until(lambda: "watch started" in log_path.read_text(), ARRIVAL_TIMEOUT_SECONDS, "the start of watch")
    imap_account.append(question(1))

    exit_code = stop_watch(process)

    log = log_path.read_text()
    assert exit_code == 0, log
    assert "mailboxes=0" in log
    assert "ingest process pool started" not in log
    assert tickets(watch_settings) == 0


# helpdesk health watch


def run_watch_health(settings: Settings, *arguments: str):
    return CliRunner().invoke(main, ["health", "watch", *arguments, "--lang", "en"], obj=settings)


def test_watch_health_follows_watcher(watch_settings, imap_account, tmp_path):
    key = parse_mailbox_url(imap_account.imap_url).key
    before = run_watch_health(watch_settings)
    process, log_path = start_watch(watch_settings, tmp_path)
    try:
        wait_until(lambda: read_watch_heartbeat(watch_settings, key) is not None, ARRIVAL_TIMEOUT_SECONDS, "the first heartbeat")
        running = run_watch_health(watch_settings)
    finally:
        exit_code = stop_watch(process)
    time.sleep(1.5)
    stopped = run_watch_health(watch_settings, "--max-age", "1")

    assert exit_code == 0, log_path.read_text()
    assert before.exit_code == 1
    assert "No heartbeat of the watcher of " + key in before.output
    assert running.exit_code == 0, running.output + log_path.read_text()
    assert f"{key} is watched" in running.output
    assert imap_account.password not in running.output
    assert stopped.exit_code == 1
    assert key in stopped.output
    assert "`helpdesk watch` has stopped or hangs" in stopped.output


def test_watcher_heartbeat_during_idle(watch_settings, imap_account, monkeypatch):
    monkeypatch.setattr(idle_module, "HEARTBEAT_INTERVAL_SECONDS", 2.0)
    mailbox = parse_mailbox_url(imap_account.imap_url)
    heartbeats = []
    recorder = HeartbeatRecorder(watch_settings, mailbox.key)

    def record(idle: bool) -> None:
        heartbeats.append(idle)
        recorder(idle)

    watcher = IdleWatcher(watch_settings, mailbox, lambda: None, IDLE_RENEW_SECONDS, record)
    thread = run_watcher(watcher)
    try:
        wait_until(lambda: len(heartbeats) >= 3, ARRIVAL_TIMEOUT_SECONDS, "three heartbeats in one IDLE")
    finally:
        watcher.stop()
        thread.join(STOP_TIMEOUT_SECONDS)
    heartbeat = read_watch_heartbeat(watch_settings, mailbox.key)

    assert not thread.is_alive()
    assert watcher.sessions == 1
    assert all(heartbeats)
    assert heartbeat is not None
    assert time.time() - heartbeat.time < ARRIVAL_TIMEOUT_SECONDS


def test_watch_health_reports_server_without_idle(dovecot_without_idle, settings):
    account = dovecot_without_idle.add_user()
    settings = settings.with_overrides(mailbox_urls=(account.imap_url,))
    mailbox = parse_mailbox_url(account.imap_url)
    watcher = IdleWatcher(settings, mailbox, lambda: None, IDLE_RENEW_SECONDS, HeartbeatRecorder(settings, mailbox.key))

    thread = run_watcher(watcher)
    thread.join(STOP_TIMEOUT_SECONDS)
    english = run_watch_health(settings)
    dutch = CliRunner().invoke(main, ["health", "watch", "--lang", "nl"], obj=settings)

    assert not thread.is_alive()
    assert english.exit_code == 0, english.output
    assert f"{mailbox.key}: not watched (no IDLE)" in english.output
    assert dutch.exit_code == 0, dutch.output
    assert "niet bewaakt (geen IDLE)" in dutch.output
    assert account.password not in english.output
