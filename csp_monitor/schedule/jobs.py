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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from csp_monitor.errors import CspMonitorError, InputError
from csp_monitor.models.schedule import Schedule
from csp_monitor.schedule import ledger
from csp_monitor.schedule.occurrences import Occurrence

if TYPE_CHECKING:
    from csp_monitor.delivery.outbox import Attempt
    from csp_monitor.delivery.run import SendReport
    from csp_monitor.models.config import MonitorConfig
    from csp_monitor.state.store import StateStore

__all__ = [
    "JobResult",
    "config_for",
    "manual_occurrence",
    "retry_outbox",
    "run_job",
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
    _log_attempts(schedule.id, report.attempts, fields)
    ledger.finish(store, held, "succeeded", detail=detail, as_of=report.as_of, stop=stop)
    log.info("%s: done: %s", schedule.id, detail, extra={"event": "job.finished", **fields, "as_of": report.as_of})
    return JobResult(schedule.id, schedule.run, occurrence, "succeeded", detail=detail, report=report)


def _recorded_month(store: StateStore, occurrence: Occurrence) -> str | None:
    """The month a retried run was judging when it failed: its retry judges that month, not a later one."""
    record = ledger.lookup(store, occurrence.schedule_id, occurrence.key)
    return record.as_of if record is not None else None


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


def _log_attempts(job: str, attempts: tuple[Attempt, ...] | list[Attempt], fields: dict[str, str]) -> None:
    for attempt in attempts:
        message = attempt.message
        extra = {**fields, "message_id": message.message_id, "kind": message.kind,
                 "recipients": ", ".join(message.recipients), "outcome": attempt.outcome}
        if attempt.outcome == "sent":
            log.info("%s: sent %s '%s' to %s (%s)", job, message.kind, message.subject, extra["recipients"],
                     attempt.detail, extra={"event": "message.sent", **extra})
        elif attempt.outcome == "unknown":
            log.error("%s: may or may not have been delivered (not sent again): %s '%s' to %s: %s", job,
                      message.kind, message.subject, extra["recipients"], attempt.detail,
                      extra={"event": "message.unknown", **extra})
        elif attempt.outcome == "retry":
            log.warning("%s: not sent yet, will retry: %s '%s' to %s: %s", job, message.kind, message.subject,
                        extra["recipients"], attempt.detail, extra={"event": "message.retry", **extra})
        else:
            log.error("%s: could not be delivered: %s '%s' to %s: %s", job, message.kind, message.subject,
                      extra["recipients"], attempt.detail, extra={"event": "message.failed", **extra})


def _summary(report: SendReport) -> str:
    parts = [f"as of {report.as_of}", f"queued {len(report.queued)}", f"sent {len(report.sent)}"]
    if report.retrying:
        parts.append(f"{len(report.retrying)} to retry")
    if report.failed:
        parts.append(f"{len(report.failed)} failed")
    if report.unknown:
        parts.append(f"{len(report.unknown)} unknown")
    if report.recovered:
        parts.append(f"{len(report.recovered)} resent after a crash")
    return ", ".join(parts)


def _cause(exc: CspMonitorError) -> str:
    if isinstance(exc, InputError):
        return "; ".join(str(problem) for problem in exc.problems) or exc.message
    return exc.message


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
