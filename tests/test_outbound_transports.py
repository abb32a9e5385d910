"""Transports: URL parsing, the file outbox, and SMTP with STARTTLS, TLS and login."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from helpdesk.config import ConfigError
from helpdesk.outbound.transports import (
    DEFAULT_SMTP_TIMEOUT_SECONDS,
    DeliveryError,
    FileTransport,
    SmtpTransport,
    transport_for,
)
from tests.conftest import make_settings
from tests.services.ports import free_port
from tests.services.smtp import SmtpServer, _Handler


def settings_with(tmp_path, smtp_url: str):
    return make_settings(tmp_path / "var", f"sqlite:///{tmp_path / 'unused.sqlite3'}", HELPDESK_SMTP_URL=smtp_url)


def sample_mail() -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Helpdesk <vragen@helpdesk.test>"
    mail["To"] = "klant@example.org"
    mail["Subject"] = "Re: vraag [#1]"
    mail.set_content("Antwoord\n")
    return mail


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """Write a self-signed certificate for 127.0.0.1 and return (certificate file, key file)."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_file = folder / "server.pem"
    key_file = folder / "server.key"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return certificate_file, key_file


class PasswordCheck:
    def __init__(self, username: str, password: str) -> None:
        self.expected = (username.encode(), password.encode())

    def __call__(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == self.expected:
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


@pytest.fixture
def tls_server(certificate):
    """Start aiosmtpd on 127.0.0.1 that needs STARTTLS (or TLS from the start) and a login."""
    controllers = []

    def start(implicit_tls: bool = False) -> SmtpServer:
        certificate_file, key_file = certificate
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificate_file, key_file)
        server = SmtpServer(host="127.0.0.1", port=free_port())
        # aiosmtpd only counts STARTTLS as TLS for its auth_require_tls check, so
        # with TLS from the start the login must be allowed explicitly.
        if implicit_tls:
            options = {"ssl_context": context, "auth_require_tls": False}
        else:
            options = {"tls_context": context, "require_starttls": True, "auth_require_tls": True}
        controller = Controller(
            _Handler(server),
            hostname=server.host,
            port=server.port,
            authenticator=PasswordCheck("helpdesk", "geheim wachtwoord"),
            **options,
        )
        controller.start()
        controllers.append(controller)
        return server

    yield start
    for controller in controllers:
        controller.stop()


def test_default_is_file_outbox(tmp_path):
    settings = make_settings(tmp_path / "var", f"sqlite:///{tmp_path / 'unused.sqlite3'}")

    transport = transport_for(settings)

    assert transport == FileTransport(settings.outbox_dir)


def test_smtp_url_options(tmp_path):
    url = "smtp://helpdesk%40org:p%40ss@mail.example.org:587?starttls=1&timeout=12.5&cafile=/etc/ca.pem"

    transport = transport_for(settings_with(tmp_path, url))

    assert transport == SmtpTransport(
        host="mail.example.org",
        port=587,
        starttls=True,
        username="helpdesk@org",
        password="p@ss",
        timeout=12.5,
        cafile="/etc/ca.pem",
        helo_name="helpdesk.test",
    )


def test_smtps_url_defaults(tmp_path):
    transport = transport_for(settings_with(tmp_path, "smtps://mail.example.org"))

    assert transport.implicit_tls is True
    assert transport.port == 465
    assert transport.starttls is False
    assert transport.timeout == DEFAULT_SMTP_TIMEOUT_SECONDS


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("imap://mail.example.org", "unknown scheme 'imap'"),
        ("smtp://", "has no host name"),
        ("smtp://user:secret@mail.example.org:99999", "invalid port"),
        ("smtp://user:secret@mail.example.org?starttls=maybe", "starttls='maybe'"),
        ("smtp://user:secret@mail.example.org?timeout=0", "timeout='0'"),
        ("smtp://user:secret@mail.example.org?tls=1", "unknown options tls"),
        ("file:", "has no folder"),
    ],
)
def test_invalid_smtp_url_names_problem(tmp_path, url, message):
    with pytest.raises(ConfigError, match=message) as raised:
        transport_for(settings_with(tmp_path, url))

    assert "secret" not in str(raised.value)


def test_file_outbox_leaves_no_temporary_files(tmp_path):
    outbox = tmp_path / "outbox"
    transport = FileTransport(outbox)

    transport.send(sample_mail(), "vragen@helpdesk.test", "klant@example.org")
    transport.send(sample_mail(), "vragen@helpdesk.test", "klant@example.org")

    names = sorted(path.name for path in outbox.iterdir())
    assert len(names) == 2
    assert all(name.endswith(".eml") and not name.startswith(".") for name in names)


def test_file_outbox_unwritable_raises_delivery_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")

    with pytest.raises(DeliveryError, match="writing to the outbox folder") as raised:
        FileTransport(blocker / "outbox").send(sample_mail(), "vragen@helpdesk.test", "klant@example.org")

    assert raised.value.permanent is False


def test_starttls_rejects_unknown_certificate(tls_server):
    server = tls_server()
    transport = SmtpTransport(host=server.host, port=server.port, starttls=True, timeout=10)

    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED") as raised:
        transport.send(sample_mail(), "vragen@helpdesk.test", "klant@example.org")

    assert raised.value.permanent is False
    assert server.received == []


def test_starttls_with_cafile_and_login(tls_server, certificate):
    server = tls_server()
    transport = SmtpTransport(
        host=server.host,
        port=server.port,
        starttls=True,
        username="helpdesk",
        password="geheim wachtwoord",
        timeout=10,
        cafile=str(certificate[0]),
    )

    transport.send(sample_mail(), "vragen@helpdesk.test", "klant@example.org")

    received = server.wait_for(1)
    assert received[0].envelope_to == ["klant@example.org"]
    assert received[0].message["Subject"] == "Re: vraag [#1]"


def test_implicit_tls_with_cafile(tls_server, certificate):
    server = tls_server(implicit_tls=True)
    transport = SmtpTransport(
        host=server.host,
        port=server.port,
        implicit_tls=True,
        username="helpdesk",
        password="geheim wachtwoord",
        timeout=10,
        cafile=str(certificate[0]),
    )

    transport.send(sample_mail(), "vragen@helpdesk.test", "klant@example.org")

    assert len(server.wait_for(1)) == 1


def test_wrong_password_is_retryable(tls_server, certificate):
    server = tls_server()
    transport = SmtpTransport(
        host=server.host,
        port=server.port,
        starttls=True,
        username="helpdesk",
        password="fout",
        timeout=10,
        cafile=str(certificate[0]),
    )

    with pytest.raises(DeliveryError, match="SMTP login failed") as raised:
        transport.send(sample_mail(), "vragen@helpdesk.test", "klant@example.org")

    assert raised.value.permanent is False
    assert raised.value.code == 535
    assert server.received == []


def test_refused_connection_is_retryable():
    transport = SmtpTransport(host="127.0.0.1", port=free_port(), timeout=5)

    with pytest.raises(DeliveryError, match="SMTP connection to 127.0.0.1") as raised:
        transport.send(sample_mail(), "vragen@helpdesk.test", "klant@example.org")

    assert raised.value.permanent is False
    assert raised.value.code is None
