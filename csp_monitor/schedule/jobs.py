"""The one job function: what the daemon runs at each occurrence and ``run-once`` runs now.

:func:`run_job` claims the occurrence in the run ledger (so a second firing
does nothing), runs the delivery layer's :func:`~csp_monitor.delivery.run.send_once`
for the schedule's job (the risk summary or the alerts), and records how it
ended. A job that fails is logged with its cause and recorded as ``failed``
with the month it was judging (once known) and when it is retried
(``retry_runs``: a growing wait, for at most ``give_up_after``); the
daemon's housekeeping runs that same occurrence again, for that same month,
until it succeeds. Nothing is ever dropped silently.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from csp_monitor.errors import CspMonitorError, FiguresError, InputError, Problem
from csp_monitor.models.schedule import Schedule
from csp_monitor.schedule import ledger
from csp_monitor.schedule.occurrences import Occurrence

if TYPE_CHECKING:
    from csp_monitor.delivery.outbox import Attempt
    from csp_monitor.delivery.run import SendReport
    from csp_monitor.load.figure_sources import DroppedFile
    from csp_monitor.models.config import MonitorConfig
    from csp_monitor.state.store import StateStore

__all__ = [
    "SETTLE_LOOKS",
    "JobResult",
    "config_for",
    "manual_occurrence",
    "retry_outbox",
    "run_job",
    "wait_for_settled_figures",
]

log = logging.getLogger("csp_monitor.jobs")

@dataclass(frozen=True)
class JobResult:
    """How one job run ended."""

    schedule_id: str
    run: str
    occurrence: Occurrence
    outcome: Literal["succeeded", "failed", "already-done"]
    detail: str = ""
    error: str | None = None
    report: SendReport | None = None


def manual_occurrence(schedule: Schedule, now: datetime) -> Occurrence:
    """An occurrence for a run started by hand (``run-once``): its own key, never a scheduled one's."""
    at = now.astimezone(UTC)
    return Occurrence(schedule.id, at, f"manual {at.replace(tzinfo=None).isoformat(timespec='microseconds')}Z")


def config_for(config: MonitorConfig, schedule: Schedule) -> MonitorConfig:
    """The configuration a schedule's run uses: its ``to`` replaces the summary's recipients."""
    if schedule.to is None:
        return config
    from csp_monitor.models.config import SummarySettings

    summary = (config.summary.model_copy(update={"to": list(schedule.to)}) if config.summary is not None
               else SummarySettings(to=list(schedule.to)))
    return config.model_copy(update={"summary": summary})  # keeps where the file's keys are, for problems


