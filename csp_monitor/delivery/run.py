"""One delivery run: evaluate, decide, render, enqueue and deliver. The CLI and the daemon share it.

:func:`send_once` is what ``csp-monitor send`` and every scheduled job run:

1. load the rules and the figures the configuration names (files, drop
   folders, police.uk archives: :mod:`csp_monitor.load.figure_sources`), and
   evaluate;
2. queue again anything a previous run left in flight (a crash);
3. decide the alerts against the state store (the notices due are recorded
   as still to be queued);
4. in one transaction, put into the outbox the risk summary for the period
   (once per period: a second run for the same month adds nothing) and an
   alert email per recipient for *every* notice still to be queued, whoever
   decided it (:mod:`csp_monitor.delivery.pending`), and stamp those notices
   queued;
5. deliver everything due in the outbox, retrying what failed before.

:func:`plan_messages` renders the messages a run would send without writing
anything (``--dry-run`` and ``preview``), corrections of summaries already
sent included.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from csp_monitor.arguments import check_as_of, check_kind, check_now, check_path
from csp_monitor.delivery.outbox import Attempt, OutboxMessage
from csp_monitor.errors import (
    ArgumentError,
    CspMonitorError,
    DeliveryError,
    StateError,
    shown_value,
)
from csp_monitor.models.config import MonitorConfig, parse_mailbox
from csp_monitor.plain_data import PlainData

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from csp_monitor.delivery.transport import Transport
    from csp_monitor.models.decisions import Notification
    from csp_monitor.models.figures import FigureSet
    from csp_monitor.models.results import Evaluation
    from csp_monitor.models.rules import RuleSet
    from csp_monitor.render.messages import RenderedEmail
    from csp_monitor.state.store import StateStore

__all__ = [
    "CORRECTED_MONTHS",
    "JOBS",
    "FiguresShown",
    "MessagePlan",
    "PlannedMessage",
    "SendReport",
    "alert_message_key",
    "correction_key",
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
class FiguresShown(PlainData):
    """The figures a risk summary shows: every figure of its measures up to its month, and their digest."""

    partnership: str
    period: str
    rows: tuple[tuple[str, str, str, float, str | None], ...]  # area, measure, month, value, suspect reason

    @property
    def digest(self) -> str:
        """A SHA-256 of the figures: equal digests, equal figures."""
        return hashlib.sha256(json.dumps(self.rows, separators=(",", ":")).encode("utf-8")).hexdigest()

    def changes_since(self, earlier: Sequence[Sequence[object]]) -> list[str]:
        """What differs from ``earlier`` figures, one line each: ``area measure month: 9 -> 90``."""
        before = {(str(r[0]), str(r[1]), str(r[2])): r[3] for r in earlier}
        now = {(area, measure, month): value for area, measure, month, value, _ in self.rows}
        lines = []
        for key in sorted(before.keys() | now.keys()):
            name = " ".join(key)
            if key not in before:
                lines.append(f"{name}: {_figure(now[key])} (new)")
            elif key not in now:
                lines.append(f"{name}: {_figure(before[key])} withdrawn")
            elif before[key] != now[key]:
                lines.append(f"{name}: {_figure(before[key])} -> {_figure(now[key])}")
        return lines


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
    shown: FiguresShown | None = None  # a summary's figures, recorded with it (corrections compare them)
    correction: int = 0  # a correction of the summary of ``period`` already sent: its number (1, 2 ...)
    changes: tuple[str, ...] = ()  # a correction's changed figures, one line each (none when too many to keep)
    resend: str = ""  # a message already in the outbox that a run would send again (dry runs): why, for people

    def correction_lines(self) -> list[str]:
        """For a correction, what it corrects and why, for people (dry runs and previews); else nothing."""
        if not self.correction:
            return []
        count = len(self.changes)
        why = f"{count} figure{'s' if count != 1 else ''} changed" if count else \
            "its figures changed (too many to have been kept, so not listed)"
        shown = [f"  - {line}" for line in self.changes[:_MAX_CHANGES]]
        if count > _MAX_CHANGES:
            shown.append(f"  - and {count - _MAX_CHANGES} more")
        return [f"would send 1 correction of the {self.period} summary: {why}", *shown]


@dataclass(frozen=True)
class MessagePlan(PlainData):
    """The messages a run would send now (:func:`plan_messages`), rendered, with nothing recorded."""

    as_of: str
    messages: tuple[PlannedMessage, ...] = ()
    warnings: tuple[str, ...] = ()


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
    next_attempt: str = ""  # when the first of the waiting messages is tried again (UTC), if any wait

    @property
    def sent(self) -> list[Attempt]:
        """The messages accepted in this run."""
        return [attempt for attempt in self.attempts if attempt.outcome == "sent"]

    @property
    def failed(self) -> list[Attempt]:
        """The messages that failed for good in this run."""
        return [attempt for attempt in self.attempts if attempt.outcome == "failed"]

    @property
    def unknown(self) -> list[Attempt]:
        """The messages sent whose fate is unknown (no answer after the whole message), not sent again."""
        return [attempt for attempt in self.attempts if attempt.outcome == "unknown"]

    @property
    def incomplete(self) -> list[Attempt]:
        """The messages sent to some of their recipients only: others refused, or put off until later."""
        return [attempt for attempt in self.attempts if attempt.outcome == "sent"
                and (attempt.refused or attempt.deferred)]

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
                again = f" again from the outbox ({planned.resend})" if planned.resend else ""
                out.append(f"would send{again} {planned.kind} '{planned.subject}' to "
                           f"{', '.join(planned.recipients)}: written to {path}")
            for planned in self.queued:  # listed apart: revised figures mean the board hears of it again
                out.extend(planned.correction_lines())
            if not self.queued:
                out.append(f"nothing would be sent for {self.as_of}")
            return out
        for attempt in self.attempts:
            message = attempt.message
            to = ", ".join(message.recipients)
            if attempt.outcome == "sent":
                line = f"sent {message.kind} '{message.subject}' to {to} ({attempt.detail})"
                if attempt.refused:
                    line += "; refused for good: " + "; ".join(f"{r} ({why})" for r, why in attempt.refused.items())
                if attempt.deferred:
                    line += ("; put off by the server, tried again later on their own: "
                             + "; ".join(f"{r} ({why})" for r, why in attempt.deferred.items()))
            elif attempt.outcome == "retry":
                line = f"not sent yet: {message.kind} '{message.subject}' to {to}: {attempt.detail}"
            elif attempt.outcome == "unknown":
                line = f"UNKNOWN whether delivered: {message.kind} '{message.subject}' to {to}: {attempt.detail}"
            else:
                line = f"FAILED: {message.kind} '{message.subject}' to {to}: {attempt.detail}"
            out.append(line)
        if not self.attempts:
            out.append(f"nothing new to send for {self.as_of}")
        if self.waiting:
            when = (f" (the next attempt after {self.next_attempt}: a run from then sends {'them' if self.waiting != 1 else 'it'})"
                    if self.next_attempt else "")
            out.append(f"{self.waiting} message{'s' if self.waiting != 1 else ''} waiting to be retried later{when}")
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


def _load(config: MonitorConfig, as_of: str | None, jobs: Collection[str], *, rules: RuleSet | None = None,
          figures: FigureSet | None = None) -> _Inputs:
    from csp_monitor.errors import InputError, Problem
    from csp_monitor.evaluation.engine import evaluate
    from csp_monitor.load.config import summary_recipients
    from csp_monitor.load.figure_sources import load_sources
    from csp_monitor.load.rules import load_rules

    problems: list[Problem] = []
    notes: tuple[str, ...] = ()
    if rules is None:
        try:
            rules = load_rules(config.rules)
        except InputError as exc:
            problems.extend(exc.problems)
    if figures is None:
        try:
            loaded = load_sources(config)
            figures, notes = loaded.figures, loaded.notes
        except InputError as exc:
            problems.extend(exc.problems)
    summary_to: tuple[str, ...] = ()
    if rules is not None and config.summary is not None:
        try:
            summary_to = summary_recipients(config, rules.recipients)
        except InputError as exc:
            if "summary" in jobs:  # an alerts run needs them only for corrections: it goes on without
                problems.extend(exc.problems)
    if problems or rules is None or figures is None:
        raise InputError(problems)
    evaluation = evaluate(rules, figures, as_of=as_of)
    if as_of is not None:
        _check_month_has_figures(inputs_rules=rules, figures=figures, evaluation=evaluation)
    return _Inputs(rules, figures, evaluation, summary_to, notes)


def _check_month_has_figures(*, inputs_rules: RuleSet, figures: FigureSet, evaluation: Evaluation) -> None:
    """Refuse a month asked for (--as-of) that has no figures for any of the rules' measures.

    Its summary would be titled with that month and show none of it (the months before it, or nothing at
    all), and, once sent, the month's real summary would not go when its figures came.
    """
    from csp_monitor.errors import InputError, Problem
    from csp_monitor.periods import format_month, parse_month

    month = parse_month(evaluation.as_of)
    wanted = {measure.figures_measure for _, measure in inputs_rules.measures()}
    areas = sorted({result.area for result in evaluation.results})
    months = sorted({number for area in areas for measure in wanted for number in figures.series(area, measure)})
    if not months or month in months:
        return
    first, last = format_month(months[0]), format_month(months[-1])
    if month > months[-1]:
        where = f"the latest figures for the rules' measures are for {last}"
    elif month < months[0]:
        where = f"the figures for the rules' measures start in {first}"
    else:
        where = f"the figures for the rules' measures run from {first} to {last}, but that month is missing"
    raise InputError([Problem(
        f"there are no figures for {evaluation.as_of}: {where}, so its summary would show none of that month; "
        "give a month with figures, or add that month's figures first", file="--as-of")])


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


def _summary_message(config: MonitorConfig, inputs: _Inputs, now: datetime, *, shown: FiguresShown | None = None,
                     correction: _Correction | None = None) -> PlannedMessage:
    from csp_monitor.render.messages import render_summary_email
    from csp_monitor.render.summary import build_summary, previous_evaluation

    evaluation = inputs.evaluation
    previous = previous_evaluation(inputs.rules, inputs.figures, evaluation)
    summary = build_summary(inputs.rules, inputs.figures, evaluation, previous=previous,
                            charts=config.summary.charts if config.summary else True)
    rendered = render_summary_email(summary, templates=config.templates)
    key = summary_key(evaluation.partnership, evaluation.as_of)
    if correction is not None:
        rendered = _as_correction(rendered, correction)
        key = correction_key(evaluation.partnership, evaluation.as_of, correction.number)
    planned = _build(config, key=key, kind="summary", period=evaluation.as_of, rendered=rendered,
                     recipients=inputs.summary_to, now=now)
    if correction is not None:
        planned = replace(planned, correction=correction.number, changes=correction.changes)
    return replace(planned, shown=shown)


def correction_key(partnership: str, as_of: str, number: int) -> str:
    """The outbox key of a period's ``number``-th correction (1, 2 ...): a new message, a new Message-ID."""
    identity = _SEPARATOR.join(("csp-monitor-summary-correction-v1", partnership, as_of, str(number)))
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class _Correction:
    number: int
    sent_at: str
    changes: tuple[str, ...]


