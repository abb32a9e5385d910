"""Backups of the database and the keys, and restoring them into an empty database.

A backup is one folder named `helpdesk-<UTC time>` that contains:

- `database.dump`: PostgreSQL's pg_dump custom format, restored with pg_restore;
  or `database.sqlite3`: a consistent copy made with SQLite's backup API;
- `keys.env`: HELPDESK_ENCRYPTION_KEY and HELPDESK_SECRET_KEY. Without the
  encryption key the sender addresses, originals and attachments cannot be
  decrypted. Without the secret key the helpdesk no longer recognises
  earlier senders and erased mail;
- `README.txt`: that warning for whoever finds the folder;
- `manifest.json`: the format version, the database backend, the schema
  revision and a SHA-256 checksum of each file.

The folder is written under a hidden name and renamed when complete, so a
folder with the final name is never half written. Files are readable by the
owner only, because they contain personal data and keys.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from dotenv import dotenv_values
from psycopg.conninfo import make_conninfo
from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from helpdesk.config import Settings
from helpdesk.db import get_engine, utcnow

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
POSTGRES_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
KEYS_FILE = "keys.env"
README_FILE = "README.txt"
MANIFEST_FILE = "manifest.json"
FOLDER_PREFIX = "helpdesk-"

README_TEXT = """\
Back-up van de helpdesk / Helpdesk backup

NL: Deze map bevat persoonsgegevens van cliënten en de sleutels van de
helpdesk (keys.env). Zonder HELPDESK_ENCRYPTION_KEY uit keys.env zijn de
versleutelde afzenderadressen, originele berichten en bijlagen niet te
lezen, en kan niemand een antwoord sturen op oude vragen. Bewaar keys.env
ook apart, op een veilige plaats. Terugzetten: scripts/restore.sh <map>.

