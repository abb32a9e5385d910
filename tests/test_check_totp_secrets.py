import pyotp

from helpdesk.accounts import services
from helpdesk.accounts.models import Role, User
from helpdesk.checks import CheckContext, Status
from helpdesk.checks.database import check_totp_secrets
from helpdesk.crypto import generate_key
from helpdesk.db import session_scope

PASSWORD = "correct horse battery staple"


def dutch(settings) -> CheckContext:
    return CheckContext(settings=settings, gettext=lambda text: text, timeout=5)


def add_user(settings, email: str, **fields) -> int:
    with session_scope(settings) as session:
        user = services.create_user(session, email, PASSWORD, Role.ADMIN)
        for name, value in fields.items():
            setattr(user, name, value)
        session.flush()
        return user.id


def enrol(settings, user_id: int) -> None:
    with session_scope(settings) as session:
        user = session.get(User, user_id)
        secret = services.pending_totp_secret(settings, user)
        services.enable_totp(session, settings, user, PASSWORD, pyotp.TOTP(secret).now())


def test_encrypted_secrets_pass(settings):
    keyed = settings.with_overrides(encryption_key=generate_key())
    enrol(keyed, add_user(keyed, "boss@helpdesk.test"))

    result = check_totp_secrets(dutch(keyed), database_ready=True, key_valid=True)

    assert result.status is Status.OK
    assert "De 1 opgeslagen TOTP-sleutels" in result.message


def test_secrets_under_other_key_fail(settings):
    keyed = settings.with_overrides(encryption_key=generate_key())
    enrol(keyed, add_user(keyed, "boss@helpdesk.test"))
    other = keyed.with_overrides(encryption_key=generate_key())

    result = check_totp_secrets(dutch(other), database_ready=True, key_valid=True)

    assert result.status is Status.FAILED
    assert result.message.startswith("1 TOTP-sleutels")
    assert "HELPDESK_ENCRYPTION_KEY" in result.message


def test_plaintext_secret_warns(settings):
    add_user(settings, "old@helpdesk.test", totp_secret=pyotp.random_base32())

    result = check_totp_secrets(dutch(settings), database_ready=True, key_valid=True)

    assert result.status is Status.WARNING
    assert "onversleuteld" in result.message


def test_no_secrets_pass(settings):
    result = check_totp_secrets(dutch(settings), database_ready=True, key_valid=True)

    assert result.status is Status.OK
    assert "nog geen" in result.message


def test_skipped_without_valid_key(settings):
    result = check_totp_secrets(dutch(settings), database_ready=True, key_valid=False)

    assert result.status is Status.SKIPPED