_MAX_CHANGES = 20
CORRECTED_MONTHS = 3
"""How many of the latest months whose summary was sent are checked for changed figures at each run."""
_BODY = re.compile(r"<body[^>]*>", re.IGNORECASE)


def _as_correction(rendered: RenderedEmail, correction: _Correction) -> RenderedEmail:
    """The summary marked as a correction: 'Correction:' in the subject, and a note on what changed first."""
    from csp_monitor.render.messages import SENSITIVE_PREFIX, clean_subject

    subject = rendered.subject.removeprefix(SENSITIVE_PREFIX).strip()
    subject = clean_subject(f"Correction: {subject}", sensitive=rendered.sensitive)
    shown = list(correction.changes[:_MAX_CHANGES])
    if len(correction.changes) > _MAX_CHANGES:
        shown.append(f"and {len(correction.changes) - _MAX_CHANGES} more")
    note = (f"Correction: this replaces the risk summary sent on {correction.sent_at[:10]}. The figures have "
            "changed since" + (":" if shown else "."))
    text = note + "".join(f"\n  - {line}" for line in shown) + "\n\n" + rendered.text
    items = "".join(f"<li>{html.escape(line)}</li>" for line in shown)
    block = (f'<div style="border:2px solid #b00020;padding:8px;margin:8px 0"><p><strong>{html.escape(note)}'
             f"</strong></p>{f'<ul>{items}</ul>' if items else ''}</div>")
    match = _BODY.search(rendered.html)
    body = (rendered.html[:match.end()] + block + rendered.html[match.end():]) if match else block + rendered.html
    return rendered.model_copy(update={"subject": subject, "text": text, "html": body})


