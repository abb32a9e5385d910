"""Shared fixtures: settings on a fresh database for each backend under test.

HELPDESK_TEST_BACKENDS selects the backends (default `sqlite,postgresql`).
PostgreSQL tests need a server; HELPDESK_TEST_POSTGRES_URL points at one
(default: the local server on 127.0.0.1:5432 as user postgres). They are
skipped with a message when it cannot be reached, and `scripts/test.sh`
makes sure one runs.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from helpdesk import schema
from helpdesk.config import Settings, load_settings
from helpdesk.db import get_engine

SHARED_DIR = Path(os.environ.get("HELPDESK_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
BACKENDS = [name.strip() for name in os.environ.get("HELPDESK_TEST_BACKENDS", "sqlite,postgresql").split(",") if name.strip()]
POSTGRES_ADMIN_URL = os.environ.get("HELPDESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def shared_path(*parts: str) -> Path:
    """Return a path under the shared data folder, skipping the test when it is absent."""
    path = SHARED_DIR.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not found at {path}; set HELPDESK_SHARED_DIR to run this test")
    return path


def _create_postgres_database() -> str:
    name = f"helpdesk_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except sa.exc.OperationalError as error:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {error.orig}")
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _drop_postgres_database(url: str) -> None:
    get_engine(url).dispose()
    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def make_settings(data_dir: Path, database_url: str, **overrides: str) -> Settings:
    env = {
        "HELPDESK_DATA_DIR": str(data_dir),
        "HELPDESK_DATABASE_URL": database_url,
        "HELPDESK_SECRET_KEY": "test-secret-key",
        "HELPDESK_FROM_ADDRESS": "vragen@helpdesk.test",
        "HELPDESK_FROM_NAME": "Helpdesk Test",
    }
    env.update(overrides)
    return load_settings(env)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """The database backend under test: every test that uses it runs once per backend."""
    if request.param not in {"sqlite", "postgresql"}:
        raise ValueError(f"unknown test backend {request.param!r} in HELPDESK_TEST_BACKENDS: use sqlite or postgresql")
    return request.param


@pytest.fixture
def database_url(backend, tmp_path):
    """A fresh, empty database URL, once per backend under test."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'helpdesk.sqlite3'}"
        yield url
        get_engine(url).dispose()
        return
    url = _create_postgres_database()
    yield url
    _drop_postgres_database(url)


class MigratedTemplates:
    """One migrated database per backend, copied for each test.

    Running the migrations once per session instead of once per test keeps the
    suite fast: a SQLite copy or a PostgreSQL `CREATE DATABASE ... TEMPLATE`
    takes milliseconds.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.templates: dict[str, str] = {}

    def _template(self, backend: str) -> str:
        if backend in self.templates:
            return self.templates[backend]
        if backend == "sqlite":
            url = f"sqlite:///{self.folder / 'template.sqlite3'}"
        else:
            url = _create_postgres_database()
        schema.upgrade(make_settings(self.folder / "var", url))
        get_engine(url).dispose()
        self.templates[backend] = url
        return url

    def copy(self, backend: str, tmp_path: Path) -> str:
        template = self._template(backend)
        if backend == "sqlite":
            target = tmp_path / "helpdesk.sqlite3"
            with sqlite3.connect(template.removeprefix("sqlite:///")) as source, sqlite3.connect(target) as copy:
                source.backup(copy)
            return f"sqlite:///{target}"
        name = f"helpdesk_test_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template.rsplit("/", 1)[1]}"'))
        admin.dispose()
        return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    def drop_all(self) -> None:
        for backend, url in self.templates.items():
            if backend == "postgresql":
                _drop_postgres_database(url)


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory):
    templates = MigratedTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.drop_all()


@pytest.fixture
def settings(backend, migrated_templates, tmp_path) -> Settings:
    """Settings on a migrated database and a private data folder."""
    url = migrated_templates.copy(backend, tmp_path)
    yield make_settings(tmp_path / "var", url)
    if backend == "postgresql":
        _drop_postgres_database(url)
    else:
        get_engine(url).dispose()


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch):
    """Use Argon2's cheapest parameters: the tests check behaviour, not hashing cost."""
    from argon2 import PasswordHasher, profiles

    from helpdesk.accounts import services

    monkeypatch.setattr(services, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))


@pytest.fixture
def sqlite_settings(tmp_path) -> Settings:
    """Settings on SQLite only, for tests whose subject is not the database."""
    settings = make_settings(tmp_path / "var", f"sqlite:///{tmp_path / 'helpdesk.sqlite3'}")
    schema.upgrade(settings)
    return settings


# Fixtures for real servers started by the tests themselves.
pytest_plugins = ["tests.services.smtp", "tests.services.dovecot", "tests.services.redis", "tests.services.worker"]
