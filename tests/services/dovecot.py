"""A private Dovecot IMAP server on 127.0.0.1 for tests that read real mailboxes.

The session fixture `dovecot` starts Debian's Dovecot with its own base_dir,
configuration, passwd-file users and Maildir storage under a temporary folder.
The function fixture `imap_account` adds a fresh user per test, so tests never
see each other's mail. Plain-text login is allowed because the server listens
on loopback only.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from imapclient import IMAPClient

from tests.services.ports import free_port

DOVECOT_BINARY = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM_BINARY = shutil.which("doveadm") or "/usr/bin/doveadm"
START_TIMEOUT_SECONDS = 15.0

CONFIG_TEMPLATE = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = helpdesk-test-{instance}
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/tls/cert.pem
ssl_key = <{root}/tls/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {system_user}
default_internal_group = {system_group}
default_login_user = {system_user}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{root}/mail/%u/Maildir
mail_uid = {uid}
mail_gid = {gid}
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


def _system_account() -> tuple[str, str, int, int]:
    """Return the unprivileged user, group, uid and gid that the server runs mail as.

    Dovecot rejects uid 0 for mail access, so a root test run uses `nobody`;
    a non-root run uses its own account.
    """
    if os.geteuid() == 0:
        account = pwd.getpwnam("nobody")
    else:
        account = pwd.getpwuid(os.geteuid())
    group = grp.getgrgid(account.pw_gid).gr_name
    return account.pw_name, group, account.pw_uid, account.pw_gid


@dataclass
class ImapAccount:
    """One user on the test server, with helpers that act on its mailbox over IMAP."""

    server: "DovecotServer"
    user: str
    password: str

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def imap_url(self) -> str:
        return self.url()

    def url(self, folder: str = "INBOX", password: str | None = None, scheme: str = "imap", query: str = "") -> str:
        """Return a mailbox URL; scheme "imaps" uses the server's implicit-TLS port."""
        secret = quote(self.password if password is None else password, safe="")
        port = self.server.imaps_port if scheme == "imaps" else self.port
        url = f"{scheme}://{quote(self.user, safe='')}:{secret}@{self.host}:{port}/{quote(folder, safe='')}"
        return f"{url}?{query}" if query else url

    def connect(self) -> IMAPClient:
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(self.user, self.password)
        return client

    def append(self, raw: bytes, folder: str = "INBOX", flags: tuple[bytes, ...] = ()) -> int | None:
        """Store `raw` in `folder` (created when missing) and return its UID."""
        with self.connect() as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            response = client.append(folder, raw, flags=flags)
        return _appended_uid(response)

    def folder_uids(self, folder: str = "INBOX") -> list[int]:
        with self.connect() as client:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            return sorted(client.search("ALL"))

    def flags(self, folder: str = "INBOX") -> dict[int, tuple[bytes, ...]]:
        with self.connect() as client:
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            if not uids:
                return {}
            return {uid: tuple(data[b"FLAGS"]) for uid, data in client.fetch(uids, ["FLAGS"]).items()}

    def uidvalidity(self, folder: str = "INBOX") -> int:
        with self.connect() as client:
            return int(client.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"])

    def set_uidvalidity(self, value: int, folder: str = "INBOX") -> None:
        """Change the folder's UIDVALIDITY, as a server does after rebuilding its index."""
        self.server.doveadm("mailbox", "update", "-u", self.user, "--uid-validity", str(value), folder)


def _write_self_signed_certificate(folder: Path) -> None:
    """Write a certificate and key for 127.0.0.1, valid for one day."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir(parents=True, exist_ok=True)
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
    (folder / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (folder / "key.pem").chmod(0o600)


def _appended_uid(response: bytes) -> int | None:
    # Dovecot replies "[APPENDUID <uidvalidity> <uid>] Append completed."
    text = response.decode("ascii", "replace") if isinstance(response, bytes) else str(response)
    if "APPENDUID" not in text:
        return None
    return int(text.split("APPENDUID", 1)[1].split("]", 1)[0].split()[1])


class DovecotServer:
    """A Dovecot master process with its own configuration under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.host = "127.0.0.1"
        self.port = free_port()
        self.imaps_port = free_port()
        self.process: subprocess.Popen | None = None
        self._system_user, self._system_group, self._uid, self._gid = _system_account()
        self.config_path = root / "dovecot.conf"
        self.default = self.add_user("helpdesk", "geheim-wachtwoord")

    # The default account's attributes, so `dovecot.imap_url` works directly.
    @property
    def user(self) -> str:
        return self.default.user

    @property
    def password(self) -> str:
        return self.default.password

    @property
    def imap_url(self) -> str:
        return self.default.imap_url

    def append(self, raw: bytes, folder: str = "INBOX", flags: tuple[bytes, ...] = ()) -> int | None:
        return self.default.append(raw, folder, flags)

    def add_user(self, user: str | None = None, password: str | None = None) -> ImapAccount:
        """Add a user with its own passwd-file.

        One file per user, because Dovecot notices a changed passwd-file by its
        modification time in seconds and would miss a second user added within
        the same second.
        """
        user = user or f"user{uuid.uuid4().hex[:10]}"
        password = password or uuid.uuid4().hex
        users_dir = self.root / "users"
        users_dir.mkdir(exist_ok=True)
        users_dir.chmod(0o755)
        users_path = users_dir / user
        users_path.write_text(f"{user}:{password}::::::\n")
        users_path.chmod(0o644)
        return ImapAccount(self, user, password)

    @property
    def ca_file(self) -> Path:
        """The self-signed certificate that clients must trust for STARTTLS and imaps."""
        return self.root / "tls" / "cert.pem"

    def start(self) -> None:
        for folder in ("run", "state", "mail"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        if not self.ca_file.exists():
            _write_self_signed_certificate(self.root / "tls")
        os.chown(self.root / "mail", self._uid, self._gid)
        self.config_path.write_text(
            CONFIG_TEMPLATE.format(
                root=self.root,
                instance=self.root.name,
                port=self.port,
                imaps_port=self.imaps_port,
                system_user=self._system_user,
                system_group=self._system_group,
                uid=self._uid,
                gid=self._gid,
            )
        )
        with open(self.root / "stderr.log", "ab") as stderr:
            self.process = subprocess.Popen(
                [DOVECOT_BINARY, "-F", "-c", str(self.config_path)],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        self._wait_until_listening()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        self._wait_until_closed()

    def restart(self) -> None:
        self.stop()
        self.start()

    def doveadm(self, *arguments: str) -> str:
        result = subprocess.run(
            [DOVEADM_BINARY, "-c", str(self.config_path), *arguments],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if result.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(arguments)} failed: {result.stderr.strip()}")
        return result.stdout

    def log_tail(self, lines: int = 20) -> str:
        path = self.root / "dovecot.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = (self.root / "stderr.log").read_text(errors="replace")
                raise RuntimeError(f"dovecot exited with code {self.process.returncode}: {error}\n{self.log_tail()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as sock:
                    if sock.recv(64).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not listen on {self.host}:{self.port} within {START_TIMEOUT_SECONDS}s")

    def _wait_until_closed(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            try:
                socket.create_connection((self.host, self.port), timeout=0.5).close()
            except OSError:
                return
            time.sleep(0.05)


@pytest.fixture(scope="session")
def dovecot():
    """Start a private Dovecot for the whole test session."""
    if not Path(DOVECOT_BINARY).exists():
        pytest.skip("dovecot binary not found: install Debian's dovecot-imapd to run the IMAP tests")

    # Not under pytest's tmp_path: its folders are private to the test user,
    # and Dovecot's auth and mail processes run as an unprivileged user.
    root = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))
    root.chmod(0o755)
    server = DovecotServer(root)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def imap_account(dovecot) -> ImapAccount:
    """A fresh, empty mailbox user on the session's Dovecot."""
    if dovecot.process is None:
        dovecot.start()
    return dovecot.add_user()
