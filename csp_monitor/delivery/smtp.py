"""Send through an SMTP server: TLS verified, credentials from the environment, a timeout on every call.

* ``starttls``: connect in plain text, then upgrade with STARTTLS before
  anything else is said; a server that does not offer STARTTLS is refused
  rather than spoken to in the clear.
* ``tls``: TLS from the first byte (usually port 465).
* ``none``: plain text, only ever to this machine (a local relay); checked
  when the configuration is read and again here.

Certificates are verified with ``ssl.create_default_context()`` (hostname
and chain); a council's internal CA can be added with ``ca_file``. Every
network call carries the configured timeout (``smtplib`` sets it on the
socket). The password is passed in, used for ``AUTH`` and never logged or
put in an error message.

Replies are classified the way RFC 5321 means them: 4xx (and a dropped or
refused connection, or a timeout) is transient, try again later; 5xx is
permanent. A timeout or a dropped connection after the whole message was
sent is neither: the server may have taken it, so the error says ``unknown``
and the outbox resends it only a bounded number of times. A recipient refused with 5xx is reported; if every recipient is
refused the message has failed. A recipient put off with 4xx while others are taken is left out of this
sending and listed in the receipt's ``deferred``: the outbox sends the message to them alone later.

What is the same for every message is not held against one: a sender refused for good, a login required
(530) or every recipient "not authorised" (5.7.x, relaying denied) is reported as a configuration problem
and the connection closed, so the whole queue waits. A session the server ends before taking the message
(421 at any step, or a connection it kept open and then closed) is tried once more on a new connection.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
import ssl
from collections.abc import Sequence

from csp_monitor.delivery.transport import Receipt
from csp_monitor.errors import DeliveryError
from csp_monitor.models.config import SmtpSettings, is_loopback

__all__ = ["SmtpTransport", "tls_context"]

# RFC 5321 4.5.2: a line of the message that starts with a dot is sent with a second one.
_DOT_AT_LINE_START = re.compile(rb"(?m)^\.")


def tls_context(ca_file: str | None = None) -> ssl.SSLContext:
    """A verifying TLS client context: the system's CAs, plus ``ca_file`` when given."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


_MAX_REPLY = 500  # characters of a server's reply kept in an error: enough for any real explanation


def _text(reply: bytes | str) -> str:
    """A server's reply as one line (multi-line replies joined; control characters are made printable where it
    is shown, by the CLI and the log)."""
    text = (reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply)
    text = " ".join(line.strip() for line in text.replace("\r", "\n").split("\n") if line.strip())
    return text if len(text) <= _MAX_REPLY else text[:_MAX_REPLY] + "..."


# RFC 3463 X.7.x: security or policy, "not authorised" (relaying denied, sender not allowed ...).
_POLICY = re.compile(r"5\d\d 5\.7\.\d{1,3}\b")

# smtplib's own verdict on a reply line longer than it reads (8192 bytes), which it raises as if the server
# had said 500: the server said no such thing, and the message must not be failed for it.
_LINE_TOO_LONG = (500, "Line too long.")


def _client_verdict(exc: smtplib.SMTPResponseException) -> bool:
    return (exc.smtp_code, exc.smtp_error) == _LINE_TOO_LONG


class _Closing(Exception):
    """The server ended the session before taking the message: a 421, or a connection found closed."""

    def __init__(self, stage: str, reply: str) -> None:
        super().__init__(stage, reply)
        self.stage = stage
        self.reply = reply