def _figures_shown(inputs: _Inputs, month: str | None = None) -> FiguresShown:
    """The figures the summary of ``inputs`` (or of an earlier ``month``) shows: its measures' figures up to
    its month."""
    from csp_monitor.periods import format_month, parse_month

    evaluation = inputs.evaluation
    period = month or evaluation.as_of
    last = parse_month(period)
    rows = []
    for area, measure in sorted({(result.area, result.measure) for result in evaluation.results}):
        for number, value in sorted(inputs.figures.series(area, measure).items()):
            if number <= last:
                rows.append((area, measure, format_month(number), float(value),
                             inputs.figures.suspect(area, measure, number)))
    return FiguresShown(evaluation.partnership, period, tuple(rows))


def _figure(value: object) -> str:
    number = float(value) if isinstance(value, (int, float, str)) else 0.0
    return str(int(number)) if number == int(number) else f"{number:g}"


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
            if message.shown is not None:
                _record_shown(connection, message.shown, message.key, now)
    return added


class _Raced(Exception):
    """Another run queued some of the same notices first: read them again."""


def _pending_messages(config: MonitorConfig, inputs: _Inputs, pending: Sequence[Notification],
                      now: datetime) -> list[PlannedMessage]:
    """The alert emails for notices decided and not yet queued, one per recipient per month."""
    from csp_monitor.evaluation.engine import evaluate

    periods: dict[str, list[Notification]] = {}
    for notification in pending:
        periods.setdefault(notification.period, []).append(notification)
    planned: list[PlannedMessage] = []
    for period, notices in periods.items():
        judged = inputs
        if period != inputs.evaluation.as_of:  # decided for another month (by another entry point)
            try:
                judged = _Inputs(inputs.rules, inputs.figures, evaluate(inputs.rules, inputs.figures, as_of=period),
                                 inputs.summary_to, inputs.notes)
            except CspMonitorError:
                judged = inputs  # that month cannot be judged now: the notices' own words still say it all
        planned.extend(_alert_messages(config, judged, notices, now))
    return planned


