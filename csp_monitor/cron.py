"""Cron expressions in a time zone, and the hours in which the clocks change.

A schedule's ``cron`` is the five fields of crontab(5): minute, hour, day of
the month, month, day of the week. APScheduler 3 reads them with two
differences from crontab that would surprise council IT, so this module
closes both before APScheduler sees the expression:

* APScheduler 3 counts the days of the week from 0 = Monday; crontab from
  0 = Sunday (7 is Sunday too). Numbers are translated the crontab way.
* With both a day of the month and a day of the week, crontab runs on either
  day, APScheduler only on days that match both. Giving both is refused.

In a time zone with summer time some local times do not happen once a year
(the clocks go forward: in Europe/London 01:00-01:59 on the last Sunday of
March) and some happen twice (the clocks go back: 01:00-01:59 on the last
Sunday of October). :func:`clock_change_clashes` finds every run a cron has
in those hours over a full 28-year cycle of weekdays and leap years, by
computing the cron's actual fire times. A cron with other runs that day
(hourly, every 15 minutes) keeps them: the daemon skips the runs the clocks
skip and runs a repeated time once. A cron whose only run that day is in
those hours (01:30 every night) would lose or double that day's run, and
is refused.

APScheduler is imported only inside the functions that need it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

__all__ = [
    "CLASH_YEARS",
    "ClockChange",
    "ClockChangeClash",
    "clock_change_clashes",
    "clock_changes",
    "cron_trigger",
    "describe_clash",
    "load_timezone",
]

CLASH_YEARS = 28
"""Weekdays and leap years repeat every 28 years (within a century): checking
that long finds every date a cron can fall on in a clock-change hour."""

FIELD_NAMES = ("minute", "hour", "day of the month", "month", "day of the week")
_APSCHEDULER_FIELDS = ("minute", "hour", "day", "month", "day_of_week")
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAY_PART = re.compile(r"^(?P<range>\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(?P<step>\d+))?$")
_LONGEST_ZONE = 64  # the longest IANA name is 32 characters ("America/Argentina/ComodRivadavia")
_EXAMPLE = "for example '0 7 10 * *' is 07:00 on the 10th of every month"


def load_timezone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; raise ValueError in plain English."""
    try:
        if not name or name != name.strip() or ".." in name or name.startswith("/") or len(name) > _LONGEST_ZONE:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name the file system cannot look up
        import difflib

        close = difflib.get_close_matches(name, sorted(available_timezones()), n=1, cutoff=0.6) \
            if len(name) <= _LONGEST_ZONE else []
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        shown = name if len(name) <= _LONGEST_ZONE else f"{name[:_LONGEST_ZONE]}..."
        raise ValueError(
            f"'{shown}' is not a time zone this computer knows{hint}: use an IANA name "
            "such as Europe/London") from None


def cron_trigger(expression: str, timezone: tzinfo) -> CronTrigger:
    """APScheduler's trigger for a five-field crontab ``expression``; ValueError in plain English."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(
            f"'{expression}' is not a cron schedule: it needs five fields (minute, hour, day of the "
            f"month, month, day of the week) separated by spaces, but has {len(fields)}; {_EXAMPLE}")
    minute, hour, day, month, day_of_week = fields
    try:
        day_of_week = _crontab_weekdays(day_of_week)
    except ValueError as exc:
        raise ValueError(f"the day of the week '{fields[4]}' in '{expression}' is not valid: {exc}") from None
    values = (minute, hour, day, month, day_of_week)
    for index, (keyword, value) in enumerate(zip(_APSCHEDULER_FIELDS, values, strict=True)):
        try:
            CronTrigger(**{keyword: value}, timezone=timezone)
        except ValueError as exc:
            raise ValueError(
                f"the {FIELD_NAMES[index]} '{fields[index]}' in '{expression}' is not valid: "
                f"{_plain(str(exc))}; {_EXAMPLE}") from None
    if day != "*" and fields[4] != "*":
        raise ValueError(
            f"'{expression}' gives both a day of the month ('{day}') and a day of the week "
            f"('{fields[4]}'): cron programs disagree on whether that means either day or only "
            "days that are both, so give one of them and '*' for the other")
    trigger = CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=day_of_week,
                          timezone=timezone)
    if trigger.get_next_fire_time(None, datetime(2000, 1, 1, tzinfo=UTC)) is None:
        raise ValueError(f"'{expression}' never runs: no date has that day of the month in that month")
    return trigger


def _plain(message: str) -> str:
    """APScheduler's wording, made to read as one sentence."""
    message = re.sub(r"^Error validating expression '[^']*': ", "", message)
    message = re.sub(r'^Unrecognized expression "[^"]*" for field "[^"]*"$',
                     "write a number, a range such as 1-5, a list such as 1,15 or a step such as */2",
                     message)
    return message[:1].lower() + message[1:]


