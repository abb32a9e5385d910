"""Settings read from HELPDESK_* environment variables, with embedded defaults.

This is the only module that reads the environment. A `.env` file in the
working directory may set the same variables; real environment variables win.
"""

from __future__ import annotations

import os
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path

from dotenv import dotenv_values

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"

# Development-only secret: `helpdesk check` warns when it is still in use.
INSECURE_SECRET_KEY = "insecure-development-key-change-me"


class ConfigError(ValueError):
    """A setting has a value that cannot be used; the message names it and the fix."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    mailbox_urls: tuple[str, ...]
    smtp_url: str
    broker_url: str
    secret_key: str
    encryption_key: str
    from_address: str
    from_name: str
    public_url: str
    poll_interval_seconds: float = 60.0
    imap_batch_size: int = 100
    imap_timeout_seconds: float = 30.0
    imap_after_processing: str = "move"
    imap_processed_folder: str = "Verwerkt"
    imap_idle: bool = True
    # Processes that parse, redact and analyse fetched mail ahead of its transaction:
    # "auto" (one per CPU on a machine with several) or a count, 0 for none.
    ingest_processes: str = "auto"
    max_message_bytes: int = 25 * 1024 * 1024
    max_attachment_bytes: int = 10 * 1024 * 1024
    keep_originals: bool = True
    retention_raw_days: int = 30
    retention_original_days: int = 90
    retention_sender_days: int = 180
    retention_delete_from_mailbox: bool = True
    autoreply_enabled: bool = False
    autoreply_per_sender_per_day: int = 3
    autoreply_answer_days: int = 3  # working days promised in the acknowledgement
    faq_window_days: int = 90
    session_idle_minutes: int = 30
    trusted_proxies: int = 0  # reverse proxies in front of the web app whose X-Forwarded-For is believed
    totp_required_roles: str = ""  # comma-separated roles that must use TOTP, e.g. admin,editor
    default_language: str = "nl"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def ingest_process_count(self) -> int:
        if self.ingest_processes == "auto":
            cpus = os.cpu_count() or 1
            return cpus if cpus > 1 else 0
        return int(self.ingest_processes)

    def with_overrides(self, **changes) -> "Settings":
        return replace(self, **changes)


_TRUE = {"1", "true", "yes", "on", "ja"}
_FALSE = {"0", "false", "no", "off", "nee"}


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean: use true or false.")


def _parse_number(name: str, raw: str, kind: type) -> int | float:
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number: set it to a plain {kind.__name__}.") from None
    if value < 0:
        raise ConfigError(f"{name}={raw!r} must not be negative.")
    return value


def _environment(env: dict[str, str] | None) -> dict[str, str]:
    if env is not None:
        return dict(env)
    merged = {key: value for key, value in dotenv_values(".env").items() if value is not None}
    merged.update(os.environ)
    return merged


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build the settings from `env` (default: `.env` plus the process environment).

    Raises ConfigError naming the variable when a value cannot be used.
    """
    env = _environment(env)

    def get(name: str, default: str) -> str:
        value = env.get(f"HELPDESK_{name}", "")
        return value if value.strip() else default

    data_dir = Path(get("DATA_DIR", str(Path.cwd() / "var"))).resolve()
    mailbox_raw = get("MAILBOX_URL", f"maildir:{data_dir / 'mailbox'}")
    mailbox_urls = tuple(url.strip() for url in mailbox_raw.split(",") if url.strip())

    settings = Settings(
        data_dir=data_dir,
        database_url=get("DATABASE_URL", f"sqlite:///{data_dir / 'helpdesk.sqlite3'}"),
        mailbox_urls=mailbox_urls,
        smtp_url=get("SMTP_URL", f"file:{data_dir / 'outbox'}"),
        broker_url=get("BROKER_URL", f"filesystem://{data_dir / 'broker'}"),
        secret_key=get("SECRET_KEY", INSECURE_SECRET_KEY),
        encryption_key=get("ENCRYPTION_KEY", ""),
        from_address=get("FROM_ADDRESS", "vragen@helpdesk.invalid"),
        from_name=get("FROM_NAME", "Helpdesk"),
        public_url=get("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
    )

    # Typed optional settings: the field name in upper case is the variable name.
    changes: dict[str, object] = {}
    for spec in fields(Settings):
        if spec.default is MISSING:
            continue
        name = f"HELPDESK_{spec.name.upper()}"
        raw = env.get(name, "").strip()
        if not raw:
            continue
        if isinstance(spec.default, bool):
            changes[spec.name] = _parse_bool(name, raw)
        elif isinstance(spec.default, (int, float)):
            changes[spec.name] = _parse_number(name, raw, type(spec.default))
        elif isinstance(spec.default, str):
            changes[spec.name] = raw
    settings = replace(settings, **changes)

    if settings.ingest_processes != "auto" and not settings.ingest_processes.isdigit():
        raise ConfigError(
            f"HELPDESK_INGEST_PROCESSES={settings.ingest_processes!r} is invalid: "
            "use auto, 0 (no extra processes) or a number of processes."
        )
    if settings.imap_after_processing not in {"seen", "move", "leave"}:
        raise ConfigError(
            f"HELPDESK_IMAP_AFTER_PROCESSING={settings.imap_after_processing!r} is invalid: "
            "use seen, move or leave."
        )
    return settings
