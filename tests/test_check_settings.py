"""`helpdesk check`: keys, public URL, sender address and the metrics folder."""

from __future__ import annotations

import base64
import hashlib

import pytest

from helpdesk.checks import CheckContext, Status
from helpdesk.checks.addresses import check_from_address, check_public_url
from helpdesk.checks.runner import check_metrics_directory
from helpdesk.checks.secrets import check_encryption_key, check_secret_key
from helpdesk.config import INSECURE_SECRET_KEY
from helpdesk.crypto import generate_key
from helpdesk.metrics import MULTIPROCESS_DIR_VARIABLE

STRONG_SECRET = "k3Wq9xZ-7pLm2VbN8cR4tY6uI0oP1aSdFgHjKl"


def dutch(settings) -> CheckContext:
    return CheckContext(settings=settings, gettext=lambda text: text, timeout=5)


def test_valid_encryption_key_passes(sqlite_settings):
    settings = sqlite_settings.with_overrides(encryption_key=generate_key())

    assert check_encryption_key(dutch(settings)).status is Status.OK


def test_missing_encryption_key_fails(sqlite_settings):
    result = check_encryption_key(dutch(sqlite_settings.with_overrides(encryption_key="")))

    assert result.status is Status.FAILED
    assert "helpdesk keygen" in result.message


def test_invalid_encryption_key_fails(sqlite_settings):
    settings = sqlite_settings.with_overrides(encryption_key="not-a-fernet-key")

    result = check_encryption_key(dutch(settings))

    assert result.status is Status.FAILED
    assert "geen geldige Fernet-sleutel" in result.message
    assert "not-a-fernet-key" not in result.message


def test_development_encryption_key_fails(sqlite_settings):
    # The key that crypto derives from the development secret, written out.
    derived = base64.urlsafe_b64encode(
        hashlib.sha256(b"helpdesk-encryption:" + INSECURE_SECRET_KEY.encode()).digest()
    ).decode()
    settings = sqlite_settings.with_overrides(encryption_key=derived, secret_key=STRONG_SECRET)

    result = check_encryption_key(dutch(settings))

    assert result.status is Status.FAILED
    assert "ontwikkelgeheim" in result.message


@pytest.mark.parametrize(
    ("secret_key", "status"),
    [
        (INSECURE_SECRET_KEY, Status.FAILED),
        ("short-secret", Status.FAILED),
        (STRONG_SECRET, Status.OK),
    ],
)
def test_secret_key(sqlite_settings, secret_key, status):
    result = check_secret_key(dutch(sqlite_settings.with_overrides(secret_key=secret_key)))

    assert result.status is status
    assert secret_key not in result.message


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("https://vragen.helpdesk.example.org", Status.OK),
        ("https://helpdesk.example.org/faq", Status.OK),
        ("http://vragen.helpdesk.example.org", Status.FAILED),
        ("http://127.0.0.1:8000", Status.FAILED),
        ("https://localhost", Status.FAILED),
        ("https://helpdesk.test", Status.FAILED),
        ("https://helpdesk.example.org/?a=1", Status.FAILED),
        ("helpdesk.example.org", Status.FAILED),
        ("ftp://helpdesk.example.org", Status.FAILED),
    ],
)
def test_public_url(sqlite_settings, url, status):
    result = check_public_url(dutch(sqlite_settings.with_overrides(public_url=url)))

    assert result.status is status
    assert url in result.message


@pytest.mark.parametrize(
    ("address", "status"),
    [
        ("vragen@helpdesk.example.org", Status.OK),
        ("vragen@helpdesk.invalid", Status.FAILED),
        ("vragen@localhost", Status.FAILED),
        ("vragen", Status.FAILED),
        ("Helpdesk <vragen@helpdesk.example.org>", Status.FAILED),
        ("", Status.FAILED),
    ],
)
def test_from_address(sqlite_settings, address, status):
    result = check_from_address(dutch(sqlite_settings.with_overrides(from_address=address)))

    assert result.status is status


def test_metrics_directory_unset_warns(sqlite_settings, monkeypatch):
    monkeypatch.delenv(MULTIPROCESS_DIR_VARIABLE, raising=False)

    result = check_metrics_directory(dutch(sqlite_settings))

    assert result.status is Status.WARNING
    assert "`helpdesk metrics`" in result.message
    assert "/metrics toont" not in result.message  # the web app serves no /metrics page


def test_metrics_directory_missing_fails(sqlite_settings, monkeypatch, tmp_path):
    monkeypatch.setenv(MULTIPROCESS_DIR_VARIABLE, str(tmp_path / "missing"))

    result = check_metrics_directory(dutch(sqlite_settings))

    assert result.status is Status.FAILED
    assert str(tmp_path / "missing") in result.message


def test_metrics_directory_present_passes(sqlite_settings, monkeypatch, tmp_path):
    monkeypatch.setenv(MULTIPROCESS_DIR_VARIABLE, str(tmp_path))

    assert check_metrics_directory(dutch(sqlite_settings)).status is Status.OK
