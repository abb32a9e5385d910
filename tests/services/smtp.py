"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Callable

import pytest
from aiosmtpd.controller import Controller

from tests.services.ports import free_port


@dataclass
class ReceivedMail:
    envelope_from: str
    envelope_to: list[str]
    message: EmailMessage


@dataclass
class SmtpServer:
    host: str
    port: int
    received: list[ReceivedMail] = field(default_factory=list)
    # Runs after the DATA of each mail and before the server replies 250, in the server's thread.
    before_accept: Callable[[], None] | None = None
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMail]:
        """Block until `count` mails arrived; raise AssertionError naming the shortfall."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"SMTP server received {len(self.received)} mails, expected {count}")
                self._arrived.wait(remaining)
            return list(self.received)


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, _server, _session, envelope) -> str:
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        if self.server.before_accept is not None:
            self.server.before_accept()
        with self.server._arrived:
            self.server.received.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message))
            self.server._arrived.notify_all()
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    """Start aiosmtpd on a free loopback port for one test."""
    server = SmtpServer(host="127.0.0.1", port=free_port())
    controller = Controller(_Handler(server), hostname=server.host, port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
