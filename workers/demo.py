"""The `helpdesk demo` command: a complete helpdesk on this machine with example mail.

It prepares the database, the FAQ articles, a staff login and a Maildir
mailbox with example questions, and fetches that mail once. Then it runs the
web app (`helpdesk serve`) and a worker with beat (`helpdesk worker --beat`)
as child processes until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import logging
import mailbox
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import click

from helpdesk import schema
from helpdesk.accounts import services as accounts
from helpdesk.accounts.models import Role
from helpdesk.cli import get_settings
from helpdesk.config import PROJECT_ROOT, Settings
from helpdesk.db import session_scope

logger = logging.getLogger(__name__)

DEMO_MESSAGES_DIR = PROJECT_ROOT / "helpdesk" / "demo" / "messages"
DEMO_LOGIN_NAME = "demo"
STOP_TIMEOUT_SECONDS = 20
WEB_START_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str  # empty when the account exists and its password file is gone
    created: bool = False


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the web app listens on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port of the web app.")
def demo(host: str, port: int) -> None:
    """Run a demo helpdesk with example questions: web app, worker and scheduler."""
    ensure_port_free(host, port)
    settings = demo_settings(get_settings(), host, port)

    click.echo("Preparing the database ...")
    schema.upgrade(settings)
    import_articles(settings)
    login = ensure_demo_login(settings)
    copied = copy_demo_messages(settings)
    if copied:
        click.echo(f"Copied {copied} example questions into the demo mailbox.")

    click.echo("Fetching mail once so the queue is filled at once ...")
    poll_once(settings)

    children = start_children(host, port)
    stop = _stop_on_signals()
    try:
        _wait_for_port(host, port, children, stop)
        if not stop.is_set():
            click.echo("")
            click.echo(f"Helpdesk demo: http://{host}:{port}/admin/")
            click.echo(f"  login:    {login.email}")
            _echo_password(login)
            click.echo(f"  public FAQ: http://{host}:{port}/faq/nl/")
            if settings.smtp_url.startswith("file:"):
                click.echo(f"  sent mail: {settings.smtp_url.removeprefix('file:')}")
            click.echo("Stop with Ctrl-C.")
        failed = _supervise(children, stop)
    finally:
        stop_children(children)
    if failed:
        raise click.ClickException(f"the {failed} process stopped unexpectedly; see its output above.")


def import_articles(settings: Settings) -> None:
    """Create or update the knowledge-base articles from kb/content."""
    from kb.transfer import CONTENT_DIR, import_directory

    with session_scope(settings) as session:
        summary = import_directory(session, CONTENT_DIR)
    for error in summary.errors:
        click.echo(f"article skipped: {error}", err=True)
    click.echo(f"Articles: {summary.describe()}.")


def ensure_demo_login(settings: Settings) -> DemoLogin:
    """Create the demo administrator when it does not exist yet, and return the login.

    The first password is kept in the data folder (readable by its owner
    only). A later run leaves an existing account alone, because setting the
    password again would end the administrator's sessions and undo a password
    they chose on the account page.
    """
    domain = settings.from_address.rpartition("@")[2] or "helpdesk.invalid"
    email = f"{DEMO_LOGIN_NAME}@{domain}"
    password_file = settings.data_dir / "demo-password.txt"
    password = password_file.read_text().strip() if password_file.exists() else ""

    with session_scope(settings) as session:
        if accounts.find_user(session, email) is not None:
            return DemoLogin(email, password)
        password = password or secrets.token_urlsafe(12)
        accounts.create_user(session, email, password, Role.ADMIN.value, "Demo", "nl")

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    password_file.touch(mode=0o600, exist_ok=True)
    password_file.write_text(password + "\n")
    return DemoLogin(email, password, created=True)


def _echo_password(login: DemoLogin) -> None:
    reset = f"`helpdesk user reset-password {login.email}`"
    if not login.password:
        click.echo(f"  password: not stored in the data folder; set one with {reset}")
        return
    click.echo(f"  password: {login.password}")
    if not login.created:
        click.echo(f"            (the first password; if you changed it, use yours or {reset})")


def demo_maildir(settings: Settings) -> Path | None:
    """Return the folder of the first maildir: mailbox in the settings, or None when there is none."""
    for url in settings.mailbox_urls:
        if url.startswith("maildir:"):
            return Path(url.removeprefix("maildir:")).expanduser()
    return None


def copy_demo_messages(settings: Settings) -> int:
    """Copy the example questions into the Maildir mailbox once; return how many were copied.

    A marker file in the data folder records the copy, so that questions
    fetched and moved away by an earlier run do not come back.
    """
    folder = demo_maildir(settings)
    if folder is None:
        click.echo("No maildir: mailbox configured (HELPDESK_MAILBOX_URL), so no example questions were added.")
        return 0
    marker = settings.data_dir / "demo-messages-copied"
    if marker.exists():
        return 0

    folder.parent.mkdir(parents=True, exist_ok=True)
    box = mailbox.Maildir(folder, create=True)
    paths = sorted(DEMO_MESSAGES_DIR.glob("*.eml"))
    for path in paths:
        box.add(path.read_bytes())
    box.close()

    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"{len(paths)}\n")
    return len(paths)


def poll_once(settings: Settings) -> None:
    """Fetch mail from every mailbox now, under the same lock that the worker's poll takes."""
    from helpdesk.ingest.polling import poll_all
    from workers.locks import exclusive

    with exclusive(settings, "poll-mailboxes") as acquired:
        if acquired:
            poll_all(settings)


