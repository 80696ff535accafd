"""A real SMTP server on loopback (aiosmtpd) and a certificate made for it, for delivery tests."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
import warnings
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (aiosmtpd cannot bind port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost, as PEM files."""

    cert: Path
    key: Path


def make_certificate(folder: Path) -> Certificate:
    """Generate a key and a self-signed certificate valid for 127.0.0.1 and localhost."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "csp-monitor test mail server")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "server.pem", folder / "server.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return Certificate(cert_path, key_path)


def server_context(certificate: Certificate) -> ssl.SSLContext:
    """The server side TLS context for ``certificate``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(certificate.cert), str(certificate.key))
    return context


@dataclass
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool
    login: str | None

    @property
    def message(self) -> EmailMessage:
        """The message parsed with the default policy."""
        parsed = message_from_bytes(self.data, policy=default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Handler:
    """Records each message; refuses or delays on request."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # address -> reply, e.g. "550 no such user"
    data_reply: str | None = None  # e.g. "451 try later"; None: accept
    delay: float = 0.0
    keep_before_reply: bool = False  # keep the message, then wait: a reply lost in a crash means a resend
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: Any) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay and not self.keep_before_reply:
            await asyncio.sleep(self.delay)
        if self.data_reply:
            return self.data_reply
        login = session.auth_data if isinstance(session.auth_data, str) else None
        with self.lock:
            encrypted = server.transport.get_extra_info("ssl_object") is not None
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content),
                                          encrypted, login))
            number = len(self.received)
        if self.delay and self.keep_before_reply:
            await asyncio.sleep(self.delay)
        return f"250 OK queued as test-{number}"


class LoopbackSmtp:
    """An aiosmtpd server on 127.0.0.1: plain, STARTTLS (``starttls=cert``) or implicit TLS (``tls=cert``)."""

    def __init__(self, *, port: int | None = None, starttls: Certificate | None = None,
                 tls: Certificate | None = None, users: dict[str, str] | None = None,
                 handler: Handler | None = None) -> None:
        self.port = port or free_port()
        self.handler = handler or Handler()
        self._starttls = starttls
        self._tls = tls
        self._users = users
        self._controller: Any = None

    @property
    def received(self) -> list[Received]:
        """Every message accepted so far."""
        return self.handler.received

    def start(self) -> LoopbackSmtp:
        """Start listening (again, on the same port after :meth:`stop`)."""
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        kwargs: dict[str, Any] = {}
        if self._starttls is not None:
            kwargs.update(tls_context=server_context(self._starttls), require_starttls=True)
        if self._tls is not None:
            kwargs.update(ssl_context=server_context(self._tls), server_hostname="localhost")
        if self._users is not None:
            users = self._users

            def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
                login = data.login.decode() if isinstance(data.login, bytes) else data.login
                password = data.password.decode() if isinstance(data.password, bytes) else data.password
                if users.get(login) == password:
                    return AuthResult(success=True, auth_data=login)
                return AuthResult(success=False, handled=False)  # aiosmtpd then replies 535

            # aiosmtpd only counts STARTTLS as TLS; with implicit TLS the whole session is encrypted.
            kwargs.update(authenticator=authenticate, auth_required=True,
                          auth_require_tls=self._tls is None)
        for attempt in range(50):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # AUTH without STARTTLS: it is implicit TLS
                    self._controller = Controller(self.handler, hostname=HOST, port=self.port, **kwargs)
                self._controller.start()
                return self
            except (OSError, RuntimeError):
                time.sleep(0.1 * (attempt + 1))
        raise RuntimeError(f"could not start the test SMTP server on port {self.port}")

    def stop(self) -> None:
        """Stop listening: connections are refused until :meth:`start`."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> LoopbackSmtp:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