def run_job(config: MonitorConfig, store: StateStore, schedule: Schedule, occurrence: Occurrence, *,
            reason: ledger.Reason, as_of: str | None = None, stop: Callable[[], bool] | None = None,
            note: str | None = None) -> JobResult:
    """Claim ``occurrence`` and, if it is ours, run the schedule's job once; record the outcome.

    ``stop()`` turning true (SIGTERM) ends delivery after the message being sent; what is left stays
    in the outbox, and the daemon's next start sends it. ``note`` opens the run's recorded detail
    (the drop-folder watcher names the files that started it).
    """
    fields = {"job": schedule.id, "run": schedule.run, "occurrence": occurrence.key, "reason": reason}
    held = ledger.claim(store, occurrence, run=schedule.run, reason=reason, as_of=as_of,
                        retry=reason in ("retry", "manual"))
    if held is None:
        log.info("%s: already done for %s", schedule.id, occurrence.key, extra={"event": "job.skipped", **fields})
        return JobResult(schedule.id, schedule.run, occurrence, "already-done")
    if held.attempts > 1:
        fields["attempt"] = str(held.attempts)
    log.info("%s: running the %s job", schedule.id, schedule.run, extra={"event": "job.started", **fields})
    from csp_monitor.delivery.run import send_once

    month = as_of or _recorded_month(store, occurrence)
    try:
        wait_for_settled_figures(config, stop=stop)
        report = send_once(config_for(config, schedule), as_of=month, jobs=(schedule.run,), stop=stop)
    except Exception as exc:
        # Not a CspMonitorError: a bug. Keep the daemon alive, and the traceback in the log.
        internal = not isinstance(exc, CspMonitorError)
        error = _cause(exc) if isinstance(exc, CspMonitorError) else f"internal error: {type(exc).__name__}: {exc}"
        judged = month or getattr(exc, "as_of", None)
        following = None
        if not occurrence.key.startswith("manual "):  # a run-once of its own: the person who ran it saw it fail
            following = ledger.retry_at(config.retry_runs, scheduled_at=occurrence.at, attempts=held.attempts,
                                        now=datetime.now(UTC))
        ledger.finish(store, held, "failed", error=error, as_of=judged, next_attempt_at=following, stop=stop)
        when = (f"retried at {following:%Y-%m-%d %H:%M:%S} UTC" if following is not None else
                "not retried again (run it by hand with csp-monitor run-once)"
                if not occurrence.key.startswith("manual ") else "run it again by hand")
        extra = {"event": "job.failed", **fields, "error": error,
                 "next_attempt": following.isoformat() if following else None, "as_of": judged}
        if internal:
            log.exception("%s: failed, %s: %s", schedule.id, when, error, extra=extra)
        else:
            log.error("%s: failed, %s: %s", schedule.id, when, error, extra=extra)
        return JobResult(schedule.id, schedule.run, occurrence, "failed", error=error)
    detail = f"{note}; {_summary(report)}" if note else _summary(report)
    for line in report.warnings:
        log.warning("%s: %s", schedule.id, line, extra={"event": "job.warning", **fields})
    _log_attempts(schedule.id, report.attempts, fields, queued_now={message.key for message in report.queued})
    ledger.finish(store, held, "succeeded", detail=detail, as_of=report.as_of, stop=stop)
    log.info("%s: done: %s", schedule.id, detail, extra={"event": "job.finished", **fields, "as_of": report.as_of})
    return JobResult(schedule.id, schedule.run, occurrence, "succeeded", detail=detail, report=report)


def _recorded_month(store: StateStore, occurrence: Occurrence) -> str | None:
    """The month a retried run was judging when it failed: its retry judges that month, not a later one."""
    record = ledger.lookup(store, occurrence.schedule_id, occurrence.key)
    return record.as_of if record is not None else None


SETTLE_LOOKS = 12
"""How many looks at figures files that keep changing before the run fails (and is tried again later)."""


def wait_for_settled_figures(config: MonitorConfig, *, stop: Callable[[], bool] | None = None,
                             sleep: Callable[[float], None] = time.sleep,
                             clock: Callable[[], float] = time.time) -> None:
    """Return once the figures files have stayed the same for ``config.settle_seconds``.

    As the drop-folder watcher does: the files (names, sizes, modification times) must look the same at
    two looks ``settle_seconds`` apart, so a file still being copied is not read half-written. Files all
    last changed longer ago than that are taken at once, without a second look. Raises
    :class:`FiguresError` when they still change after :data:`SETTLE_LOOKS` looks.
    """
    from csp_monitor.load.figure_sources import figures_listing

    pause = float(config.settle_seconds)
    if pause <= 0:
        return
    previous: tuple[DroppedFile, ...] | None = None
    for _ in range(SETTLE_LOOKS):
        files = figures_listing(config)
        if previous is not None and files == previous:
            return
        newest = max((file.mtime_ns for file in files), default=0) / 1e9
        if previous is None and clock() - newest >= pause:
            return
        if stop is not None and stop():
            return  # stopping: the run goes ahead as it is, or not at all
        if previous is not None:
            changed = sorted({file.path for file in set(files) ^ set(previous)})
            log.info("figures files are being written (%s); reading them once they stay the same for %g s",
                     ", ".join(changed), pause, extra={"event": "figures.changing"})
        previous = files
        sleep(pause)
    changed = sorted({file.path for file in set(figures_listing(config)) ^ set(previous or ())})
    raise FiguresError([Problem(f"this file was still being written after {SETTLE_LOOKS} looks {pause:g} s apart, "
                                "so it was not read; the run is tried again later", file=path) for path in changed]
                       or [Problem("the figures files kept changing, so they were not read; the run is tried "
                                   "again later", file=config.file)])


