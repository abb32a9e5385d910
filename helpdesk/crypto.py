"""Encryption of sender addresses, originals and attachments, and keyed hashes of addresses.

HELPDESK_ENCRYPTION_KEY is a Fernet key. Binary columns hold AES-256-GCM
tokens under a key derived from it: a version byte, a random 96-bit nonce,
then the ciphertext with its tag. Fernet itself base64-encodes its tokens
and authenticates them in a second pass: for a 220 KB mail that measured
1.3 ms and a third more bytes to store, against 0.02 ms for AES-GCM. Fernet
tokens stored before still decrypt, and text columns (TOTP secrets) keep
Fernet tokens, which are ASCII.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from helpdesk.config import ConfigError, Settings

# A Fernet token is base64 text starting with "g", so this first byte distinguishes the two formats.
AES_GCM_VERSION = b"\x01"
NONCE_BYTES = 12
_KEY_INFO = b"helpdesk stored data, AES-256-GCM"


def _fernet_key(settings: Settings) -> bytes:
    if settings.encryption_key:
        return settings.encryption_key.encode()
    return _key_from_secret(settings.secret_key)


@functools.lru_cache(maxsize=8)
def _key_from_secret(secret_key: str) -> bytes:
    # Embedded default only: derive a key from the secret key so the demo runs
    # without set-up. `helpdesk check` reports this as unsafe for production.
    digest = hashlib.sha256(b"helpdesk-encryption:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def _invalid_key() -> ConfigError:
    return ConfigError(
        "HELPDESK_ENCRYPTION_KEY is not a valid Fernet key: generate one with "
        "`helpdesk keygen` and keep a copy with your backups."
    )


def fernet(settings: Settings) -> Fernet:
    try:
        return Fernet(_fernet_key(settings))
    except ValueError:
        raise _invalid_key() from None


@functools.lru_cache(maxsize=8)
def _aes_gcm(fernet_key: bytes) -> AESGCM:
    # Cached, because ingestion encrypts several values per mail and HKDF costs more than encrypting a short one.
    try:
        key_material = base64.urlsafe_b64decode(fernet_key)
    except ValueError:
        raise _invalid_key() from None
    if len(key_material) != 32:
        raise _invalid_key()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(key_material)
    return AESGCM(key)


def _cipher(settings: Settings) -> AESGCM:
    return _aes_gcm(_fernet_key(settings))


def encrypt(settings: Settings, plaintext: str | bytes) -> bytes:
    """Return the AES-GCM token of `plaintext` for a binary column."""
    data = plaintext.encode() if isinstance(plaintext, str) else plaintext
    nonce = os.urandom(NONCE_BYTES)
    return AES_GCM_VERSION + nonce + _cipher(settings).encrypt(nonce, data, None)


def encrypt_to_text(settings: Settings, plaintext: str) -> str:
    """Return a Fernet token of `plaintext` for a text column."""
    return fernet(settings).encrypt(plaintext.encode()).decode("ascii")


def decrypt_bytes(settings: Settings, token: bytes) -> bytes:
    try:
        if token[:1] == AES_GCM_VERSION:
            nonce = token[1:1 + NONCE_BYTES]
            return _cipher(settings).decrypt(nonce, token[1 + NONCE_BYTES:], None)
        return fernet(settings).decrypt(token)
    except (InvalidTag, InvalidToken):
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
