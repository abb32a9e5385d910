"""The `helpdesk demo` command: its set-up steps, and a whole run in a child process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from sqlalchemy import func, select

from helpdesk.accounts.services import find_user, set_password, verify_password
from helpdesk.db import session_scope
from helpdesk.tickets.models import Ticket
from tests.conftest import make_settings
from tests.services.ports import free_port
from tests.services.worker import wait_until
from workers.demo import DEMO_MESSAGES_DIR, copy_demo_messages, ensure_demo_login

DEMO_START_TIMEOUT_SECONDS = 180
DEMO_STOP_TIMEOUT_SECONDS = 60


def test_demo_messages_copied_once(sqlite_settings):
    expected = len(list(DEMO_MESSAGES_DIR.glob("*.eml")))
    folder = sqlite_settings.data_dir / "mailbox" / "new"

    first = copy_demo_messages(sqlite_settings)
    second = copy_demo_messages(sqlite_settings)

    assert expected > 0
    assert first == expected
    assert second == 0
    assert len(list(folder.iterdir())) == expected


def test_demo_login_created_once(sqlite_settings):
    first = ensure_demo_login(sqlite_settings)
    second = ensure_demo_login(sqlite_settings)

    assert first.created
    assert not second.created
    assert second.password == first.password
    assert (sqlite_settings.data_dir / "demo-password.txt").stat().st_mode & 0o077 == 0
    with session_scope(sqlite_settings) as session:
        assert verify_password(find_user(session, first.email), first.password)


def test_demo_restart_keeps_changed_password(sqlite_settings):
    first = ensure_demo_login(sqlite_settings)
    with session_scope(sqlite_settings) as session:
        set_password(session, find_user(session, first.email), "een ander wachtwoord van staff")
        session_version = find_user(session, first.email).session_version

    ensure_demo_login(sqlite_settings)

    with session_scope(sqlite_settings) as session:
        user = find_user(session, first.email)
        assert verify_password(user, "een ander wachtwoord van staff")
        assert not verify_password(user, first.password)
        assert user.session_version == session_version


def test_demo_restart_without_password_file(sqlite_settings):
    first = ensure_demo_login(sqlite_settings)
    (sqlite_settings.data_dir / "demo-password.txt").unlink()

    second = ensure_demo_login(sqlite_settings)

    assert second.password == ""
    assert not (sqlite_settings.data_dir / "demo-password.txt").exists()
    with session_scope(sqlite_settings) as session:
        assert verify_password(find_user(session, first.email), first.password)


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


@pytest.mark.slow
def test_demo_runs_and_stops(tmp_path):
    port = free_port()
    settings = make_settings(tmp_path / "var", f"sqlite:///{tmp_path / 'var' / 'helpdesk.sqlite3'}")
    environment = {key: value for key, value in os.environ.items() if not key.startswith("HELPDESK_")}
    environment.update(
        HELPDESK_DATA_DIR=str(settings.data_dir),
        HELPDESK_DATABASE_URL=settings.database_url,
        HELPDESK_SECRET_KEY=settings.secret_key,
        PYTHONUNBUFFERED="1",
    )
    output_path = tmp_path / "demo.log"
    with open(output_path, "wb") as output:
        demo = subprocess.Popen(
            [sys.executable, "-c", "from helpdesk.cli import main; main()", "demo", "--port", str(port)],
            cwd=tmp_path,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(
            lambda: "Stop with Ctrl-C." in output_path.read_text(errors="replace") or demo.poll() is not None,
            DEMO_START_TIMEOUT_SECONDS,
            "the demo to print its login",
        )
        log = output_path.read_text(errors="replace")
        assert demo.poll() is None, log[-4000:]
        assert f"http://127.0.0.1:{port}/admin/" in log
        printed = dict(line.strip().split(":", 1) for line in log.splitlines() if line.strip().startswith(("login:", "password:")))
        email, password = printed["login"].strip(), printed["password"].strip()

        assert http_status(f"http://127.0.0.1:{port}/faq/nl/") == 200
        assert http_status(f"http://127.0.0.1:{port}/admin/") in {200, 302}
        with session_scope(settings) as session:
            assert session.scalar(select(func.count(Ticket.id))) > 20
            assert verify_password(find_user(session, email), password)
    finally:
        if demo.poll() is None:
            demo.send_signal(signal.SIGTERM)
        exit_code = demo.wait(timeout=DEMO_STOP_TIMEOUT_SECONDS)

    assert exit_code == 0, output_path.read_text(errors="replace")[-4000:]
    assert http_status(f"http://127.0.0.1:{port}/faq/nl/") is None
    assert "Warm shutdown" in output_path.read_text(errors="replace")