def retry_outbox(config: MonitorConfig, store: StateStore, *, now: datetime | None = None,
                 stop: Callable[[], bool] | None = None) -> list[Attempt]:
    """Send again whatever in the outbox is due a retry (or was in flight when a process died)."""
    from csp_monitor.delivery.outbox import deliver_due, recover
    from csp_monitor.delivery.run import make_transport
    from csp_monitor.state.outbox_tables import outbox

    moment = now or datetime.now(UTC)
    for message in recover(store, now=moment):
        log.warning("resending %s '%s' %s: it was in flight when a run stopped", message.kind, message.subject,
                    message.message_id, extra={"event": "outbox.recovered", "message_id": message.message_id})
    from sqlalchemy import func, select

    with store.transaction() as connection:
        due = connection.execute(select(func.count()).select_from(outbox).where(
            outbox.c.status == "queued", outbox.c.next_attempt_at <= _utc_text(moment))).scalar()
    if not due:
        return []
    attempts = deliver_due(store, make_transport(config), now=moment, retry=config.delivery.retry,
                           clock=lambda: datetime.now(UTC), stop=stop)
    _log_attempts("outbox", attempts, {"job": "outbox"})
    return attempts


def _log_attempts(job: str, attempts: tuple[Attempt, ...] | list[Attempt], fields: dict[str, str], *,
                  queued_now: set[str] | None = None) -> None:
    """One line per message; a message this run did not queue (an alert queued by an earlier alerts run, sent
    by the summary job's delivery) says so, so that no one reads it as this job's own."""
    for attempt in attempts:
        message = attempt.message
        ours = queued_now is not None and message.key in queued_now
        origin = "this run" if ours else "an earlier run"
        extra = {**fields, "message_id": message.message_id, "kind": message.kind,
                 "recipients": ", ".join(message.recipients), "outcome": attempt.outcome, "queued_by": origin}
        what = f"{message.kind} '{message.subject}'" + ("" if ours else " (queued by an earlier run)")
        if attempt.outcome == "sent":
            log.info("%s: sent %s to %s (%s)", job, what, extra["recipients"], attempt.detail,
                     extra={"event": "message.sent", **extra})
            if attempt.refused:
                log.error("%s: %s was refused for good for %s", job, what,
                          "; ".join(f"{r} ({why})" for r, why in attempt.refused.items()),
                          extra={"event": "message.refused", **extra, "refused": ", ".join(attempt.refused)})
            if attempt.deferred:
                log.warning("%s: %s was put off by the server for %s: tried again later for them alone", job, what,
                            "; ".join(f"{r} ({why})" for r, why in attempt.deferred.items()),
                            extra={"event": "message.deferred", **extra, "deferred": ", ".join(attempt.deferred)})
        elif attempt.outcome == "unknown":
            log.error("%s: may or may not have been delivered (not sent again): %s to %s: %s", job, what,
                      extra["recipients"], attempt.detail, extra={"event": "message.unknown", **extra})
        elif attempt.outcome == "retry":
            log.warning("%s: not sent yet, will retry: %s to %s: %s", job, what, extra["recipients"],
                        attempt.detail, extra={"event": "message.retry", **extra})
        else:
            log.error("%s: could not be delivered: %s to %s: %s", job, what, extra["recipients"], attempt.detail,
                      extra={"event": "message.failed", **extra})


def _kinds(messages: list[str]) -> str:
    """``1 summary, 3 alerts``."""
    counts = {kind: messages.count(kind) for kind in sorted(set(messages), key=("summary", "alert").index)}
    return ", ".join(f"{count} {kind}{'s' if count != 1 else ''}" for kind, count in counts.items())


def _summary(report: SendReport) -> str:
    queued = [message.kind for message in report.queued]
    sent = [attempt.message.kind for attempt in report.sent]
    parts = [f"as of {report.as_of}", f"queued {len(queued)}" + (f" ({_kinds(queued)})" if queued else ""),
             f"sent {len(sent)}" + (f" ({_kinds(sent)})" if sent else "")]
    if report.retrying:
        parts.append(f"{len(report.retrying)} to retry")
    if report.failed:
        parts.append(f"{len(report.failed)} failed")
    if report.unknown:
        parts.append(f"{len(report.unknown)} unknown")
    if report.incomplete:
        parts.append(f"{len(report.incomplete)} to only some recipients")
    if report.recovered:
        parts.append(f"{len(report.recovered)} resent after a crash")
    return ", ".join(parts)


def _cause(exc: CspMonitorError) -> str:
    if isinstance(exc, InputError):
        return "; ".join(str(problem) for problem in exc.problems) or exc.message
    return exc.message


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