def _helpdesk_command(*arguments: str) -> list[str]:
    # `python -m helpdesk.cli` would load the CLI module twice (as __main__
    # and as helpdesk.cli) and lose the commands registered on the second.
    return [sys.executable, "-c", "from helpdesk.cli import main; main()", *arguments]


def ensure_port_free(host: str, port: int) -> None:
    """Raise a ClickException naming the port when another program listens on it."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise click.ClickException(
                f"port {port} on {host} is not free ({error.strerror}): stop the program that uses it, "
                f"or choose another port, for example `helpdesk demo --port {port + 1}` "
                f"(or `bash scripts/demo.sh --port {port + 1}`)."
            ) from None


def demo_settings(settings: Settings, host: str, port: int) -> Settings:
    """Point links in drafts and acknowledgements at the demo's own address."""
    public_url = f"http://{host}:{port}"
    os.environ["HELPDESK_PUBLIC_URL"] = public_url  # inherited by the web and worker processes
    return settings.with_overrides(public_url=public_url)


def start_children(host: str, port: int) -> dict[str, subprocess.Popen]:
    """Start the web app and the worker with beat; they inherit the environment and folder."""
    # A new session for each child, so that Ctrl-C reaches only this process,
    # which then stops the children in order.
    commands = {
        "web": _helpdesk_command("serve", "--host", host, "--port", str(port)),
        "worker": _helpdesk_command("worker", "--beat", "--concurrency", "2"),
    }
    return {name: subprocess.Popen(command, start_new_session=True) for name, command in commands.items()}


def stop_children(children: dict[str, subprocess.Popen]) -> None:
    """Ask each child to stop (SIGTERM), then kill those still running after STOP_TIMEOUT_SECONDS."""
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for name, child in children.items():
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            logger.warning("demo process did not stop in time; killing it", extra={"process": name, "pid": child.pid})
            child.kill()
            child.wait()


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def request_stop(_signal_number, _frame) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    return stop


def _wait_for_port(host: str, port: int, children: dict[str, subprocess.Popen], stop: threading.Event) -> None:
    deadline = time.monotonic() + WEB_START_TIMEOUT_SECONDS
    while not stop.is_set() and time.monotonic() < deadline:
        if any(child.poll() is not None for child in children.values()):
            return
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            stop.wait(0.5)


def _supervise(children: dict[str, subprocess.Popen], stop: threading.Event) -> str | None:
    """Wait until a stop signal or a child's exit; return the name of a child that exited."""
    while not stop.is_set():
        for name, child in children.items():
            if child.poll() is not None:
                return name
        stop.wait(1)
    return None
