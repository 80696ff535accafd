"""One delivery run: evaluate, decide, render, enqueue and deliver. The CLI and the daemon share it.

:func:`send_once` is what ``csp-monitor send`` and every scheduled job run:

1. load the rules and the figures the configuration names (files, drop
   folders, police.uk archives: :mod:`csp_monitor.load.figure_sources`), and
   evaluate;
2. queue again anything a previous run left in flight (a crash);
3. decide the alerts against the state store and, **in the same
   transaction**, put into the outbox each alert email (one per recipient)
   and the risk summary for the period (once per period: a second run for
   the same month adds nothing);
4. deliver everything due in the outbox, retrying what failed before.

:func:`plan_messages` renders the messages a run would send without writing
anything (``--dry-run`` and ``preview``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from csp_monitor.arguments import check_as_of, check_now
from csp_monitor.delivery.outbox import Attempt, OutboxMessage
from csp_monitor.errors import ArgumentError
from csp_monitor.models.config import MonitorConfig, parse_mailbox
from csp_monitor.plain_data import PlainData

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from csp_monitor.delivery.transport import Transport
    from csp_monitor.models.decisions import Decision, Notification
    from csp_monitor.models.figures import FigureSet
    from csp_monitor.models.results import Evaluation
    from csp_monitor.models.rules import RuleSet
    from csp_monitor.state.store import StateStore

__all__ = [
    "JOBS",
    "PlannedMessage",
    "SendReport",
    "alert_message_key",
    "make_transport",
    "plan_messages",
    "send_once",
    "summary_key",
    "write_planned",
]

Job = Literal["summary", "alerts"]
JOBS: tuple[Job, ...] = ("summary", "alerts")
_SEPARATOR = "\x1f"


def summary_key(partnership: str, as_of: str) -> str:
    """The outbox key of a period's risk summary: one summary per partnership per month."""
    identity = _SEPARATOR.join(("csp-monitor-summary-v1", partnership, as_of))
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


def alert_message_key(recipient: str, notification_keys: Sequence[str]) -> str:
    """The outbox key of an alert email: its recipient and the notices it carries."""
    identity = _SEPARATOR.join(("csp-monitor-alert-message-v1", recipient.strip().lower(), *sorted(notification_keys)))
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PlannedMessage(PlainData):
    """A message built and ready to be queued or written."""

    key: str
    kind: str
    period: str
    message_id: str
    sender: str
    recipients: tuple[str, ...]
    subject: str
    data: bytes
    notifications: tuple[str, ...] = ()


@dataclass(frozen=True)
class SendReport(PlainData):
    """What one run did: what it queued, what it sent (or tried to), and what it wrote in a dry run."""

    as_of: str
    queued: tuple[PlannedMessage, ...] = ()
    attempts: tuple[Attempt, ...] = ()
    recovered: tuple[OutboxMessage, ...] = ()
    written: tuple[Path, ...] = ()
    dry_run: Path | None = None
    warnings: tuple[str, ...] = ()
    method: str = ""
    waiting: int = field(default=0)

    @property
    def sent(self) -> list[Attempt]:
        """The messages accepted in this run."""
        return [attempt for attempt in self.attempts if attempt.outcome == "sent"]

    @property
    def failed(self) -> list[Attempt]:
        """The messages that failed for good in this run."""
        return [attempt for attempt in self.attempts if attempt.outcome == "failed"]

    @property
    def retrying(self) -> list[Attempt]:
        """The messages that will be tried again."""
        return [attempt for attempt in self.attempts if attempt.outcome == "retry"]

    def lines(self) -> list[str]:
        """What happened, one line per message, for people."""
        out: list[str] = []
        for message in self.recovered:
            out.append(f"resending (was in flight when a run stopped): {message.kind} '{message.subject}' "
                       f"{message.message_id}")
        if self.dry_run is not None:
            for planned, path in zip(self.queued, self.written, strict=False):
                out.append(f"would send {planned.kind} '{planned.subject}' to {', '.join(planned.recipients)}: "
                           f"written to {path}")
            if not self.queued:
                out.append(f"nothing would be sent for {self.as_of}")
            return out
        for attempt in self.attempts:
            message = attempt.message
            to = ", ".join(message.recipients)
            if attempt.outcome == "sent":
                line = f"sent {message.kind} '{message.subject}' to {to} ({attempt.detail})"
                if attempt.refused:
                    line += "; refused: " + "; ".join(f"{r} ({why})" for r, why in attempt.refused.items())
            elif attempt.outcome == "retry":
                line = f"not sent yet: {message.kind} '{message.subject}' to {to}: {attempt.detail}"
            else:
                line = f"FAILED: {message.kind} '{message.subject}' to {to}: {attempt.detail}"
            out.append(line)
        if not self.attempts:
            out.append(f"nothing new to send for {self.as_of}")
        if self.waiting:
            out.append(f"{self.waiting} message{'s' if self.waiting != 1 else ''} waiting to be retried later")
        return out