def _queue(config: MonitorConfig, inputs: _Inputs, store: StateStore, summaries: Sequence[PlannedMessage],
           now: datetime) -> list[PlannedMessage]:
    """Put the summaries and every notice still to be queued into the outbox, and stamp the notices, together."""
    from csp_monitor.delivery.pending import mark_queued, pending_notifications

    for _attempt in range(5):
        pending = pending_notifications(store)
        planned = [*summaries, *_pending_messages(config, inputs, pending, now)]
        if not planned:
            return []
        try:
            with store.transaction() as connection:
                if not mark_queued(connection, [notice.key for notice in pending], now):
                    raise _Raced
                return _enqueue(connection, planned, now)
        except _Raced:
            continue
    raise StateError(f"{store.location}: other runs kept queueing the same notices; run again",
                     store=store.location)


_MAX_FIGURES_TEXT = 1_000_000  # a national summary's figures are not kept in full: only their digest


def _record_shown(connection: Connection, shown: FiguresShown, outbox_key: str | None, now: datetime) -> None:
    """Remember the figures a summary showed (in the transaction that queues it)."""
    from sqlalchemy import insert

    from csp_monitor.delivery.outbox import utc_text
    from csp_monitor.state.summary_tables import summary_figures

    text = json.dumps([list(row[:4]) for row in shown.rows], separators=(",", ":"))
    connection.execute(insert(summary_figures).values(
        partnership=shown.partnership, period=shown.period, digest=shown.digest,
        figures=text if len(text) <= _MAX_FIGURES_TEXT else None, outbox_key=outbox_key, recorded_at=utc_text(now)))