def _crontab_weekdays(field: str) -> str:
    """Translate a crontab day-of-week field (0 or 7 = Sunday) into APScheduler's names."""
    if field == "*":
        return field
    days: set[int] = set()
    for part in field.lower().split(","):
        match = _DAY_PART.match(part)
        if not match:
            raise ValueError(f"'{part}' is not a day, a range such as mon-fri, or a step such as */2")
        text, step_text = match.group("range"), match.group("step")
        step = int(step_text) if step_text is not None else 1
        if step < 1:
            raise ValueError("a step must be 1 or more")
        if text == "*":
            first, last = 0, 6
        elif "-" in text:
            first_text, last_text = text.split("-")
            first, last = _weekday(first_text, end=True), _weekday(last_text, end=True)
            if first > last:
                raise ValueError(f"the range '{text}' runs backwards: write the earlier day first")
        else:
            first = _weekday(text)
            last = 6 if step_text is not None else first
        days.update(day % 7 for day in range(first, last + 1, step))
    # APScheduler's own order (Monday first) reads naturally in logs.
    return ",".join(_DAY_NAMES[day] for day in (1, 2, 3, 4, 5, 6, 0) if day in days)


def _weekday(text: str, *, end: bool = False) -> int:
    if text.isdigit():
        number = int(text)
        if number > 7:
            raise ValueError(f"'{text}' is not a day of the week: use 0-7 (0 and 7 are Sunday) or mon-sun")
        # 7 is Sunday; within a range (5-7) it must stay after Saturday.
        return number if end or number != 7 else 0
    if text in _DAY_NAMES:
        return _DAY_NAMES.index(text)
    raise ValueError(f"'{text}' is not a day of the week: use 0-7 (0 and 7 are Sunday) or mon-sun")


@dataclass(frozen=True, slots=True)
class ClockChange:
    """One change of the clocks: at ``instant`` (UTC) the offset goes from ``before`` to ``after``."""

    instant: datetime
    before: timedelta
    after: timedelta

    @property
    def kind(self) -> Literal["forward", "back"]:
        """``forward`` when an hour is skipped, ``back`` when one is repeated."""
        return "forward" if self.after > self.before else "back"

    @property
    def local_window(self) -> tuple[datetime, datetime]:
        """The local wall-clock times (naive) that are skipped or repeated: [start, end)."""
        naive = self.instant.replace(tzinfo=None)
        return naive + min(self.before, self.after), naive + max(self.before, self.after)


def clock_changes(timezone: tzinfo, first_year: int, years: int) -> list[ClockChange]:
    """Every change of the clocks in ``timezone`` from 1 January ``first_year``, for ``years``."""
    changes: list[ClockChange] = []
    start = datetime(first_year, 1, 1, 12, tzinfo=UTC)
    end = datetime(first_year + years, 1, 1, 12, tzinfo=UTC)
    previous, previous_offset = start, _offset(timezone, start)
    day = start + timedelta(days=1)
    while day <= end:
        offset = _offset(timezone, day)
        if offset != previous_offset:
            low, high = previous, day  # offset(low) == previous_offset != offset(high)
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if _offset(timezone, middle) == previous_offset:
                    low = middle
                else:
                    high = middle
            instant = high.replace(microsecond=0)
            changes.append(ClockChange(instant, previous_offset, offset))
        previous, previous_offset = day, offset
        day += timedelta(days=1)
    return changes


