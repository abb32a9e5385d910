"""TOTP codes (RFC 6238) and the encryption of TOTP secrets at rest."""

from __future__ import annotations

import datetime as dt
import re

import pyotp
from pyotp.utils import strings_equal

from helpdesk.config import Settings
from helpdesk.crypto import decrypt, encrypt_to_text

TOTP_ISSUER = "Helpdesk"

# Accept the previous and next 30-second step as well, for clock drift.
VALID_WINDOW = 1

# Every Fernet token starts with the version byte 0x80, which is "gAAAAA" in
# base64. A base32 secret is upper case, so it can never start like this.
_FERNET_PREFIX = "gAAAAA"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(email: str, secret: str) -> str:
    """Return the otpauth:// URI that authenticator apps read (typed in or scanned)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)


def seal(settings: Settings, secret: str) -> str:
    """Encrypt a base32 secret for a users column."""
    return encrypt_to_text(settings, secret)


def is_sealed(stored: str) -> bool:
    return stored.startswith(_FERNET_PREFIX)


def unseal(settings: Settings, stored: str) -> str:
    """Return the base32 secret of a users column. Raise ConfigError when HELPDESK_ENCRYPTION_KEY did not encrypt it.

    A value stored before secrets were encrypted is returned as it is.
    """
    if not is_sealed(stored):
        return stored
    return decrypt(settings, stored.encode("ascii"))


def accepted_timecode(secret: str, code: str, last_timecode: int | None, now: dt.datetime) -> int | None:
    """Return the time step that `code` belongs to, or None when the code is wrong or already used.

    A code is valid in its own step and the steps next to it (VALID_WINDOW).
    Steps at or before `last_timecode` are rejected, so an observed code
    cannot be replayed while it is still valid.
    """
    digits = re.sub(r"\s+", "", code or "")
    if not digits.isdigit():
        return None

    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        step = current + offset
        if last_timecode is not None and step <= last_timecode:
            continue
        if strings_equal(digits, totp.generate_otp(step)):
            return step
    return None


def is_used_code(secret: str, code: str, last_timecode: int | None, now: dt.datetime) -> bool:
    """Tell whether `code` is right for a step within VALID_WINDOW that was already used (at or before `last_timecode`).

    accepted_timecode rejects such a code, and this tells that rejection
    apart from a wrong code, so the sign-in page can ask the user to wait for the next one.
    """
    digits = re.sub(r"\s+", "", code or "")
    if last_timecode is None or not digits.isdigit():
        return False

    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    used_steps = [current + offset for offset in range(-VALID_WINDOW, VALID_WINDOW + 1) if current + offset <= last_timecode]
    return any(strings_equal(digits, totp.generate_otp(step)) for step in used_steps)