def _last_shown(connection: Connection, partnership: str, period: str) -> tuple[int, str, str | None, str] | None:
    """(how many recorded, the latest digest, its figures as JSON, when) for a month's summaries, if any."""
    from sqlalchemy import func, select

    from csp_monitor.state.summary_tables import summary_figures

    where = (summary_figures.c.partnership == partnership) & (summary_figures.c.period == period)
    count = int(connection.execute(select(func.count()).select_from(summary_figures).where(where)).scalar() or 0)
    row = connection.execute(select(summary_figures.c.digest, summary_figures.c.figures,
                                    summary_figures.c.recorded_at)
                             .where(where).order_by(summary_figures.c.id.desc()).limit(1)).first()
    return None if row is None else (count, row.digest, row.figures, row.recorded_at)


@dataclass(frozen=True)
class _SummariesSent:
    """What the store says of a partnership's summaries: whether this month's was queued, and for the latest
    months whose summary was sent, (how many recorded, digest, figures as JSON, when) of the last one."""

    done: bool = False
    last: dict[str, tuple[int, str, str | None, str] | None] = field(default_factory=dict)


def _summaries_sent(connection: Connection, partnership: str, as_of: str) -> _SummariesSent:
    """Read (only) what :func:`_corrections` compares with: a dry run reads the same as a real run."""
    from sqlalchemy import select

    from csp_monitor.delivery.outbox import has_key
    from csp_monitor.state.summary_tables import summary_figures

    done = has_key(connection, summary_key(partnership, as_of))
    months = list(connection.execute(
        select(summary_figures.c.period).distinct().where(summary_figures.c.partnership == partnership,
                                                         summary_figures.c.period <= as_of)
        .order_by(summary_figures.c.period.desc()).limit(CORRECTED_MONTHS)).scalars())
    return _SummariesSent(done, {month: _last_shown(connection, partnership, month) for month in months})


def _corrections(config: MonitorConfig, inputs: _Inputs, sent: _SummariesSent,
                 now: datetime) -> list[PlannedMessage]:
    """A correction for each month already sent whose figures differ now from those its summary showed."""
    from csp_monitor.evaluation.engine import evaluate

    evaluation = inputs.evaluation
    planned: list[PlannedMessage] = []
    for month in sorted(sent.last):
        recorded = sent.last[month]
        if recorded is None:
            continue
        count, digest, figures, recorded_at = recorded
        shown = _figures_shown(inputs, month)
        if shown.digest == digest:
            continue
        earlier = inputs if month == evaluation.as_of else replace(
            inputs, evaluation=evaluate(inputs.rules, inputs.figures, as_of=month))
        changes = tuple(shown.changes_since(json.loads(figures))) if figures else ()
        planned.append(_summary_message(config, earlier, now, shown=shown,
                                        correction=_Correction(number=count, sent_at=recorded_at, changes=changes)))
    return planned


