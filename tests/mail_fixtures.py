"""A real SMTP server on loopback (aiosmtpd) and a certificate made for it, for delivery tests."""

from __future__ import annotations

import asyncio
import contextlib
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
        self.logins: list[str] = []  # every login tried, right or wrong, in order

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
                self.logins.append(login)
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


CLOSE = "<close>"
"""What a :class:`ScriptedSmtp` hook returns to drop the connection instead of replying."""


@dataclass
class ScriptedSession:
    """One connection to a :class:`ScriptedSmtp`: its envelope so far and what was said."""

    number: int
    mail_from: str = ""
    rcpt_tos: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)


class ScriptedSmtp:
    """A small SMTP server on 127.0.0.1 written on raw sockets, for misbehaviour aiosmtpd cannot be made to show
    (a 554 greeting, a 421 or a dropped connection at any step, long, multi-line or control-character replies).

    Each hook returns the reply to send (lines joined by newlines become a multi-line reply; after a 421 the
    connection is closed, as RFC 5321 says) or :data:`CLOSE`;
    subclass and override them. By default it behaves: every message is recorded in :attr:`received` with the
    recipients accepted, as :class:`Received`.
    """

    extensions: tuple[str, ...] = ("8BITMIME", "PIPELINING")

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.sessions: list[ScriptedSession] = []
        self.lock = threading.Lock()
        self._listener = socket.create_server((HOST, 0))
        self.port = int(self._listener.getsockname()[1])
        self._closed = False

    # The hooks, one per step of the conversation.
    def greeting(self, session: ScriptedSession) -> str:
        return "220 scripted.test ESMTP"

    def ehlo(self, session: ScriptedSession) -> str:
        return "\n".join(["250-scripted.test", *(f"250-{name}" for name in self.extensions[:-1]),
                          f"250 {self.extensions[-1]}"] if self.extensions else ["250 scripted.test"])

    def mail(self, session: ScriptedSession, address: str) -> str:
        return "250 2.1.0 OK"

    def rcpt(self, session: ScriptedSession, address: str) -> str:
        return "250 2.1.5 OK"

    def data(self, session: ScriptedSession) -> str:
        return "354 go ahead"

    def data_end(self, session: ScriptedSession, number: int) -> str:
        return f"250 2.0.0 OK queued as scripted-{number}"

    def starttls(self, session: ScriptedSession) -> str:
        """The reply to STARTTLS (offer it in :attr:`extensions`); after a 220 this server cannot do TLS: it
        answers the handshake with plain text and closes, as a broken TLS set-up would."""
        return "454 4.7.0 TLS not available"

    def after_accepting(self, session: ScriptedSession) -> bool:
        """True to close the connection at once after a message was accepted (before QUIT)."""
        return False

    def start(self) -> ScriptedSmtp:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.close()

    def __enter__(self) -> ScriptedSmtp:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._closed:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with self.lock:
            session = ScriptedSession(len(self.sessions) + 1)
            self.sessions.append(session)
        stream = connection.makefile("rb")
        try:
            if not self._say(connection, self.greeting(session)):
                return
            while True:
                line = stream.readline()
                if not line:
                    return
                command = line.decode("utf-8", "replace").rstrip("\r\n")
                session.commands.append(command)
                verb, _, argument = command.partition(" ")
                verb = verb.upper()
                if verb in ("EHLO", "HELO"):
                    reply = self.ehlo(session)
                elif verb == "MAIL":
                    session.mail_from, session.rcpt_tos = _angle(argument), []
                    reply = self.mail(session, session.mail_from)
                elif verb == "RCPT":
                    address = _angle(argument)
                    reply = self.rcpt(session, address)
                    if reply.startswith("25"):
                        session.rcpt_tos.append(address)
                elif verb == "DATA":
                    reply = self.data(session)
                    if not self._say(connection, reply):
                        return
                    if not reply.startswith("354"):
                        continue
                    body = bytearray()
                    while (chunk := stream.readline()) not in (b".\r\n", b""):
                        body += chunk[1:] if chunk.startswith(b"..") else chunk
                    if not chunk:
                        return
                    with self.lock:
                        number = len(self.received) + 1
                        reply = self.data_end(session, number)
                        if reply.startswith("250"):
                            self.received.append(Received(session.mail_from, list(session.rcpt_tos),
                                                          bytes(body), False, None))
                    if not self._say(connection, reply) or (reply.startswith("250")
                                                            and self.after_accepting(session)):
                        return
                    continue
                elif verb == "STARTTLS":
                    reply = self.starttls(session)
                    if reply.startswith("220"):
                        self._say(connection, reply)
                        connection.sendall(b"this is not TLS\r\n")
                        return
                elif verb == "RSET":
                    session.rcpt_tos = []
                    reply = "250 OK"
                elif verb == "NOOP":
                    reply = "250 OK"
                elif verb == "QUIT":
                    self._say(connection, "221 bye")
                    return
                else:
                    reply = "502 5.5.2 not implemented"
                if not self._say(connection, reply):
                    return
        except OSError:
            return
        finally:
            with contextlib.suppress(OSError):
                stream.close()
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                connection.close()

    @staticmethod
    def _say(connection: socket.socket, reply: str) -> bool:
        if reply == CLOSE:
            return False
        lines = reply.split("\n")
        wire = [f"{line[:3]}-{line[4:]}" for line in lines[:-1]] + [lines[-1]]
        connection.sendall("".join(f"{line}\r\n" for line in wire).encode("utf-8"))
        return not reply.startswith("421")  # RFC 5321 4.2.2: the server closes the connection after a 421


def _angle(argument: str) -> str:
    """The address inside ``FROM:<...>`` or ``TO:<...>``."""
    start, end = argument.find("<"), argument.find(">")
    return argument[start + 1:end] if 0 <= start < end else argument.partition(":")[2].strip()