def make_transport(config: MonitorConfig) -> Transport:
    """The configured transport: SMTP (with its password read now) or a folder."""
    from csp_monitor.load.config import read_password

    if config.delivery.smtp is not None:
        from csp_monitor.delivery.smtp import SmtpTransport

        return SmtpTransport(config.delivery.smtp, password=read_password(config))
    from csp_monitor.delivery.folder import FolderTransport

    assert config.delivery.folder is not None
    return FolderTransport(config.delivery.folder)


@dataclass(frozen=True)
class _Inputs:
    rules: RuleSet
    figures: FigureSet
    evaluation: Evaluation
    summary_to: tuple[str, ...]
    notes: tuple[str, ...] = ()  # from reading the figures sources (police.uk rows skipped...)


def _load(config: MonitorConfig, as_of: str | None, jobs: Collection[str]) -> _Inputs:
    from csp_monitor.errors import InputError, Problem
    from csp_monitor.evaluation.engine import evaluate
    from csp_monitor.load.config import summary_recipients
    from csp_monitor.load.figure_sources import load_sources
    from csp_monitor.load.rules import load_rules

    problems: list[Problem] = []
    rules = figures = None
    notes: tuple[str, ...] = ()
    try:
        rules = load_rules(config.rules)
    except InputError as exc:
        problems.extend(exc.problems)
    try:
        loaded = load_sources(config)
        figures, notes = loaded.figures, loaded.notes
    except InputError as exc:
        problems.extend(exc.problems)
    summary_to: tuple[str, ...] = ()
    if rules is not None and "summary" in jobs:
        try:
            summary_to = summary_recipients(config, rules.recipients)
        except InputError as exc:
            problems.extend(exc.problems)
    if problems or rules is None or figures is None:
        raise InputError(problems)
    return _Inputs(rules, figures, evaluate(rules, figures, as_of=as_of), summary_to, notes)


def _envelope(addresses: Sequence[str]) -> tuple[str, ...]:
    return tuple(parse_mailbox(address)[1] for address in addresses)


def _build(config: MonitorConfig, *, key: str, kind: str, period: str, rendered: object,
           recipients: Sequence[str], now: datetime, notifications: Sequence[str] = ()) -> PlannedMessage:
    from csp_monitor.delivery.message import build_message, message_id, serialise
    from csp_monitor.render.messages import RenderedEmail

    assert isinstance(rendered, RenderedEmail)
    sender = config.delivery.from_
    message = build_message(rendered, sender=sender, recipients=recipients, key=key, date=now,
                            reply_to=config.delivery.reply_to)
    return PlannedMessage(key=key, kind=kind, period=period, message_id=message_id(key, sender),
                          sender=parse_mailbox(sender)[1], recipients=_envelope(recipients),
                          subject=rendered.subject, data=serialise(message), notifications=tuple(notifications))