def _plan_summaries(config: MonitorConfig, inputs: _Inputs, store: StateStore, now: datetime,
                    jobs: Collection[str]) -> list[PlannedMessage]:
    """The summaries to queue now: the month's first (summary runs), and corrections of months already sent
    whose figures have changed since (summary and alerts runs, so that a revised file is corrected soon)."""
    assert config.summary is not None
    evaluation = inputs.evaluation
    with store.transaction() as connection:
        sent = _summaries_sent(connection, evaluation.partnership, evaluation.as_of)
    planned: list[PlannedMessage] = []
    if "summary" in jobs and not sent.done:
        planned.append(_summary_message(config, inputs, now, shown=_figures_shown(inputs)))
    if not config.summary.corrections:
        return planned
    if "summary" in jobs and sent.done and evaluation.as_of not in sent.last:
        # Sent before figures were remembered (an older csp-monitor): what there is now is the baseline.
        with store.transaction() as connection:
            _record_shown(connection, _figures_shown(inputs), None, now)
    planned.extend(_corrections(config, inputs, sent, now))
    return planned


def send_once(config: MonitorConfig, *, as_of: str | date | None = None, now: datetime | None = None,
              dry_run: str | Path | None = None, jobs: Collection[str] = JOBS,
              stop: Callable[[], bool] | None = None, rules: RuleSet | None = None,
              figures: FigureSet | None = None) -> SendReport:
    """Evaluate, decide, render and deliver once; see the module docstring.

    ``jobs`` limits the run to the risk summary or the alerts (the daemon
    schedules them apart); the outbox is delivered either way. With
    ``dry_run`` (a folder) nothing is recorded or sent: the messages the run
    would send are written there as ``.eml`` and ``.html`` files, a correction
    of a summary already sent among them when its figures have changed. ``stop``
    (the daemon's "SIGTERM received") ends delivery after the message being
    sent; the rest stay queued for the next run. ``rules`` and ``figures``
    (a tool's own, built in Python) are used instead of the files the
    configuration names.
    """

    as_of = check_as_of(as_of)
    moment = datetime.now(UTC) if now is None else check_now(now)
    _check_run_arguments(config, jobs=jobs, rules=rules, figures=figures)
    if dry_run is not None:
        folder = Path(check_path(dry_run, argument="dry_run"))
        return _dry_run(config, as_of=as_of, now=moment, folder=folder, jobs=jobs, rules=rules, figures=figures)
    inputs = _load(config, as_of, jobs, rules=rules, figures=figures)
    evaluation = inputs.evaluation
    try:
        return _deliver(config, inputs, jobs=jobs, now=now, moment=moment, stop=stop)
    except CspMonitorError as exc:
        exc.as_of = evaluation.as_of  # a retry judges this month again, not a later one
        raise


def _deliver(config: MonitorConfig, inputs: _Inputs, *, jobs: Collection[str], now: datetime | None,
             moment: datetime, stop: Callable[[], bool] | None) -> SendReport:
    from csp_monitor.delivery.outbox import deliver_due, list_messages, recover
    from csp_monitor.state import open_store

    transport = make_transport(config)  # reads the password now: fail before deciding anything
    evaluation = inputs.evaluation
    warnings: list[str] = [*inputs.notes, *evaluation.warnings]
    try:
        with open_store(config.state) as store:
            recovered = recover(store, now=moment)
            summaries: list[PlannedMessage] = []
            if config.summary is not None and inputs.summary_to:
                summaries = _plan_summaries(config, inputs, store, moment, jobs)  # charts drawn outside the transaction
            if "alerts" in jobs and inputs.rules.alerts:
                from csp_monitor.alerts.record import decide_and_record

                decision = decide_and_record(store, inputs.rules, evaluation, now=moment)
                warnings.extend(decision.warnings)
            queued = _queue(config, inputs, store, summaries, moment)
            attempts = deliver_due(store, transport, now=moment, retry=config.delivery.retry,
                                   clock=(lambda: datetime.now(UTC)) if now is None else None, stop=stop)
            queue = list_messages(store, statuses=["queued"])
    finally:
        transport.close()
    return SendReport(as_of=evaluation.as_of, queued=tuple(queued), attempts=tuple(attempts),
                      recovered=tuple(recovered), warnings=tuple(warnings), method=transport.description,
                      waiting=len(queue), next_attempt=min((row.next_attempt_at for row in queue), default=""))


