"""A real Celery worker process (`celery -A workers.app worker`) started by a test.

The worker reads its settings from HELPDESK_* variables, so the fixture turns
the test's Settings into that environment and starts the process in a
temporary folder (where no developer's `.env` is read).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable

import pytest

from helpdesk.config import Settings

READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 30.0


def settings_environment(settings: Settings) -> dict[str, str]:
    """Return the HELPDESK_* variables that make load_settings() build `settings` again."""
    environment = {}
    for spec in fields(Settings):
        value = getattr(settings, spec.name)
        if spec.name == "extra":
            continue
        if spec.name == "mailbox_urls":
            environment["HELPDESK_MAILBOX_URL"] = ",".join(value)
        elif isinstance(value, bool):
            environment[f"HELPDESK_{spec.name.upper()}"] = "true" if value else "false"
        else:
            environment[f"HELPDESK_{spec.name.upper()}"] = str(value)
    return environment


def wait_until(condition: Callable[[], bool], timeout: float, description: str) -> None:
    """Call `condition` until it returns true; fail the test naming `description` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {description}")
        time.sleep(0.2)


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Stop the worker with SIGQUIT (Celery's cold shutdown); kill it when it does not stop in time.

        The test is over, so no running task needs to finish.
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_worker(settings: Settings, folder: Path, *arguments: str) -> WorkerProcess:
    """Start `celery -A workers.app worker` for `settings` and wait until it consumes tasks."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("HELPDESK_")}
    environment.update(settings_environment(settings))
    environment["PYTHONUNBUFFERED"] = "1"

    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / "worker.log"
    command = [
        sys.executable, "-m", "celery", "-A", "workers.app", "worker",
        "--loglevel=INFO", "--pool=prefork", "--concurrency=1",
        "--without-gossip", "--without-mingle",
        f"--hostname=test-{uuid.uuid4().hex[:8]}@%h",
        *arguments,
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=folder, env=environment, stdout=log, stderr=subprocess.STDOUT)
    worker = WorkerProcess(process, log_path)

    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while " ready." not in worker.log():
        if process.poll() is not None or time.monotonic() > deadline:
            worker.stop()
            pytest.fail(f"Celery worker did not start (exit code {process.poll()}):\n{worker.log()[-4000:]}")
        time.sleep(0.2)
    return worker


@pytest.fixture
def celery_worker(tmp_path):
    """Return a function that starts a worker for given settings; every started worker stops after the test."""
    started: list[WorkerProcess] = []

    def start(settings: Settings, *arguments: str) -> WorkerProcess:
        worker = start_worker(settings, tmp_path / f"worker-{len(started)}", *arguments)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
