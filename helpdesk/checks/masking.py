"""Masking of passwords in URLs and removal of secrets from check output."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from helpdesk.config import Settings

MASK = "***"
_SECRET_QUERY_KEYS = {"password", "pass", "passwd", "secret", "token"}
# Shorter secrets are not scrubbed from free text, because replacing every
# occurrence of two letters would garble the output.
# NOTE: a password of one to three characters can therefore appear in an
# error text that a library built; URLs are masked whatever the length.
MIN_SCRUB_LENGTH = 4


def mask_url(url: str) -> str:
    """Return `url` with the password in the user part and in password-like query options replaced.

    The rest of the URL stays as written; rebuilding it with urlunsplit
    would drop the empty host of URLs such as postgresql:///helpdesk.
    """
    parts = urlsplit(url)
    masked = url
    if parts.password is not None:
        userinfo, _, hostport = parts.netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        masked = masked.replace(f"//{parts.netloc}", f"//{user}:{MASK}@{hostport}", 1)

    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if any(key.lower() in _SECRET_QUERY_KEYS for key, _value in pairs):
        query = urlencode(
            [(key, MASK if key.lower() in _SECRET_QUERY_KEYS else value) for key, value in pairs], safe="*/:"
        )
        masked = masked.replace(f"?{parts.query}", f"?{query}", 1)
    return masked


def url_passwords(url: str) -> set[str]:
    """Return the passwords in `url`, both as written and percent-decoded."""
    parts = urlsplit(url)
    found: set[str] = set()
    if parts.password:
        found.update({parts.password, unquote(parts.password)})
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() in _SECRET_QUERY_KEYS and value:
            found.add(value)
    return found


def settings_secrets(settings: Settings) -> set[str]:
    """Return every password and key in the settings that output must not contain."""
    secrets = {settings.secret_key, settings.encryption_key}
    for url in (settings.database_url, settings.broker_url, settings.smtp_url, *settings.mailbox_urls):
        secrets |= url_passwords(url)
    return {secret for secret in secrets if len(secret) >= MIN_SCRUB_LENGTH}


def scrub(text: str, secrets: set[str]) -> str:
    """Replace each secret in `text` by the mask, longest first so that no part of one is left."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