EN: This folder contains clients' personal data and the helpdesk's keys
(keys.env). Without HELPDESK_ENCRYPTION_KEY from keys.env the encrypted
sender addresses, original messages and attachments cannot be read, and
no reply to an old question can be sent. Keep a copy of keys.env apart, in a
safe place. To restore: scripts/restore.sh <folder>.
"""


class BackupError(RuntimeError):
    """A backup or restore cannot go on; the message names the problem and the fix."""


@dataclass(frozen=True)
class Manifest:
    backend: str  # "postgresql" or "sqlite"
    revision: str | None  # Alembic revision of the schema when the backup was made
    created_at: str  # ISO 8601, UTC
    files: dict[str, str]  # file name -> SHA-256 hex digest
    format: int = FORMAT_VERSION

    @property
    def database_file(self) -> str:
        return POSTGRES_DUMP if self.backend == "postgresql" else SQLITE_COPY


def database_backend(database_url: str) -> str:
    """Return "postgresql" or "sqlite"; raise BackupError for any other database."""
    backend = make_url(database_url).get_backend_name()
    if backend not in {"postgresql", "sqlite"}:
        raise BackupError(f"Backups support PostgreSQL and SQLite, not {backend!r}: change HELPDESK_DATABASE_URL.")
    return backend


def create_backup(settings: Settings, destination: Path, now: dt.datetime | None = None) -> Path:
    """Write a backup folder into `destination` and return its path."""
    now = now or utcnow()
    backend = database_backend(settings.database_url)
    destination.mkdir(parents=True, exist_ok=True, mode=0o700)
    final = destination / f"{FOLDER_PREFIX}{now:%Y%m%dT%H%M%SZ}"
    if final.exists():
        raise BackupError(f"The backup folder {final} already exists: wait a second or choose another destination.")

    partial = destination / f".{final.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(mode=0o700)
    try:
        if backend == "postgresql":
            _dump_postgres(settings.database_url, partial / POSTGRES_DUMP)
        else:
            _copy_sqlite(_sqlite_path(settings.database_url), partial / SQLITE_COPY)
        _write_private(partial / KEYS_FILE, _keys_text(settings))
        _write_private(partial / README_FILE, README_TEXT)

        manifest = Manifest(
            backend=backend,
            revision=_schema_revision(settings.database_url),
            created_at=now.isoformat(),
            files={path.name: _sha256(path) for path in sorted(partial.iterdir())},
        )
        _write_private(partial / MANIFEST_FILE, json.dumps(manifest.__dict__, indent=2) + "\n")
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise

    logger.info("backup created", extra={"backup": final.name, "backend": backend, "revision": manifest.revision})
    return final


def read_manifest(folder: Path) -> Manifest:
    """Read and verify a backup folder; raise BackupError when a file is missing or changed."""
    path = folder / MANIFEST_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise BackupError(f"{folder} is not a helpdesk backup: {MANIFEST_FILE} is missing.") from None
    except json.JSONDecodeError as error:
        raise BackupError(f"{path} is damaged ({error}): use another backup.") from None
    if data.get("format") != FORMAT_VERSION:
        raise BackupError(
            f"{folder} has backup format {data.get('format')!r}, this version reads format {FORMAT_VERSION}: "
            "restore it with the helpdesk version that made it."
        )
    manifest = Manifest(**data)

    for name, expected in manifest.files.items():
        file = folder / name
        if not file.is_file():
            raise BackupError(f"The backup file {file} is missing: use another backup.")
        if _sha256(file) != expected:
            raise BackupError(f"The backup file {file} does not match its checksum and is damaged: use another backup.")
    if manifest.database_file not in manifest.files:
        raise BackupError(f"{folder} has no {manifest.database_file}: use another backup.")
    return manifest


def restore_backup(settings: Settings, folder: Path, replace: bool = False) -> Manifest:
    """Restore the database of a backup folder into the database of `settings`.

    The target must be empty unless `replace` is true, which drops the
    target's tables first. The keys in `settings` must equal those in the
    backup's keys.env, because data restored under other keys cannot be read.
    The services must be stopped while this runs.
    """
    manifest = read_manifest(folder)
    _check_keys(settings, folder / KEYS_FILE)

    backend = database_backend(settings.database_url)
    if backend != manifest.backend:
        raise BackupError(
            f"The backup contains a {manifest.backend} database but HELPDESK_DATABASE_URL is {backend}: "
            f"restore into a {manifest.backend} database."
        )
    if not replace:
        tables = _table_names(settings.database_url)
        if tables:
            raise BackupError(
                f"The target database already has {len(tables)} tables: restore into a new, empty database, "
                "or add --replace to drop them first."
            )

    database_file = folder / manifest.database_file
    if backend == "postgresql":
        _restore_postgres(settings.database_url, database_file, replace)
    else:
        _restore_sqlite(database_file, _sqlite_path(settings.database_url))

    logger.info("backup restored", extra={"backup": folder.name, "backend": backend, "revision": manifest.revision})
    return manifest


def _keys_text(settings: Settings) -> str:
    return (
        "# Keys of the helpdesk when this backup was made. Set the same values in\n"
        "# the environment of every helpdesk process before restoring this backup.\n"
        f"HELPDESK_ENCRYPTION_KEY={settings.encryption_key}\n"
        f"HELPDESK_SECRET_KEY={settings.secret_key}\n"
    )


def _check_keys(settings: Settings, keys_file: Path) -> None:
    keys = dotenv_values(keys_file)
    for name, current in (
        ("HELPDESK_ENCRYPTION_KEY", settings.encryption_key),
        ("HELPDESK_SECRET_KEY", settings.secret_key),
    ):
        if (keys.get(name) or "") != current:
            raise BackupError(
                f"{name} differs from the value in {keys_file}: set it to that value for all helpdesk "
                "processes, then restore again. Data restored under another key cannot be read."
            )


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _schema_revision(database_url: str) -> str | None:
    engine = get_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def _table_names(database_url: str) -> list[str]:
    if database_backend(database_url) == "sqlite" and not _sqlite_path(database_url).exists():
        return []
    engine = get_engine(database_url)
    try:
        with engine.connect() as connection:
            return inspect(connection).get_table_names()
    finally:
        # Close pooled connections, because pg_restore --clean must drop these tables next.
        engine.dispose()


# SQLite


def _sqlite_path(database_url: str) -> Path:
    path = make_url(database_url).database
    if not path or path == ":memory:":
        raise BackupError("HELPDESK_DATABASE_URL names no SQLite file: use sqlite:////path/to/helpdesk.sqlite3.")
    return Path(path)


def _copy_sqlite(source_path: Path, copy_path: Path) -> None:
    """Copy a live SQLite database page by page; writers wait, readers go on."""
    if not source_path.is_file():
        raise BackupError(f"The SQLite database {source_path} does not exist: check HELPDESK_DATABASE_URL.")
    source = sqlite3.connect(source_path)
    copy = sqlite3.connect(copy_path)
    try:
        source.backup(copy)
        # A copy in rollback-journal mode is one self-contained file.
        copy.execute("PRAGMA journal_mode=DELETE")
        result = copy.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        copy.close()
        source.close()
    os.chmod(copy_path, 0o600)
    if result != "ok":
        raise BackupError(f"The copy of {source_path} failed SQLite's integrity check ({result}).")


def _restore_sqlite(copy_path: Path, target_path: Path) -> None:
    target_path.parent.mkdir(parents=True, exist_ok=True)
    copy = sqlite3.connect(f"file:{copy_path}?mode=ro", uri=True)
    target = sqlite3.connect(target_path)
    try:
        copy.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
    finally:
        target.close()
        copy.close()


# PostgreSQL


def _libpq_arguments(database_url: str) -> tuple[str, dict[str, str]]:
    """Return a libpq connection string without the password, and the environment that carries it.

    The password goes through PGPASSWORD rather than the command line,
    where every user on the machine could read it in the process list.
    """
    url: URL = make_url(database_url)
    parameters = {key: value if isinstance(value, str) else value[-1] for key, value in url.query.items()}
    for key, value in (("host", url.host), ("port", url.port), ("user", url.username), ("dbname", url.database)):
        if value is not None:
            parameters[key] = str(value)

    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = url.password
    return make_conninfo("", **parameters), environment


def _run(command: list[str], environment: dict[str, str], what: str) -> None:
    program = command[0]
    if shutil.which(program) is None:
        raise BackupError(f"{program} is not installed: install Debian's postgresql-client package.")
    result = subprocess.run(command, env=environment, capture_output=True, text=True)
    if result.returncode != 0:
        detail = " ".join(result.stderr.split()) or f"exit code {result.returncode}"
        raise BackupError(f"{what} failed: {detail}")


def _dump_postgres(database_url: str, dump_path: Path) -> None:
    conninfo, environment = _libpq_arguments(database_url)
    _run(
        ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={dump_path}", f"--dbname={conninfo}"],
        environment,
        "pg_dump",
    )
    os.chmod(dump_path, 0o600)


def _restore_postgres(database_url: str, dump_path: Path, replace: bool) -> None:
    conninfo, environment = _libpq_arguments(database_url)
    command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    if replace:
        command += ["--clean", "--if-exists"]
    _run([*command, f"--dbname={conninfo}", str(dump_path)], environment, "pg_restore")