def _summary_message(config: MonitorConfig, inputs: _Inputs, now: datetime) -> PlannedMessage:
    from csp_monitor.render.messages import render_summary_email
    from csp_monitor.render.summary import build_summary, previous_evaluation

    evaluation = inputs.evaluation
    previous = previous_evaluation(inputs.rules, inputs.figures, evaluation)
    summary = build_summary(inputs.rules, inputs.figures, evaluation, previous=previous,
                            charts=config.summary.charts if config.summary else True)
    rendered = render_summary_email(summary, templates=config.templates)
    return _build(config, key=summary_key(evaluation.partnership, evaluation.as_of), kind="summary",
                  period=evaluation.as_of, rendered=rendered, recipients=inputs.summary_to, now=now)


def _alert_messages(config: MonitorConfig, inputs: _Inputs, notifications: Sequence[Notification],
                    now: datetime) -> list[PlannedMessage]:
    from csp_monitor.alerts.grouping import group_by_recipient
    from csp_monitor.render.alerts import build_alert_email, render_alert_email

    planned: list[PlannedMessage] = []
    for batch in group_by_recipient(notifications):
        email = build_alert_email(inputs.rules, inputs.evaluation, batch.recipient, batch.notifications)
        rendered = render_alert_email(email, templates=config.templates)
        planned.append(_build(config, key=alert_message_key(batch.recipient, batch.keys), kind="alert",
                              period=inputs.evaluation.as_of, rendered=rendered, recipients=[batch.recipient],
                              now=now, notifications=batch.keys))
    return planned


def _enqueue(connection: Connection, planned: Sequence[PlannedMessage], now: datetime) -> list[PlannedMessage]:
    from csp_monitor.delivery.outbox import enqueue

    added = []
    for message in planned:
        if enqueue(connection, key=message.key, kind=message.kind, period=message.period,
                   message_id=message.message_id, sender=message.sender, recipients=message.recipients,
                   subject=message.subject, message=message.data, now=now, notifications=message.notifications):
            added.append(message)
    return added


def send_once(config: MonitorConfig, *, as_of: str | date | None = None, now: datetime | None = None,
              dry_run: str | Path | None = None, jobs: Collection[str] = JOBS,
              stop: Callable[[], bool] | None = None) -> SendReport:
    """Evaluate, decide, render and deliver once; see the module docstring.

    ``jobs`` limits the run to the risk summary or the alerts (the daemon
    schedules them apart); the outbox is delivered either way. With
    ``dry_run`` (a folder) nothing is recorded or sent: the messages the run
    would send are written there as ``.eml`` and ``.html`` files. ``stop``
    (the daemon's "SIGTERM received") ends delivery after the message being
    sent; the rest stay queued for the next run.
    """
    from csp_monitor.delivery.outbox import deliver_due, list_messages, recover
    from csp_monitor.state import open_store

    as_of = check_as_of(as_of)
    moment = datetime.now(UTC) if now is None else check_now(now)
    unknown = set(jobs) - set(JOBS)
    if unknown or isinstance(jobs, str):
        raise ArgumentError(f"jobs must be a list of {' and '.join(JOBS)}, not {jobs!r}", argument="jobs")
    if dry_run is not None:
        return _dry_run(config, as_of=as_of, now=moment, folder=Path(dry_run), jobs=jobs)
    inputs = _load(config, as_of, jobs)
    transport = make_transport(config)  # reads the password now: fail before deciding anything
    evaluation = inputs.evaluation
    warnings: list[str] = [*inputs.notes, *evaluation.warnings]
    try:
        with open_store(config.state) as store:
            recovered = recover(store, now=moment)
            summary: PlannedMessage | None = None
            if "summary" in jobs and config.summary is not None and inputs.summary_to:
                from csp_monitor.delivery.outbox import has_key

                with store.transaction() as connection:
                    done = has_key(connection, summary_key(evaluation.partnership, evaluation.as_of))
                if not done:
                    summary = _summary_message(config, inputs, moment)  # charts drawn outside the transaction
            queued: list[PlannedMessage] = []

            def also(connection: Connection, decision: Decision) -> None:
                planned = [summary] if summary is not None else []
                planned.extend(_alert_messages(config, inputs, decision.notifications, moment))
                queued.extend(_enqueue(connection, planned, moment))

            if "alerts" in jobs and inputs.rules.alerts:
                from csp_monitor.alerts.record import decide_and_record

                decision = decide_and_record(store, inputs.rules, evaluation, now=moment, also=also)
                warnings.extend(decision.warnings)
            elif summary is not None:
                with store.transaction() as connection:
                    queued.extend(_enqueue(connection, [summary], moment))
            attempts = deliver_due(store, transport, now=moment, retry=config.delivery.retry,
                                   clock=(lambda: datetime.now(UTC)) if now is None else None, stop=stop)
            waiting = len(list_messages(store, statuses=["queued"]))
    finally:
        transport.close()
    return SendReport(as_of=evaluation.as_of, queued=tuple(queued), attempts=tuple(attempts),
                      recovered=tuple(recovered), warnings=tuple(warnings), method=transport.description,
                      waiting=waiting)