def _check_run_arguments(config: object, *, jobs: Collection[str], rules: object, figures: object) -> None:
    """Refuse arguments of the wrong kind before anything is read or recorded."""
    from csp_monitor.models.figures import FigureSet
    from csp_monitor.models.rules import RuleSet

    check_kind(config, MonitorConfig, argument="config", made_by="from load_config or config_from_data")
    if isinstance(jobs, str) or not isinstance(jobs, Collection) or set(jobs) - set(JOBS):
        raise ArgumentError(f"jobs must be a list of {' and '.join(JOBS)}, not {shown_value(repr(jobs))}",
                            argument="jobs")
    if rules is not None:
        check_kind(rules, RuleSet, argument="rules", made_by="from load_rules or rules_from_data")
    if figures is not None:
        check_kind(figures, FigureSet, argument="figures", made_by="from load_figures or FigureSet.from_figures")


def plan_messages(config: MonitorConfig, *, as_of: str | date | None = None, now: datetime | None = None,
                  jobs: Collection[str] = JOBS, include_sent: bool = False, rules: RuleSet | None = None,
                  figures: FigureSet | None = None) -> MessagePlan:
    """The messages a run would send now, rendered, with nothing recorded.

    Messages already in the outbox that the run would send again (a retry
    after a failure, a resend after no answer, a message a stopped run left
    in flight) come first, with the outbox's bytes and
    :attr:`PlannedMessage.resend` saying why; those still waiting for their
    retry time are named in the warnings. Corrections are among them: a summary already sent whose figures have
    changed since (its :attr:`PlannedMessage.correction` is set, and
    :attr:`PlannedMessage.changes` lists what changed). With ``include_sent``
    the summary is rendered even when this period's summary is already in
    the outbox (``preview``). ``rules`` and ``figures`` are used instead of
    the configuration's files, as in :func:`send_once`.
    """
    from csp_monitor.alerts.decide import decide
    from csp_monitor.models.alert_state import RememberedState

    as_of = check_as_of(as_of)
    moment = datetime.now(UTC) if now is None else check_now(now)
    _check_run_arguments(config, jobs=jobs, rules=rules, figures=figures)
    inputs = _load(config, as_of, jobs, rules=rules, figures=figures)
    evaluation = inputs.evaluation
    warnings = [*inputs.notes, *evaluation.warnings]
    store = _open_existing(config)
    planned: list[PlannedMessage] = []
    try:
        sent = _SummariesSent()
        remembered = RememberedState()
        if store is not None:
            with store.transaction(read_only=True) as connection:  # a dry run records nothing
                sent = _summaries_sent(connection, evaluation.partnership, evaluation.as_of)
                if "alerts" in jobs and inputs.rules.alerts:
                    remembered = store.remembered(connection, evaluation, now=moment)
        summaries = config.summary is not None and bool(inputs.summary_to)
        if "summary" in jobs and summaries and (include_sent or not sent.done):
            planned.append(_summary_message(config, inputs, moment))
        if summaries and config.summary is not None and config.summary.corrections:
            planned.extend(_corrections(config, inputs, sent, moment))  # as a real run of either job would
        notices: list[Notification] = []
        if store is not None:
            from csp_monitor.delivery.pending import pending_notifications

            notices.extend(pending_notifications(store, read_only=True))
        if "alerts" in jobs and inputs.rules.alerts:
            plan = decide(evaluation, inputs.rules, remembered, now=moment)
            warnings.extend(plan.decision.warnings)
            notices.extend(plan.decision.notifications)
        planned.extend(_pending_messages(config, inputs, notices, moment))
        if store is not None:
            planned, waiting = _with_resends(store, planned, moment)
            warnings.extend(waiting)
    finally:
        if store is not None:
            store.close()
    return MessagePlan(as_of=evaluation.as_of, messages=tuple(planned), warnings=tuple(warnings))


