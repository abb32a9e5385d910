"""Checks of HELPDESK_ENCRYPTION_KEY and HELPDESK_SECRET_KEY."""

from __future__ import annotations

from helpdesk.checks.results import CheckContext, CheckResult, Status
from helpdesk.config import INSECURE_SECRET_KEY, ConfigError
from helpdesk.crypto import decrypt_bytes, encrypt, fernet

# The secret key is the HMAC key of the sender hashes. A short key lets
# someone with a copy of the database test guessed addresses against them.
# 32 characters of `secrets.token_urlsafe` carry 192 bits.
MIN_SECRET_KEY_LENGTH = 32


def check_encryption_key(context: CheckContext) -> CheckResult:
    """Check that HELPDESK_ENCRYPTION_KEY is set, is a Fernet key and is not the development key."""
    _ = context.gettext
    settings = context.settings

    if not settings.encryption_key:
        message = _("HELPDESK_ENCRYPTION_KEY is niet ingesteld, dus de sleutel wordt afgeleid van HELPDESK_SECRET_KEY: maak een sleutel met `helpdesk keygen`, zet die in HELPDESK_ENCRYPTION_KEY en bewaar een kopie bij de back-ups.")
        return CheckResult("encryption_key", Status.FAILED, message)

    try:
        fernet(settings)
    except ConfigError:
        message = _("HELPDESK_ENCRYPTION_KEY is geen geldige Fernet-sleutel: maak er een met `helpdesk keygen`. Versleutelde gegevens zijn alleen te lezen met de sleutel waarmee ze opgeslagen werden.")
        return CheckResult("encryption_key", Status.FAILED, message)

    # A token made with the key that the development secret yields decrypts
    # only under that same key, so this compares the keys without reading them.
    development = settings.with_overrides(encryption_key="", secret_key=INSECURE_SECRET_KEY)
    try:
        decrypt_bytes(settings, encrypt(development, b"helpdesk check"))
    except ConfigError:
        return CheckResult("encryption_key", Status.OK, _("HELPDESK_ENCRYPTION_KEY is een geldige sleutel."))
    message = _("HELPDESK_ENCRYPTION_KEY is de sleutel die van het ontwikkelgeheim afgeleid is en die iedereen kan kennen: maak een nieuwe met `helpdesk keygen`.")
    return CheckResult("encryption_key", Status.FAILED, message)


def check_secret_key(context: CheckContext) -> CheckResult:
    """Check that HELPDESK_SECRET_KEY is not the development default and is long enough."""
    _ = context.gettext
    secret_key = context.settings.secret_key
    fix = _("maak er een met `python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`. Let op: met een nieuwe sleutel herkent de helpdesk eerdere afzenders en gewiste berichten niet meer, en moeten medewerkers opnieuw inloggen.")

    if secret_key == INSECURE_SECRET_KEY:
        message = _("HELPDESK_SECRET_KEY is nog de openbare ontwikkelwaarde: {fix}")
        return CheckResult("secret_key", Status.FAILED, message.format(fix=fix))
    if len(secret_key) < MIN_SECRET_KEY_LENGTH:
        message = _("HELPDESK_SECRET_KEY is {length} tekens lang, korter dan {minimum}: {fix}")
        return CheckResult(
            "secret_key",
            Status.FAILED,
            message.format(length=len(secret_key), minimum=MIN_SECRET_KEY_LENGTH, fix=fix),
        )
    return CheckResult("secret_key", Status.OK, _("HELPDESK_SECRET_KEY is ingesteld."))