def plan_messages(config: MonitorConfig, *, as_of: str | date | None = None, now: datetime | None = None,
                  jobs: Collection[str] = JOBS, include_sent: bool = False) -> tuple[str, list[PlannedMessage],
                                                                                    list[str]]:
    """The messages a run would queue now, rendered, with nothing recorded: (as_of, messages, warnings).

    With ``include_sent`` the summary is rendered even when this period's
    summary is already in the outbox (``preview``).
    """
    from csp_monitor.alerts.decide import decide
    from csp_monitor.delivery.outbox import has_key
    from csp_monitor.models.alert_state import RememberedState

    as_of = check_as_of(as_of)
    moment = datetime.now(UTC) if now is None else check_now(now)
    inputs = _load(config, as_of, jobs)
    evaluation = inputs.evaluation
    warnings = [*inputs.notes, *evaluation.warnings]
    store = _open_existing(config)
    planned: list[PlannedMessage] = []
    try:
        summary_done = False
        remembered = RememberedState()
        if store is not None:
            with store.transaction() as connection:
                summary_done = has_key(connection, summary_key(evaluation.partnership, evaluation.as_of))
                if "alerts" in jobs and inputs.rules.alerts:
                    remembered = store.remembered(connection, evaluation, now=moment)
        if "summary" in jobs and config.summary is not None and inputs.summary_to and \
                (include_sent or not summary_done):
            planned.append(_summary_message(config, inputs, moment))
        if "alerts" in jobs and inputs.rules.alerts:
            plan = decide(evaluation, inputs.rules, remembered, now=moment)
            warnings.extend(plan.decision.warnings)
            planned.extend(_alert_messages(config, inputs, plan.decision.notifications, moment))
    finally:
        if store is not None:
            store.close()
    return evaluation.as_of, planned, warnings


def _open_existing(config: MonitorConfig) -> StateStore | None:
    """The store if it exists (a dry run never creates one)."""
    import os

    from csp_monitor.state import open_store

    if not config.state_is_url and not os.path.exists(config.state):
        return None
    return open_store(config.state, create=False)


def write_planned(planned: Sequence[PlannedMessage], folder: Path) -> list[Path]:
    """Write each message as ``.eml`` plus ``.html`` into ``folder``; return the .eml paths."""
    from csp_monitor.delivery.folder import FolderTransport

    transport = FolderTransport(folder)
    paths = []
    for message in planned:
        receipt = transport.send(message.data, sender=message.sender, recipients=message.recipients,
                                 message_id=message.message_id)
        paths.append(Path(receipt.reply.removeprefix("written to ")))
    return paths


def _dry_run(config: MonitorConfig, *, as_of: str | None, now: datetime, folder: Path,
             jobs: Collection[str]) -> SendReport:
    as_of_month, planned, warnings = plan_messages(config, as_of=as_of, now=now, jobs=jobs)
    written = write_planned(planned, folder)
    return SendReport(as_of=as_of_month, queued=tuple(planned), written=tuple(written), dry_run=folder,
                      warnings=tuple(warnings), method=f"dry run into {folder}")
