"""The monitor configuration file: which rules and figures, where state lives, how mail goes.

The minimum a partnership writes (paths are relative to the file)::

    rules: [../rules/harborough-2013-14.yaml]
    figures: [figures/*.csv]
    state: csp-monitor.db              # a SQLite path or an SQLAlchemy URL
    delivery:
      from: "Harborough CSP monitor <csp-monitor@example.org>"
      smtp: {host: 127.0.0.1, port: 8025, security: none}
      # folder: outbox/                # instead of smtp: .eml and .html files (the default)
    summary:
      to: [board]                      # recipient lists named in the rules

Secrets never live here: an SMTP password comes from an environment variable
(``password_env``) or a file readable only by the service (``password_file``).

Extending it (the daemon's ``timezone`` and ``schedules``): add the fields to
:class:`MonitorConfig` (or let it inherit ``ScheduleSettings`` from
:mod:`csp_monitor.models.schedule`), each with ``Field(description=...)``.
Every key of every section is validated with ``extra="forbid"`` and reported
at file:line:col by :func:`csp_monitor.load.config.load_config`; paths are
made absolute there (a field is a path when it is listed in
``csp_monitor.load.config.PATH_FIELDS``).
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    WithJsonSchema,
    model_validator,
)

from csp_monitor.models.figure_sources import FigureSources
from csp_monitor.models.mailbox import parse_mailbox
from csp_monitor.models.rules import KeyedValueError
from csp_monitor.models.schedule import ScheduleSettings

__all__ = [
    "LOOPBACK_HOSTS",
    "DeliverySettings",
    "Mailbox",
    "MonitorConfig",
    "RetrySettings",
    "Security",
    "SmtpSettings",
    "SummarySettings",
    "is_loopback",
    "parse_mailbox",
]

Security = Literal["none", "starttls", "tls"]

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
"""Hosts that plain, unencrypted SMTP may talk to: this machine only."""

DEFAULT_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "tls": 465}


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine (so plain SMTP never crosses a network)."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _mailbox(value: object) -> object:
    if isinstance(value, str):
        parse_mailbox(value)
        return value.strip()
    return value


Mailbox = Annotated[str, BeforeValidator(_mailbox)]
"""One email address, optionally with a display name: ``Name <name@example.org>``."""


def _as_list(value: object) -> object:
    """A single value where a list is expected means a list of one."""
    return [value] if isinstance(value, str) else value


OneOrMore = Annotated[tuple[str, ...], BeforeValidator(_as_list), WithJsonSchema(
    {"anyOf": [{"type": "string", "minLength": 1}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]})]
"""A list that may be written as one value (``rules: rules.yaml``)."""


def _number(value: object) -> object:
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise ValueError(f"must be a number, not '{value}'") from None
    return value


Seconds = Annotated[float, BeforeValidator(_number)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SmtpSettings(_Model):
    """How to reach the mail server."""

    host: str = Field(min_length=1, description="The mail server's name or address.", examples=["smtp.example.org"])
    port: int | None = Field(
        default=None, ge=1, le=65535,
        description="The port; by default 587 for starttls, 465 for tls and 25 for none.", examples=[587])
    security: Security = Field(
        default="starttls",
        description=(
            "starttls (upgrade to TLS, usually port 587), tls (TLS from the start, usually port 465) or none "
            "(unencrypted: allowed only to this machine, e.g. a local relay on 127.0.0.1). Certificates are "
            "always verified."),
        examples=["starttls"])
    username: str | None = Field(default=None, min_length=1, description="The login name, if the server needs one.",
                                 examples=["csp-monitor@example.org"])
    password_env: str | None = Field(
        default=None, min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="The name of the environment variable that holds the password.",
        examples=["CSP_MONITOR_SMTP_PASSWORD"])
    password_file: str | None = Field(
        default=None, min_length=1,
        description="A file holding the password (first line), readable only by the service account.",
        examples=["/etc/csp-monitor/smtp-password"])
    ca_file: str | None = Field(
        default=None, min_length=1,
        description="A PEM file of certificate authorities to trust besides the system's (a council's internal CA).",
        examples=["/etc/ssl/council-ca.pem"])
    timeout: Seconds = Field(default=30.0, gt=0, le=600,
                             description="Seconds to wait for the server at each step before giving up.",
                             examples=[30])

    @model_validator(mode="after")
    def _consistent(self) -> SmtpSettings:
        if self.security == "none" and not is_loopback(self.host):
            raise KeyedValueError(
                f"security: none would send mail unencrypted to '{self.host}'; it is allowed only to this "
                "machine (localhost, 127.0.0.1 or ::1): use starttls or tls", at=("security",))
        if self.password_env and self.password_file:
            raise KeyedValueError("give password_env or password_file, not both", at=("password_file",))
        if (self.password_env or self.password_file) and not self.username:
            raise KeyedValueError("a password needs a username: add username", at=("password_env",)
                                  if self.password_env else ("password_file",))
        if self.username and not (self.password_env or self.password_file):
            raise KeyedValueError("a username needs a password: add password_env or password_file",
                                  at=("username",))
        return self

    @property
    def effective_port(self) -> int:
        """The port to connect to."""
        return self.port or DEFAULT_PORTS[self.security]


class RetrySettings(_Model):
    """How long to keep trying a message the server could not take for now."""

    first_delay: Seconds = Field(default=60.0, ge=1, le=86400,
                                 description="Seconds before the first retry; each later wait doubles.",
                                 examples=[60])
    max_delay: Seconds = Field(default=3600.0, ge=1, le=7 * 86400,
                               description="The longest wait between two attempts, in seconds.",
                               examples=[3600])
    give_up_after: Seconds = Field(
        default=3 * 86400.0, ge=60, le=30 * 86400,
        description="Seconds after which a message still not accepted is marked failed and reported.",
        examples=[259200])
    resend_unknown: int = Field(
        default=1, ge=0, le=5,
        description="How many times a message is sent again, with the same Message-ID, when the server gave no "
                    "answer after the whole message was sent (it may have taken it); after that it is marked "
                    "unknown and reported, never sent again.",
        examples=[1])


class DeliverySettings(_Model):
    """Who the mail is from and how it goes: by SMTP, or into a folder (the default)."""

    from_: Mailbox = Field(
        default="csp-monitor <csp-monitor@localhost.invalid>", alias="from",
        description="The sender: 'Name <address>' or an address.",
        examples=["Harborough CSP monitor <csp-monitor@example.org>"])
    reply_to: Mailbox | None = Field(default=None, description="Where replies should go, if not to the sender.",
                                     examples=["Community Safety Team <community.safety@example.org>"])
    smtp: SmtpSettings | None = Field(default=None, description="Send through this mail server.",
                                      examples=[{"host": "smtp.example.org", "port": 587, "security": "starttls"}])
    folder: str | None = Field(
        default=None, min_length=1,
        description="Write each message as an .eml file and an .html preview into this folder instead of sending.",
        examples=["outbox/"])
    retry: RetrySettings = Field(default_factory=RetrySettings, description="Retries for a server that is down.",
                                 examples=[{"first_delay": 60, "max_delay": 3600, "give_up_after": 259200}])

    @model_validator(mode="after")
    def _one_way(self) -> DeliverySettings:
        if self.smtp is not None and self.folder is not None:
            raise KeyedValueError("give smtp or folder, not both", at=("folder",))
        if self.smtp is not None and "from" not in self.model_fields_set and "from_" not in self.model_fields_set:
            raise KeyedValueError("sending by SMTP needs a sender: add from: \"Name <address@example.org>\"",
                                  at=("smtp",))
        return self

    @property
    def method(self) -> Literal["smtp", "folder"]:
        """smtp or folder."""
        return "smtp" if self.smtp is not None else "folder"


class SummarySettings(_Model):
    """The monthly risk summary: who receives it."""

    to: OneOrMore = Field(
        min_length=1,
        description="Recipient list names from the rules' recipients, or email addresses.",
        examples=[["board"]])
    charts: bool = Field(default=True, description="Include charts (set false for text-and-tables only).",
                         examples=[True])
    corrections: bool = Field(
        default=True,
        description="When the figures of a month whose summary was sent change afterwards (a revised or "
                    "completed file), send the summary again as a correction: 'Correction:' in the subject, "
                    "the changed figures listed, a new Message-ID. Set false to send each month's summary once only.",
        examples=[True])


class MonitorConfig(_Model, ScheduleSettings):
    """A monitor configuration: what to judge, where to keep state, how to deliver, and when (the daemon's
    ``timezone`` and ``schedules``, from :class:`~csp_monitor.models.schedule.ScheduleSettings`)."""

    rules: OneOrMore = Field(
        min_length=1, description="Rule files (and alert rule files), relative to this file.",
        examples=[["../rules/harborough-2013-14.yaml", "../rules/harborough-alerts.yaml"]])
    figures: FigureSources = Field(
        min_length=1,
        description="Where the figures come from, relative to this file: figures files or patterns such as "
                    "figures/*.csv, drop folders ({drop_folder: incoming/}) and police.uk archives "
                    "({police_uk: archives/*.zip}).",
        examples=[["figures/*.csv"], ["history.csv", {"drop_folder": "incoming/", "pattern": "*.csv"}],
                  [{"police_uk": "archives/*.zip", "lookup": "lad17-csp17-pfa17.csv"}]])
    settle_seconds: Seconds = Field(
        default=5.0, ge=0, le=3600,
        description="Scheduled runs read figures files only once they have stayed unchanged this many seconds "
                    "(two looks this far apart), so a file still being copied is never read half-written. 0 "
                    "reads them at once.",
        examples=[5])
    state: str = Field(
        min_length=1,
        description="The state store: a SQLite file (relative to this file) or an SQLAlchemy URL.",
        examples=["csp-monitor.db", "postgresql+psycopg://csp@db.example.org/csp"])
    templates: str | None = Field(
        default=None, min_length=1,
        description="A folder of templates that override the built-in ones (same file names).",
        examples=["templates/"])
    delivery: DeliverySettings = Field(
        default_factory=DeliverySettings,
        description="How messages are delivered; by default they are written to outbox/ beside this file.",
        examples=[{"from": "Harborough CSP monitor <csp-monitor@example.org>", "folder": "outbox/"}])
    summary: SummarySettings | None = Field(
        default=None, description="The monthly risk summary; left out, no summary is sent (alerts still are).",
        examples=[{"to": ["board"], "charts": True}])
    _file: str = PrivateAttr(default="<config>")
    _positions: Any = PrivateAttr(default=None)  # where each key is, for problems found after loading

    def __eq__(self, other: object) -> bool:
        """Equal when every field is: where it was read from (its private positions) is not part of its meaning,
        so a copy read back from its own JSON is equal."""
        if not isinstance(other, BaseModel):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__


    @property
    def file(self) -> str:
        """The configuration file this was read from."""
        return self._file

    @property
    def state_is_url(self) -> bool:
        """Whether ``state`` is an SQLAlchemy URL rather than a SQLite path."""
        return "://" in self.state
