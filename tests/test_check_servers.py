"""`helpdesk check`: broker, mailboxes and SMTP against real servers and folders on 127.0.0.1."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import time

import pytest
import redis
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from helpdesk.checks import CheckContext, Status
from helpdesk.checks.servers import check_broker, check_mailboxes, check_smtp
from tests.services.ports import free_port

SMTP_USER = "helpdesk"
SMTP_PASSWORD = "smtp-geheim-4711"
REDIS_PASSWORD = "redis-geheim-0815"


def dutch(settings) -> CheckContext:
    return CheckContext(settings=settings, gettext=lambda text: text, timeout=5)


def maildir(path):
    for name in ("cur", "new", "tmp"):
        (path / name).mkdir(parents=True, exist_ok=True)
    return path


# Broker


@pytest.mark.redis
def test_local_redis_passes(sqlite_settings, redis_url):
    result = check_broker(dutch(sqlite_settings.with_overrides(broker_url=redis_url)))

    assert result.status is Status.OK, result.message


def test_redis_on_closed_port_fails(sqlite_settings):
    url = f"redis://127.0.0.1:{free_port()}/0"

    result = check_broker(dutch(sqlite_settings.with_overrides(broker_url=url)))

    assert result.status is Status.FAILED
    assert "niet bereikbaar" in result.message


@pytest.fixture
def redis_with_password(tmp_path):
    """Start a private redis-server that requires REDIS_PASSWORD; return its port."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (scripts/setup.sh installs it)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path), "--requirepass", REDIS_PASSWORD],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port, password=REDIS_PASSWORD, socket_connect_timeout=1)
    try:
        for _ in range(150):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail(f"redis-server on port {port} did not start")
        yield port
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.redis
def test_redis_with_right_password_passes(sqlite_settings, redis_with_password):
    url = f"redis://:{REDIS_PASSWORD}@127.0.0.1:{redis_with_password}/0"

    result = check_broker(dutch(sqlite_settings.with_overrides(broker_url=url)))

    assert result.status is Status.OK, result.message
    assert REDIS_PASSWORD not in result.message
    assert REDIS_PASSWORD not in result.target


@pytest.mark.redis
def test_redis_with_wrong_password_fails(sqlite_settings, redis_with_password):
    url = f"redis://:wrong-password-1234@127.0.0.1:{redis_with_password}/0"

    result = check_broker(dutch(sqlite_settings.with_overrides(broker_url=url)))

    assert result.status is Status.FAILED
    assert "wachtwoord" in result.message
    assert "wrong-password-1234" not in result.message


def test_filesystem_broker_folder_passes(sqlite_settings, tmp_path):
    url = f"filesystem://{tmp_path / 'broker'}"

    result = check_broker(dutch(sqlite_settings.with_overrides(broker_url=url)))

    assert result.status is Status.OK
    assert str(tmp_path / "broker") in result.message


def test_filesystem_broker_on_a_file_fails(sqlite_settings, tmp_path):
    (tmp_path / "broker").write_text("")
    url = f"filesystem://{tmp_path / 'broker'}"

    result = check_broker(dutch(sqlite_settings.with_overrides(broker_url=url)))

    assert result.status is Status.FAILED


def test_unknown_broker_scheme_fails(sqlite_settings):
    result = check_broker(dutch(sqlite_settings.with_overrides(broker_url="amqp://guest:guest@127.0.0.1//")))

    assert result.status is Status.FAILED
    assert "'amqp'" in result.message


# Mailboxes


def test_maildir_passes(sqlite_settings, tmp_path):
    folder = maildir(tmp_path / "Maildir")

    results = check_mailboxes(dutch(sqlite_settings.with_overrides(mailbox_urls=(f"maildir:{folder}",))))

    assert [result.status for result in results] == [Status.OK]


def test_maildir_without_subfolders_fails(sqlite_settings, tmp_path):
    folder = tmp_path / "Maildir"
    (folder / "new").mkdir(parents=True)

    [result] = check_mailboxes(dutch(sqlite_settings.with_overrides(mailbox_urls=(f"maildir:{folder}",))))

    assert result.status is Status.FAILED
    assert "cur, tmp" in result.message
    assert "mkdir -p" in result.message


def test_each_mailbox_gets_a_result(sqlite_settings, tmp_path):
    good = maildir(tmp_path / "good")
    urls = (f"maildir:{good}", f"maildir:{tmp_path / 'missing'}")

    results = check_mailboxes(dutch(sqlite_settings.with_overrides(mailbox_urls=urls)))

    assert [result.status for result in results] == [Status.OK, Status.FAILED]


def test_invalid_mailbox_url_fails(sqlite_settings):
    settings = sqlite_settings.with_overrides(mailbox_urls=("pop3://user:pw-9876@mail.example.org",))

    [result] = check_mailboxes(dutch(settings))

    assert result.status is Status.FAILED
    assert "pw-9876" not in result.message


def test_plain_imap_login_remote_fails(sqlite_settings):
    # mail.example.org is never contacted: the check stops before connecting.
    settings = sqlite_settings.with_overrides(mailbox_urls=("imap://user:pw-9876@mail.example.org/INBOX",))

    [result] = check_mailboxes(dutch(settings))

    assert result.status is Status.FAILED
    assert "onversleuteld" in result.message
    assert "pw-9876" not in result.message


@pytest.mark.dovecot
def test_imap_login_passes(sqlite_settings, imap_account):
    settings = sqlite_settings.with_overrides(mailbox_urls=(imap_account.imap_url,))

    [result] = check_mailboxes(dutch(settings))

    assert result.status is Status.OK, result.message
    assert imap_account.password not in result.message
    assert imap_account.password not in result.target