def _offset(timezone: tzinfo, moment: datetime) -> timedelta:
    return moment.astimezone(timezone).utcoffset() or timedelta(0)


@dataclass(frozen=True, slots=True)
class ClockChangeClash:
    """A time a cron would run that is skipped or repeated by a change of the clocks."""

    change: ClockChange
    local_time: datetime  # naive wall-clock time of the run
    other_runs_that_day: bool = False  # the cron runs that day outside the skipped or repeated hour too

    @property
    def kind(self) -> Literal["forward", "back"]:
        """``forward`` (the run would be skipped) or ``back`` (it would happen twice)."""
        return self.change.kind

    @property
    def harmless(self) -> bool:
        """Whether the schedule may keep it: other runs that day, so the daemon skips the runs the clocks skip
        and runs a repeated time once (:mod:`csp_monitor.schedule.wall_clock`), and the day still has its runs.
        A cron whose only runs that day are in those hours is refused."""
        return self.other_runs_that_day


def clock_change_clashes(expression: str, timezone: tzinfo, *, first_year: int | None = None,
                         years: int = CLASH_YEARS) -> list[ClockChangeClash]:
    """Every clock change in ``years`` (from now, or from ``first_year``) whose skipped or repeated
    hour the cron would run in.

    The cron is evaluated on wall-clock time (as if in UTC, which has no clock
    changes), so the fire times found are the ones the schedule asks for.
    """
    if first_year is None:  # from now on: the next clash is the one worth naming
        now = datetime.now(UTC)
        changes = [c for c in clock_changes(timezone, now.year, years + 1) if c.instant >= now]
    else:
        changes = clock_changes(timezone, first_year, years)
    wall = cron_trigger(expression, UTC)
    clashes: list[ClockChangeClash] = []
    for change in changes:
        window_start, window_end = change.local_window
        fire = wall.get_next_fire_time(None, window_start.replace(tzinfo=UTC))
        if fire is not None and fire.replace(tzinfo=None) < window_end:
            midnight = datetime.combine(window_start.date(), datetime.min.time(), tzinfo=UTC)
            before = wall.get_next_fire_time(None, midnight)
            after = wall.get_next_fire_time(None, window_end.replace(tzinfo=UTC))
            others = (before is not None and before.replace(tzinfo=None) < window_start) or (
                after is not None and after.date() == window_start.date())
            clashes.append(ClockChangeClash(change, fire.replace(tzinfo=None), others))
    return clashes


def describe_clash(expression: str, timezone_name: str, clashes: list[ClockChangeClash]) -> str:
    """Why a cron that runs in a clock-change hour (and at no other time that day) is refused, and what to
    write instead; ``clashes`` are the harmful ones."""
    first = clashes[0]
    start, end = first.change.local_window
    hours = f"{start:%H:%M} to {(end - timedelta(minutes=1)):%H:%M}"
    when = f"{first.local_time:%H:%M} on {_long_date(first.local_time.date())}"
    if first.kind == "forward":
        what = (f"the clocks go forward in {timezone_name} that day and {hours} does not happen, "
                "so that run would be late or skipped")
    else:
        what = (f"the clocks go back in {timezone_name} that day and {hours} happens twice, "
                "so that run would happen twice")
    others = len(clashes) - 1
    more = f" (and on {others} other date{'s' if others != 1 else ''} in the next {CLASH_YEARS} years)" if others else ""
    return (f"the cron '{expression}' runs at {when}{more}, but {what}: choose a time of "
            f"{end:%H:%M} or later, or before {start:%H:%M}")


def _long_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"