class SmtpTransport:
    """One connection to an SMTP server, opened on first use and reused for the run."""

    def __init__(self, settings: SmtpSettings, *, password: str | None = None,
                 local_hostname: str | None = None) -> None:
        self.settings = settings
        self._password = password
        self._local_hostname = local_hostname
        self._connection: smtplib.SMTP | None = None
        self.description = f"SMTP {settings.host}:{settings.effective_port} ({settings.security})"

    @property
    def connected(self) -> bool:
        """Whether a connection to the server is open (after a failure: whether it survived)."""
        return self._connection is not None

    def __repr__(self) -> str:  # never show the password
        return f"SmtpTransport({self.description})"

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        host, port, timeout = settings.host, settings.effective_port, settings.timeout
        if settings.security == "none" and not is_loopback(host):
            raise DeliveryError(f"refusing to send unencrypted mail to {host}: only this machine may be used "
                                "with security: none", permanent=True)
        greeted = False
        try:
            connection: smtplib.SMTP
            if settings.security == "tls":
                connection = smtplib.SMTP_SSL(host, port, local_hostname=self._local_hostname, timeout=timeout,
                                              context=tls_context(settings.ca_file))
            else:
                connection = smtplib.SMTP(host, port, local_hostname=self._local_hostname, timeout=timeout)
            greeted = True
            try:
                connection.ehlo()
                if settings.security == "starttls":
                    if not connection.has_extn("starttls"):
                        raise DeliveryError(
                            f"{host} does not offer STARTTLS, so the message was not sent in the clear: check "
                            "the server, or use security: tls", permanent=False)
                    _starttls(connection, host, port, settings.ca_file)
                    connection.ehlo()
                if settings.username:
                    _login(connection, host, settings.username, self._password or "")
            except BaseException:
                _close_quietly(connection)
                raise
        except DeliveryError:
            raise
        except smtplib.SMTPNotSupportedError:
            # A configuration problem, not an outage: saying "cannot reach" would send IT to the network.
            raise DeliveryError(
                f"{host}:{port} does not offer a login (SMTP AUTH), but the configuration gives a username "
                f"({settings.username}): this is a configuration problem, not the server being down. If the server "
                "needs no login, remove username and the password from delivery.smtp; if it offers the login only "
                "over TLS, use security: starttls or tls. The messages wait in the outbox meanwhile",
                permanent=False, reply="no AUTH") from None
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"{host} refused the login for {settings.username}: {exc.smtp_code} {_text(exc.smtp_error)}: this "
                "is a configuration problem, not the server being down: check username and the password "
                "(password_env or password_file) in delivery.smtp. The messages wait in the outbox and the login is "
                "tried once per run, no more", permanent=False,
                reply=f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryError(f"the certificate of {host} could not be verified ({exc.verify_message}): if the "
                                "council uses its own certificate authority, name it with ca_file",
                                permanent=False) from None
        except smtplib.SMTPResponseException as exc:
            if _client_verdict(exc):
                raise DeliveryError(f"{host} sent a reply line longer than SMTP allows (over 8192 characters), "
                                    "so its answer could not be read", permanent=False,
                                    reply="reply line too long") from None
            raise DeliveryError(f"{host} replied {exc.smtp_code} {_text(exc.smtp_error)}",
                                permanent=False, reply=f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
        except (OSError, smtplib.SMTPException) as exc:
            problem = _network_problem(host, port, exc)
            if not greeted and not isinstance(exc, (ConnectionRefusedError, socket.gaierror)):
                problem += _port_hint(port, settings.security, timeout)
            raise DeliveryError(problem, permanent=False) from None
        return connection

    def send(self, message: bytes, *, sender: str, recipients: Sequence[str], message_id: str) -> Receipt:
        """Send one message: MAIL, RCPT for each recipient, DATA; raise DeliveryError unless accepted.

        Recipients the server defers (4xx) while it takes others are not sent the message now: the
        receipt lists them in ``deferred`` and the outbox tries them again later, on their own.
        """
        if not recipients:
            raise DeliveryError("the message has no recipients", permanent=True)
        try:
            for recipient in (sender, *recipients):
                recipient.encode("ascii")
        except UnicodeEncodeError:
            # Addresses are checked (and IDN domains converted) when rules and configuration are read; this
            # is a message queued by an older csp-monitor, which would otherwise fail the same way every run.
            raise DeliveryError(f"the address {recipient} has letters outside ASCII, which this mail server "
                                "cannot be given: write it as its mail system spells it in ASCII",
                                permanent=True) from None
        host = self.settings.host
        for last_try in (False, True):
            if self._connection is None:
                self._connection = self._connect()
            try:
                return self._transaction(self._connection, message, sender, recipients)
            except _Closing as closing:
                # The server ended the session before taking the message (a 421, or a connection it had kept
                # open after the last message and then closed): nothing of this message was accepted, so it is
                # tried once more on a new connection; a server still unwilling then is tried again later.
                self._drop()
                if last_try:
                    raise DeliveryError(f"{host} closed the session {closing.stage}: {closing.reply}",
                                        permanent=False, reply=closing.reply) from None
        raise AssertionError("unreachable")

    def _transaction(self, connection: smtplib.SMTP, message: bytes, sender: str,
                     recipients: Sequence[str]) -> Receipt:
        """MAIL, RCPT, DATA on an open connection; :class:`_Closing` when the server ends the session first."""
        host = self.settings.host
        try:
            try:
                code, reply = connection.mail(sender)
            except (OSError, smtplib.SMTPServerDisconnected):
                raise _Closing("before the message (it had closed the connection)", "connection closed") from None
            if code == 421:
                raise _Closing("before the message (at MAIL FROM)", f"{code} {_text(reply)}")
            if not 200 <= code < 300:
                if code < 500 and code != 530:
                    self._reset()
                    raise DeliveryError(f"{host} cannot take mail from {sender} for now: {code} {_text(reply)}",
                                        permanent=False, reply=f"{code} {_text(reply)}")
                # The sender is the same for every message: refused for good, it is the configuration (or the
                # server's) that must change, not a reason to give up this message and every other one. The
                # connection is closed so that the rest of the queue waits too.
                self._drop()
                raise DeliveryError(
                    f"{host} refused the sender {sender}: {code} {_text(reply)}: this is a configuration problem, not "
                    "a problem with this message: check delivery.from (the server may not let this machine or "
                    "login send as that address) and whether it needs a login (username). The messages wait in the "
                    "outbox until give_up_after", permanent=False, reply=f"{code} {_text(reply)}")
            refused: dict[str, str] = {}
            deferred: dict[str, str] = {}
            for recipient in recipients:
                code, reply = connection.rcpt(recipient)
                if code == 421:
                    raise _Closing(f"before the message (at RCPT TO {recipient})", f"{code} {_text(reply)}")
                if code == 530:  # "authentication required": the configuration, not this recipient
                    self._drop()
                    raise DeliveryError(
                        f"{host} needs a login before it takes mail: {code} {_text(reply)}: this is a configuration "
                        "problem: give username and password_env (or password_file) in delivery.smtp. The messages "
                        "wait in the outbox until give_up_after", permanent=False, reply=f"{code} {_text(reply)}")
                if not 200 <= code < 300:
                    (refused if code >= 500 else deferred)[recipient] = f"{code} {_text(reply)}"
            if len(refused) + len(deferred) == len(recipients):
                self._reset()
                listed = "; ".join(f"{r}: {why}" for r, why in {**deferred, **refused}.items())
                if deferred:
                    raise DeliveryError(f"{host} cannot take the message for now ({listed})", permanent=False,
                                        reply=listed)
                if all(_POLICY.match(why) for why in refused.values()):
                    # 5.7.x for every recipient is "not authorised": most often the server will not relay for
                    # this machine or login, which is the configuration, the same for every message.
                    self._drop()
                    raise DeliveryError(
                        f"{host} refused every recipient as not authorised ({listed}): this is most often a "
                        "configuration problem (the server does not relay for this machine or login: check "
                        "username and the server's relay settings), so the messages wait in the outbox until "
                        "give_up_after", permanent=False, reply=listed)
                raise DeliveryError(f"{host} refused every recipient ({listed})", permanent=True, reply=listed)
            code, reply = self._data(connection, message, host)
            if code == 421:
                raise _Closing("instead of taking the message (after its end)", f"{code} {_text(reply)}")
            if code != 250:
                raise DeliveryError(f"{host} did not accept the message: {code} {_text(reply)}",
                                    permanent=code >= 500, reply=f"{code} {_text(reply)}")
        except (DeliveryError, _Closing):
            raise
        except smtplib.SMTPResponseException as exc:
            self._drop()
            if _client_verdict(exc):
                raise DeliveryError(f"{host} sent a reply line longer than SMTP allows (over 8192 characters), "
                                    "so its answer could not be read", permanent=False,
                                    reply="reply line too long") from None
            raise DeliveryError(f"{host} replied {exc.smtp_code} {_text(exc.smtp_error)}",
                                permanent=exc.smtp_code >= 500,
                                reply=f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise DeliveryError(_network_problem(host, self.settings.effective_port, exc), permanent=False) from None
        accepted = tuple(r for r in recipients if r not in refused and r not in deferred)
        return Receipt(reply=f"{code} {_text(reply)}", accepted=accepted, refused=refused, deferred=deferred)

    def _data(self, connection: smtplib.SMTP, message: bytes, host: str) -> tuple[int, bytes]:
        """DATA, the message and its final dot, then the server's answer to it.

        ``smtplib.SMTP.data`` does the same in one call; it is split here
        because only a failure *after* the final dot leaves the message's fate
        unknown (the server may have taken it), while a failure before it
        means the server cannot have (a message cut short is discarded).
        """
        code, reply = connection.docmd("DATA")
        if code == 421:
            raise _Closing("before the message (at DATA)", f"{code} {_text(reply)}")
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        body = _DOT_AT_LINE_START.sub(b"..", message)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        connection.send(body + b".\r\n")
        try:
            return connection.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise DeliveryError(
                f"{_network_problem(host, self.settings.effective_port, exc)} after the whole message was sent, "
                "so whether the server took it is unknown", permanent=False, unknown=True) from None

    def _reset(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def check(self, sender: str) -> str:
        """Connect, greet, start TLS and log in exactly as a run would, then offer ``sender`` (MAIL FROM) and
        take it back (RSET) before saying QUIT: nothing is sent. Return what was found, in a line for people;
        raise :class:`DeliveryError` saying what stopped it (a login refused, a sender refused, no STARTTLS)."""
        settings = self.settings
        host = settings.host
        connection = self._connect()
        try:
            try:
                sender.encode("ascii")
            except UnicodeEncodeError:
                raise DeliveryError(f"the sender {sender} has letters outside ASCII, which this mail server cannot "
                                    "be given", permanent=True) from None
            code, reply = connection.mail(sender)
            if not 200 <= code < 300:
                raise DeliveryError(
                    f"{host} refused the sender {sender}: {code} {_text(reply)}: check delivery.from (the server may "
                    "not let this machine or login send as that address) and whether it needs a login (username)",
                    permanent=code >= 500, reply=f"{code} {_text(reply)}")
            connection.rset()
            version = getattr(connection.sock, "version", None)  # an ssl.SSLSocket's TLS version
            tls = version() if callable(version) else None
        except DeliveryError:
            raise
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(_network_problem(host, settings.effective_port, exc), permanent=False) from None
        finally:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                connection.quit()
            _close_quietly(connection)
        how = {"none": "no encryption (this machine only)", "starttls": f"STARTTLS ({tls or 'TLS'})",
               "tls": f"TLS ({tls or 'TLS'})"}[settings.security]
        login = f", logged in as {settings.username}" if settings.username else ", no login"
        return f"{host}:{settings.effective_port}, {how}{login}; the sender {sender} accepted; nothing sent"

    def _drop(self) -> None:
        if self._connection is not None:
            _close_quietly(self._connection)
            self._connection = None

    def close(self) -> None:
        """Say QUIT and close the connection."""
        if self._connection is None:
            return
        try:
            self._connection.quit()
        except (OSError, smtplib.SMTPException):
            pass
        finally:
            _close_quietly(self._connection)
            self._connection = None


def _starttls(connection: smtplib.SMTP, host: str, port: int, ca_file: str | None) -> None:
    """Upgrade to TLS; a refusal or a failed handshake says that nothing was sent in the clear."""
    try:
        connection.starttls(context=tls_context(ca_file))
    except ssl.SSLCertVerificationError:
        raise
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"{host} offers STARTTLS but refused it: {exc.smtp_code} {_text(exc.smtp_error)}, so "
                            "nothing was sent (never in the clear); it is tried again later", permanent=False,
                            reply=f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"the TLS handshake with {host}:{port} after STARTTLS failed "
                            f"({_network_problem(host, port, exc)}), so nothing was sent (never in the clear); it "
                            "is tried again later", permanent=False) from None


def _login(connection: smtplib.SMTP, host: str, username: str, password: str) -> None:
    """AUTH with one mechanism, once: ``smtplib.login`` tries every mechanism offered in turn, so a wrong
    password would count as two or three failed logins per run towards the account's lockout."""
    if not connection.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
    offered = connection.esmtp_features["auth"].upper().split()
    for mechanism in ("CRAM-MD5", "PLAIN", "LOGIN"):
        if mechanism in offered:
            connection.user, connection.password = username, password
            code, reply = connection.auth(mechanism, getattr(connection, "auth_" + mechanism.lower().replace("-", "_")))
            if code in (235, 503):
                return
            raise smtplib.SMTPAuthenticationError(code, reply)
    raise DeliveryError(f"{host} offers no login method csp-monitor can use (it offers {' '.join(offered) or 'none'}; "
                        "csp-monitor uses CRAM-MD5, PLAIN or LOGIN): this is a configuration problem, not the server "
                        "being down. The messages wait in the outbox", permanent=False)


def _close_quietly(connection: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        connection.close()


def _port_hint(port: int, security: str, timeout: float) -> str:
    """Why a server that took the connection never greeted us: most often the port of another service, or a
    port for the other kind of TLS."""
    usual = {"starttls": "587 (or 25)", "tls": "465", "none": "25"}[security]
    return (f": it took the connection but did not answer as a mail server (no greeting within {timeout:g} s), so "
            f"check the port: with security: {security} a mail server usually listens on {usual}"
            + (" (465 is for security: tls)" if port == 465 and security != "tls" else "")
            + (" (587 and 25 are for security: starttls)" if port in (25, 587) and security == "tls" else ""))


def _network_problem(host: str, port: int, exc: BaseException) -> str:
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return f"{host}:{port} did not answer in time"
    if isinstance(exc, ConnectionRefusedError):
        return f"{host}:{port} refused the connection (is the mail server running?)"
    if isinstance(exc, socket.gaierror):
        return f"the mail server name {host} could not be found"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"{host}:{port} closed the connection"
    if isinstance(exc, ssl.SSLError):
        return f"the TLS connection to {host}:{port} failed: {exc.reason or exc}"
    return f"cannot reach {host}:{port}: {exc}"
