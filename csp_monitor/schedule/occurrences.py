"""When a schedule runs: its trigger, its occurrences, and the key of each.

An *occurrence* is one time a schedule asks to run. The run ledger records
each occurrence once, under a key that names the time the way the schedule
does: a cron by its local wall-clock time (so if the clocks ever repeated an
hour, the repeat would be the same occurrence), an interval by its UTC time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from csp_monitor.models.schedule import Schedule

if TYPE_CHECKING:
    from apscheduler.triggers.base import BaseTrigger

__all__ = [
    "EPOCH",
    "Occurrence",
    "latest_occurrence",
    "local_time",
    "next_occurrence",
    "occurrence_at",
    "trigger_for",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""Interval schedules count from here, so their run times survive a restart."""

# How far back to look for a cron's latest occurrence, widening until one is found.
_LOOKBACK = (timedelta(hours=1), timedelta(days=1), timedelta(days=8), timedelta(days=32),
             timedelta(days=367), timedelta(days=5 * 366), timedelta(days=29 * 366))
_MAX_STEPS = 2000


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One time a schedule asks to run."""

    schedule_id: str
    at: datetime  # aware, UTC
    key: str

    def local(self, zone: tzinfo) -> datetime:
        """The occurrence in the configuration's time zone."""
        return self.at.astimezone(zone)


def trigger_for(schedule: Schedule, zone: tzinfo) -> BaseTrigger:
    """APScheduler's trigger for ``schedule`` in ``zone``."""
    if schedule.cron is not None:
        from csp_monitor.schedule.wall_clock import WallClockCronTrigger

        return WallClockCronTrigger(schedule.cron, zone)
    from apscheduler.triggers.interval import IntervalTrigger

    assert schedule.interval_seconds is not None
    return IntervalTrigger(seconds=schedule.interval_seconds, start_date=EPOCH, timezone=zone)


def occurrence_at(schedule: Schedule, zone: tzinfo, at: datetime) -> Occurrence:
    """The occurrence of ``schedule`` at the aware time ``at``, with its ledger key."""
    at = at.astimezone(UTC)
    if schedule.cron is not None:
        local = at.astimezone(zone).replace(tzinfo=None)
        key = f"{local.isoformat(timespec='seconds')} {zone}"
    else:
        key = at.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    return Occurrence(schedule.id, at, key)


def latest_occurrence(schedule: Schedule, zone: tzinfo, now: datetime) -> Occurrence | None:
    """The most recent occurrence at or before ``now``, or None when there has been none."""
    now = now.astimezone(UTC)
    if schedule.interval_seconds is not None:
        step = schedule.interval_seconds
        elapsed = int((now - EPOCH).total_seconds())
        return occurrence_at(schedule, zone, EPOCH + timedelta(seconds=elapsed - elapsed % step))
    trigger = trigger_for(schedule, zone)
    for window in _LOOKBACK:
        first = trigger.get_next_fire_time(None, now - window)
        if first is None or first > now:
            continue
        # Compare in UTC: Python compares two times of one zone by wall clock,
        # which cannot tell the two 01:30s of the repeated hour apart.
        fire = first.astimezone(UTC)
        for _ in range(_MAX_STEPS):
            following = trigger.get_next_fire_time(fire.astimezone(zone), fire + timedelta(microseconds=1))
            if following is None or following.astimezone(UTC) <= fire or following > now:
                break
            fire = following.astimezone(UTC)
        return occurrence_at(schedule, zone, fire)
    return None


def next_occurrence(schedule: Schedule, zone: tzinfo, now: datetime) -> Occurrence | None:
    """The first occurrence strictly after ``now``."""
    now = now.astimezone(UTC)
    if schedule.interval_seconds is not None:
        step = schedule.interval_seconds
        elapsed = int((now - EPOCH).total_seconds())
        return occurrence_at(schedule, zone, EPOCH + timedelta(seconds=elapsed - elapsed % step + step))
    fire = trigger_for(schedule, zone).get_next_fire_time(None, now + timedelta(microseconds=1))
    return occurrence_at(schedule, zone, fire) if fire is not None else None


def local_time(moment: datetime | None, zone: tzinfo) -> str:
    """A time for people, in the configuration's zone: ``2026-06-10 07:00:00 BST`` (or ``never``)."""
    if moment is None:
        return "never"
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"
