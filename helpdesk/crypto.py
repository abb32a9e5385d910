"""Encryption of sender addresses and originals, and keyed hashes of addresses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from cryptography.fernet import Fernet, InvalidToken

from helpdesk.config import ConfigError, Settings


def _fernet_key(settings: Settings) -> bytes:
    if settings.encryption_key:
        return settings.encryption_key.encode()
    # Embedded default only: derive a key from the secret key so the demo runs
    # without set-up. `helpdesk check` reports this as unsafe for production.
    digest = hashlib.sha256(b"helpdesk-encryption:" + settings.secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def fernet(settings: Settings) -> Fernet:
    try:
        return Fernet(_fernet_key(settings))
    except ValueError:
        raise ConfigError(
            "HELPDESK_ENCRYPTION_KEY is not a valid Fernet key: generate one with "
            "`helpdesk keygen` and keep a copy with your backups."
        ) from None


# Tokens made in other processes (see helpdesk.ingest.prepare), by (key, SHA-256
# of the plaintext). Each is used once, so that two equal plaintexts still get
# different tokens, as Fernet gives them.
_prepared: dict[tuple[bytes, bytes], bytes] = {}
# The tokens that `encrypt` makes in a thread while `recording()` is active there.
_recording = threading.local()


def encrypt(settings: Settings, plaintext: str | bytes) -> bytes:
    data = plaintext.encode() if isinstance(plaintext, str) else plaintext
    key = _fernet_key(settings)
    recorded = getattr(_recording, "tokens", None)
    if _prepared and recorded is None:
        token = _prepared.pop((key, hashlib.sha256(data).digest()), None)
        if token is not None:
            return token

    token = fernet(settings).encrypt(data)
    if recorded is not None:
        recorded[(key, hashlib.sha256(data).digest())] = token
    return token


@contextmanager
def recording() -> Iterator[dict[tuple[bytes, bytes], bytes]]:
    """Collect the tokens that `encrypt` makes inside the block, to hand to another process."""
    recorded: dict[tuple[bytes, bytes], bytes] = {}
    _recording.tokens = recorded
    try:
        yield recorded
    finally:
        _recording.tokens = None


@contextmanager
def prepared(tokens: dict[tuple[bytes, bytes], bytes]) -> Iterator[None]:
    """Let `encrypt` return these tokens, made elsewhere with the same key, inside the block."""
    _prepared.update(tokens)
    try:
        yield
    finally:
        for entry in tokens:
            _prepared.pop(entry, None)


def decrypt_bytes(settings: Settings, token: bytes) -> bytes:
    try:
        return fernet(settings).decrypt(token)
    except InvalidToken:
        raise ConfigError(
            "Stored data cannot be decrypted with HELPDESK_ENCRYPTION_KEY: "
            "restore the key that was in use when the data was written."
        ) from None


def decrypt(settings: Settings, token: bytes) -> str:
    return decrypt_bytes(settings, token).decode("utf-8", errors="replace")


def address_hash(settings: Settings, address: str) -> str:
    """Return a keyed hash of an email address, stable across tickets of one client."""
    normalized = address.strip().lower().encode()
    return hmac.new(settings.secret_key.encode(), normalized, hashlib.sha256).hexdigest()


def generate_key() -> str:
    return Fernet.generate_key().decode()
