"""A private Redis and an SMTP server that tests stop and start again on the same port.

Neither touches the machine's shared Redis on 6379: `private_redis` starts
Debian's redis-server on a free loopback port without persistence, so a
restart loses every queued task, the worst case for the task queue.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import redis
from aiosmtpd.controller import Controller

from tests.services.ports import free_port
from tests.services.smtp import SmtpServer, _Handler

START_TIMEOUT_SECONDS = 15.0
STOP_TIMEOUT_SECONDS = 10.0


class PrivateRedis:
    """A redis-server process on 127.0.0.1 with its working folder under `folder`, keeping nothing on disk."""

    def __init__(self, binary: str, folder: Path) -> None:
        self.binary = binary
        self.folder = folder
        self.host = "127.0.0.1"
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def url(self, database: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{database}"

    def client(self) -> redis.Redis:
        return redis.Redis(host=self.host, port=self.port, socket_timeout=5, socket_connect_timeout=5)

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [
            self.binary, "--bind", self.host, "--port", str(self.port),
            "--save", "", "--appendonly", "no", "--dir", str(self.folder),
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._is_up():
            if self.process.poll() is not None or time.monotonic() > deadline:
                code = self.process.poll()
                self.stop()
                raise RuntimeError(f"redis-server on port {self.port} did not start (exit code {code})")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        """Stop and start the server on the same port; every key is lost, as after a crash."""
        self.stop()
        self.start()

    def queued_tasks(self, queue: str = "helpdesk") -> int:
        client = self.client()
        try:
            return int(client.llen(queue))
        finally:
            client.close()

    def _is_up(self) -> bool:
        client = self.client()
        try:
            return bool(client.ping())
        except redis.exceptions.ConnectionError:
            return False
        finally:
            client.close()


@pytest.fixture
def private_redis(tmp_path):
    """Start a redis-server on a free port for one test; the test may stop and start it."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (Debian package redis-server, see scripts/setup.sh)")
    server = PrivateRedis(binary, tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


class RestartableSmtp(SmtpServer):
    """An aiosmtpd server whose `stop` and `start` keep the port and the received mail."""

    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(_Handler(self), hostname=self.host, port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def restartable_smtp():
    """Start aiosmtpd on a free loopback port for one test; the test may stop and start it."""
    server = RestartableSmtp(host="127.0.0.1", port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
