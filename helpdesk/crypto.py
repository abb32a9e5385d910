"""Encryption of sender addresses and originals, and keyed hashes of addresses."""

from __future__ import annotations

import base64
import hashlib
import hmac

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


def encrypt(settings: Settings, plaintext: str | bytes) -> bytes:
    data = plaintext.encode() if isinstance(plaintext, str) else plaintext
    return fernet(settings).encrypt(data)


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