@pytest.mark.dovecot
def test_imap_wrong_password_fails(sqlite_settings, imap_account):
    settings = sqlite_settings.with_overrides(mailbox_urls=(imap_account.url(password="wrong-password-1234"),))

    [result] = check_mailboxes(dutch(settings))

    assert result.status is Status.FAILED
    assert "weigert de login" in result.message
    assert "wrong-password-1234" not in result.message


@pytest.mark.dovecot
def test_imap_missing_folder_fails(sqlite_settings, imap_account):
    settings = sqlite_settings.with_overrides(mailbox_urls=(imap_account.url(folder="Bestaat-Niet"),))

    [result] = check_mailboxes(dutch(settings))

    assert result.status is Status.FAILED
    assert "Bestaat-Niet" in result.message


def test_imap_on_closed_port_fails(sqlite_settings):
    url = f"imap://user:pw-9876@127.0.0.1:{free_port()}/INBOX"

    [result] = check_mailboxes(dutch(sqlite_settings.with_overrides(mailbox_urls=(url,))))

    assert result.status is Status.FAILED
    assert "niet bereikbaar" in result.message


# SMTP


def test_smtp_server_without_login_passes(sqlite_settings, smtp_server):
    result = check_smtp(dutch(sqlite_settings.with_overrides(smtp_url=smtp_server.url)))

    assert result.status is Status.OK, result.message
    assert smtp_server.received == [], "the check must not send mail"


class PasswordCheck:
    def __call__(self, server, session, envelope, mechanism, auth_data):
        expected = (SMTP_USER.encode(), SMTP_PASSWORD.encode())
        if isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == expected:
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


class Discard:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


@pytest.fixture
def smtp_login_server():
    """Start aiosmtpd with AUTH on a loopback port, without TLS; return its port."""
    port = free_port()
    controller = Controller(
        Discard(), hostname="127.0.0.1", port=port, authenticator=PasswordCheck(), auth_require_tls=False
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def test_smtp_login_passes(sqlite_settings, smtp_login_server):
    url = f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{smtp_login_server}"

    result = check_smtp(dutch(sqlite_settings.with_overrides(smtp_url=url)))

    assert result.status is Status.OK, result.message
    assert "Inloggen" in result.message
    assert SMTP_PASSWORD not in result.message


def test_smtp_wrong_password_fails(sqlite_settings, smtp_login_server):
    url = f"smtp://{SMTP_USER}:wrong-password-1234@127.0.0.1:{smtp_login_server}"

    result = check_smtp(dutch(sqlite_settings.with_overrides(smtp_url=url)))

    assert result.status is Status.FAILED
    assert "weigert de login" in result.message
    assert "wrong-password-1234" not in result.message


@pytest.fixture
def starttls_server(tmp_path):
    """Start aiosmtpd that requires STARTTLS with a self-signed certificate; return (port, certificate file)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed; it makes the test certificate")
    certificate, key = tmp_path / "server.pem", tmp_path / "server.key"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(certificate)],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    port = free_port()
    controller = Controller(Discard(), hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True)
    controller.start()
    try:
        yield port, certificate
    finally:
        controller.stop()


def test_starttls_unknown_certificate_fails(sqlite_settings, starttls_server):
    port, _certificate = starttls_server

    result = check_smtp(dutch(sqlite_settings.with_overrides(smtp_url=f"smtp://127.0.0.1:{port}?starttls=1")))

    assert result.status is Status.FAILED
    assert "certificaat" in result.message
    assert "cafile" in result.message


def test_starttls_with_cafile_passes(sqlite_settings, starttls_server):
    port, certificate = starttls_server
    url = f"smtp://127.0.0.1:{port}?starttls=1&cafile={certificate}"

    result = check_smtp(dutch(sqlite_settings.with_overrides(smtp_url=url)))

    assert result.status is Status.OK, result.message


def test_smtp_starttls_unsupported_fails(sqlite_settings, smtp_server):
    result = check_smtp(dutch(sqlite_settings.with_overrides(smtp_url=f"{smtp_server.url}?starttls=1")))

    assert result.status is Status.FAILED
    assert "STARTTLS" in result.message


def test_smtp_on_closed_port_fails(sqlite_settings):
    url = f"smtp://127.0.0.1:{free_port()}"

    result = check_smtp(dutch(sqlite_settings.with_overrides(smtp_url=url)))

    assert result.status is Status.FAILED
    assert "niet bereikbaar" in result.message


def test_plain_smtp_login_remote_fails(sqlite_settings):
    url = "smtp://helpdesk:pw-9876@mail.example.org:587"

    result = check_smtp(dutch(sqlite_settings.with_overrides(smtp_url=url)))

    assert result.status is Status.FAILED
    assert "onversleuteld" in result.message
    assert "pw-9876" not in result.message


def test_file_outbox_warns(sqlite_settings, tmp_path):
    result = check_smtp(dutch(sqlite_settings.with_overrides(smtp_url=f"file:{tmp_path / 'outbox'}")))

    assert result.status is Status.WARNING
    assert str(tmp_path / "outbox") in result.message


def test_file_outbox_on_a_file_fails(sqlite_settings, tmp_path):
    (tmp_path / "outbox").write_text("")

    result = check_smtp(dutch(sqlite_settings.with_overrides(smtp_url=f"file:{tmp_path / 'outbox'}")))

    assert result.status is Status.FAILED


def test_invalid_smtp_url_fails(sqlite_settings):
    result = check_smtp(dutch(sqlite_settings.with_overrides(smtp_url="smtp://user:pw-9876@mail.example.org?tls=1")))

    assert result.status is Status.FAILED
    assert "HELPDESK_SMTP_URL" in result.message
    assert "pw-9876" not in result.message
