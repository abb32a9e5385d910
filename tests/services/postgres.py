"""A private PostgreSQL cluster on a free loopback port, for tests that stop and restart the server.

`initdb` and `pg_ctl` from Debian's /usr/lib/postgresql/<version>/bin create
the cluster in a temporary folder and run it as the `postgres` system user
(PostgreSQL refuses to run as root). Trust authentication is allowed because
the server listens on 127.0.0.1 only. The machine's shared server is never
touched.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.services.ports import free_port

START_TIMEOUT_SECONDS = 30.0
SYSTEM_USER = "postgres"


def _binary_folder() -> Path | None:
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda path: int(Path(path).parent.name))
    return Path(folders[-1]) if folders else None


class PostgresCluster:
    """One cluster under `root`, started and stopped with pg_ctl."""

    def __init__(self, root: Path, binaries: Path) -> None:
        self.root = root
        self.binaries = binaries
        self.data = root / "data"
        self.port = free_port()
        self.host = "127.0.0.1"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@{self.host}:{self.port}/{database}"

    def _run(self, *command: str, timeout: float = 60) -> None:
        prefix = ["runuser", "-u", SYSTEM_USER, "--"] if os.geteuid() == 0 else []
        result = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"{Path(command[0]).name} failed with code {result.returncode}: {result.stderr.strip()}")

    def initialise(self) -> None:
        self._run(str(self.binaries / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        options = f"-c listen_addresses={self.host} -p {self.port} -c unix_socket_directories={self.root} -c fsync=off"
        self._run(
            str(self.binaries / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
            "-o", options, "-w", "-t", str(int(START_TIMEOUT_SECONDS)), "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; "fast" ends open sessions as a crash or a restart by an administrator does."""
        self._run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, down_seconds: float = 0.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def create_database(self, name: str) -> str:
        admin = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url(name)


@pytest.fixture(scope="module")
def postgres_cluster():
    """Start a private PostgreSQL cluster for the tests of one module."""
    binaries = _binary_folder()
    if binaries is None or not (binaries / "initdb").exists():
        pytest.skip("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin")
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            pytest.skip("the postgres system user does not exist, so a private cluster cannot start")

    root = Path(tempfile.mkdtemp(prefix="helpdesk-postgres-"))
    if os.geteuid() == 0:
        os.chown(root, account.pw_uid, account.pw_gid)
    cluster = PostgresCluster(root, binaries)
    cluster.initialise()
    cluster.start()
    try:
        yield cluster
    finally:
        try:
            cluster.stop("immediate")
        except RuntimeError:
            pass  # already stopped by a failed test
        shutil.rmtree(root, ignore_errors=True)