def _with_resends(store: StateStore, planned: list[PlannedMessage], now: datetime
                  ) -> tuple[list[PlannedMessage], list[str]]:
    """The messages already in the outbox that a run now would send again (a failure retried, a send left
    unanswered, a run that died), first and marked, then the new ones; and a note on those waiting for later."""
    from csp_monitor.delivery.outbox import resends

    with store.transaction(read_only=True) as connection:
        again, waiting = resends(connection, now=now, adding=[message.key for message in planned])
    keys = {resend.message.key for resend in again}
    old = [PlannedMessage(key=row.key, kind=row.kind, period=row.period, message_id=row.message_id,
                          sender=row.sender, recipients=row.recipients, subject=row.subject, data=data, resend=why)
           for row, data, why in ((resend.message, resend.data, resend.why) for resend in again)]
    notes = [f"{row.kind} '{row.subject}' to {', '.join(row.recipients)} is in the outbox waiting to be tried "
             f"again after {row.next_attempt_at}: a run now would not send it yet"
             + (f" ({row.last_error})" if row.last_error else "") for row in waiting]
    return [*old, *(message for message in planned if message.key not in keys)], notes


def _open_existing(config: MonitorConfig) -> StateStore | None:
    """The store if it exists (a dry run never creates one)."""
    import os

    from csp_monitor.state import open_store

    if not config.state_is_url and not os.path.exists(config.state):
        return None
    try:
        return open_store(config.state, read_only=True)  # an older store is read through an upgraded copy
    except StateError as exc:
        if exc.reason == "new":  # an empty database, as a SQLite file not yet there: nothing sent before
            return None
        raise


def write_planned(planned: Sequence[PlannedMessage], folder: Path) -> list[Path]:
    """Write each message as ``.eml`` plus ``.html`` into ``folder``; return the .eml paths."""
    from csp_monitor.delivery.folder import FolderTransport

    transport = FolderTransport(folder)
    before = set(folder.iterdir()) if folder.is_dir() else set()
    paths: list[Path] = []
    try:
        for message in planned:
            receipt = transport.send(message.data, sender=message.sender, recipients=message.recipients,
                                     message_id=message.message_id)
            paths.append(Path(receipt.reply.removeprefix("written to ")))
    except DeliveryError as exc:  # a full disk halfway: take back what was written, so no half set is left
        for written in paths:
            for path in (written.with_suffix(".html"), written):
                if path not in before:
                    path.unlink(missing_ok=True)
        raise DeliveryError(f"{exc.message}; none of the {len(planned)} messages was left in {folder}") from None
    return paths


def _dry_run(config: MonitorConfig, *, as_of: str | None, now: datetime, folder: Path,
             jobs: Collection[str], rules: RuleSet | None, figures: FigureSet | None) -> SendReport:
    plan = plan_messages(config, as_of=as_of, now=now, jobs=jobs, rules=rules, figures=figures)
    written = write_planned(plan.messages, folder)
    return SendReport(as_of=plan.as_of, queued=plan.messages, written=tuple(written), dry_run=folder,
                      warnings=plan.warnings, method=f"dry run into {folder}")
