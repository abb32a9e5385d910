import pytest

from helpdesk.config import ConfigError
from helpdesk.crypto import AES_GCM_VERSION, decrypt, decrypt_bytes, encrypt, encrypt_to_text, fernet, generate_key
from tests.conftest import make_settings


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path / "var", "sqlite://", HELPDESK_ENCRYPTION_KEY=generate_key())


def test_binary_round_trip(settings):
    data = bytes(range(256)) * 1000

    token = encrypt(settings, data)

    assert token.startswith(AES_GCM_VERSION)
    assert data[:64] not in token
    assert decrypt_bytes(settings, token) == data


def test_text_round_trip(settings):
    token = encrypt(settings, "client@example.test")

    assert b"client" not in token
    assert decrypt(settings, token) == "client@example.test"


def test_equal_plaintexts_get_own_tokens(settings):
    assert encrypt(settings, b"dezelfde scan") != encrypt(settings, b"dezelfde scan")


def test_fernet_tokens_stored_before_still_decrypt(settings):
    token = fernet(settings).encrypt(b"raw mail from before")

    assert decrypt_bytes(settings, token) == b"raw mail from before"


def test_text_tokens_are_ascii_fernet_tokens(settings):
    token = encrypt_to_text(settings, "JBSWY3DPEHPK3PXP")

    assert token.startswith("gAAAAA")
    assert fernet(settings).decrypt(token.encode("ascii")) == b"JBSWY3DPEHPK3PXP"


@pytest.mark.parametrize("make_token", [encrypt, lambda settings, data: fernet(settings).encrypt(data)])
def test_other_key_cannot_decrypt(settings, make_token):
    token = make_token(settings, b"adres")
    other = settings.with_overrides(encryption_key=generate_key())

    with pytest.raises(ConfigError, match="restore the key"):
        decrypt_bytes(other, token)


def test_tampered_token_rejected(settings):
    token = bytearray(encrypt(settings, b"uitslag"))
    token[-1] ^= 1

    with pytest.raises(ConfigError, match="cannot be decrypted"):
        decrypt_bytes(settings, bytes(token))


def test_invalid_key_named_in_error(settings):
    broken = settings.with_overrides(encryption_key="not-a-fernet-key")

    with pytest.raises(ConfigError, match="HELPDESK_ENCRYPTION_KEY is not a valid Fernet key"):
        encrypt(broken, b"adres")
