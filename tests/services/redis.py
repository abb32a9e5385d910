"""A real Redis server for tests, with a private database number per test.

The session fixture `redis_server` uses the server on 127.0.0.1:6379 when it
replies to PING, and otherwise starts Debian's redis-server on a free loopback port
that keeps nothing on disk. The function fixture `redis_url` claims an empty
database number on that server with SET NX, so parallel test runs never share
one, and empties it again afterwards.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass

import pytest
import redis

from tests.services.ports import free_port

DEFAULT_PORT = 6379
CLAIM_KEY = "helpdesk-test:claim"
CLAIM_SECONDS = 3600
START_TIMEOUT_SECONDS = 15.0
# Redis has 16 databases unless configured otherwise; 0 is left to other users.
DATABASE_NUMBERS = range(1, 16)


@dataclass(frozen=True)
class RedisServer:
    host: str
    port: int

    def client(self, database: int = 0) -> redis.Redis:
        return redis.Redis(host=self.host, port=self.port, db=database, socket_timeout=10, socket_connect_timeout=5)

    def url(self, database: int) -> str:
        return f"redis://{self.host}:{self.port}/{database}"


def _is_up(server: RedisServer) -> bool:
    try:
        return bool(server.client().ping())
    except redis.exceptions.ConnectionError:
        return False


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """Yield the Redis server on 127.0.0.1:6379, or one started for this test session."""
    running = RedisServer("127.0.0.1", DEFAULT_PORT)
    if _is_up(running):
        yield running
        return

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no Redis on 127.0.0.1:6379 and redis-server is not installed (scripts/setup.sh installs it)")
    server = RedisServer("127.0.0.1", free_port())
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--bind", server.host, "--port", str(server.port), "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _is_up(server):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server on port {server.port} did not start (exit code {process.poll()})")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server):
    """Return the URL of an empty Redis database that only this test uses."""
    for database in DATABASE_NUMBERS:
        client = redis_server.client(database)
        if not client.set(CLAIM_KEY, "1", nx=True, ex=CLAIM_SECONDS):
            continue
        # The claim key must be the only key: a database with other data belongs to someone else.
        if client.dbsize() > 1:
            client.delete(CLAIM_KEY)
            continue
        try:
            yield redis_server.url(database)
        finally:
            client.flushdb()
            client.close()
        return
    pytest.skip(f"no empty Redis database among {DATABASE_NUMBERS.start}-{DATABASE_NUMBERS.stop - 1} on port {redis_server.port}")
