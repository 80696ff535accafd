"""A cron trigger that reads the cron on the wall clock, so the clock changes neither double nor skew a run.

APScheduler 3's ``CronTrigger`` in a time zone with summer time misbehaves in
the hour the clocks go back: it can return the same run again, or go
backwards (``*/30``: 01:00, 00:30, 01:00 ...), and in the hour they go
forward it moves a run an hour late, onto the next run's time. Hourly and
sub-hourly crons meet those hours every year. This trigger works out the
cron's times as wall-clock times (the cron read as if in UTC, which has no
clock changes), then gives each its real instant:

* a wall-clock time **the clocks skip** (01:00 to 01:59 on the last Sunday
  of March in the UK) does not happen: that run is skipped;
* a wall-clock time **that happens twice** (01:00 to 01:59 on the last
  Sunday of October) runs once, the first time: the repeat is merged into it
  (the run ledger keys runs by wall-clock time too, so even a second firing
  would do nothing).

Crons whose *only* runs on such a day fall in those hours are refused when
the configuration is read (see :func:`csp_monitor.cron.clock_change_clashes`),
so a skipped or merged run is always one of several that day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from apscheduler.triggers.base import BaseTrigger

from csp_monitor.cron import cron_trigger

__all__ = ["WallClockCronTrigger"]

_STEP = timedelta(microseconds=1)
_MAX_STEPS = 10_000


class WallClockCronTrigger(BaseTrigger):  # type: ignore[misc]
    """Fires at a five-field crontab ``expression``'s wall-clock times in ``zone``, each real time once."""

    def __init__(self, expression: str, zone: tzinfo) -> None:
        self.expression = expression
        self.zone = zone
        self._wall = cron_trigger(expression, UTC)  # the cron on naive wall-clock time

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        """The first run at or after ``now`` (after ``previous_fire_time`` when given, if that is earlier)."""
        start = now if previous_fire_time is None else min(now, previous_fire_time + _STEP)
        start = start.astimezone(UTC)
        if previous_fire_time is not None and start <= previous_fire_time.astimezone(UTC):
            start = previous_fire_time.astimezone(UTC) + _STEP
        wall = start.astimezone(self.zone).replace(tzinfo=None)
        for _ in range(_MAX_STEPS):
            candidate = self._wall.get_next_fire_time(None, wall.replace(tzinfo=UTC))
            if candidate is None:
                return None
            local: datetime = candidate.replace(tzinfo=None)
            instant = local.replace(tzinfo=self.zone)  # fold 0: the first of a repeated time
            real = instant.astimezone(UTC)
            exists = real.astimezone(self.zone).replace(tzinfo=None) == local
            if exists and real >= start:
                return real.astimezone(self.zone)
            wall = local + _STEP  # skipped by the clocks, or its one real time has passed: the next
        return None

    def __str__(self) -> str:
        return f"cron[{self.expression}] on the wall clock in {self.zone}"

    def __repr__(self) -> str:
        return f"<WallClockCronTrigger ({self.expression!r}, zone={self.zone!s})>"
