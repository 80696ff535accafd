"""Daylight saving in Europe/London: fire times across the last Sundays of March and October."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from csp_monitor.cron import (
    clock_change_clashes,
    clock_changes,
    cron_trigger,
    describe_clash,
    load_timezone,
)
from csp_monitor.load.validation import validate_located
from csp_monitor.load.yaml_source import parse_yaml
from csp_monitor.models.schedule import Schedule, ScheduleSettings
from csp_monitor.schedule import ledger
from csp_monitor.schedule.occurrences import occurrence_at
from csp_monitor.state import open_store

LONDON = load_timezone("Europe/London")


def fire_times(expression: str, start: datetime, end: datetime) -> list[datetime]:
    """Every time APScheduler's trigger for ``expression`` fires from ``start`` until ``end``."""
    trigger = cron_trigger(expression, LONDON)
    fires: list[datetime] = []
    fire = trigger.get_next_fire_time(None, start)
    # Compared in UTC: two times of one zone compare by wall clock, blind to the repeated hour.
    while fire is not None and fire.astimezone(UTC) < end.astimezone(UTC) and len(fires) < 100:
        fires.append(fire)
        following = trigger.get_next_fire_time(fire, fire.astimezone(UTC) + timedelta(microseconds=1))
        if following is not None and following.astimezone(UTC) <= fire.astimezone(UTC):
            break  # APScheduler 3 can return the same repeated-hour time again
        fire = following
    return fires


def test_london_clocks_change_on_the_last_sundays_of_march_and_october() -> None:
    """The clocks go forward at 01:00 UTC on the last Sunday of March and back on the last Sunday of October."""
    changes = clock_changes(LONDON, 2026, 2)
    assert [(c.instant, c.kind) for c in changes] == [
        (datetime(2026, 3, 29, 1, tzinfo=UTC), "forward"),
        (datetime(2026, 10, 25, 1, tzinfo=UTC), "back"),
        (datetime(2027, 3, 28, 1, tzinfo=UTC), "forward"),
        (datetime(2027, 10, 31, 1, tzinfo=UTC), "back"),
    ]
    assert [c.local_window for c in changes[:2]] == [
        (datetime(2026, 3, 29, 1), datetime(2026, 3, 29, 2)),
        (datetime(2026, 10, 25, 1), datetime(2026, 10, 25, 2)),
    ]


@pytest.mark.parametrize(("start", "end", "long_day"), [
    (datetime(2026, 3, 27), datetime(2026, 4, 1), timedelta(hours=23)),
    (datetime(2026, 10, 23), datetime(2026, 10, 28), timedelta(hours=25)),
])
def test_an_accepted_daily_cron_fires_once_a_day_at_the_same_local_time(
        start: datetime, end: datetime, long_day: timedelta) -> None:
    """07:00 every day stays at 07:00 local through a clock change: one run a day, one 23- or 25-hour gap."""
    fires = fire_times("0 7 * * *", start.replace(tzinfo=LONDON), end.replace(tzinfo=LONDON))
    local = [fire.astimezone(LONDON) for fire in fires]
    assert [(f.day, f.hour, f.minute) for f in local] == [(start.day + i, 7, 0) for i in range(5)]
    gaps = [b.astimezone(UTC) - a.astimezone(UTC) for a, b in pairwise(fires)]
    assert sorted(gaps) == sorted([timedelta(hours=24)] * 3 + [long_day])


def test_a_run_in_the_repeated_hour_fires_twice_but_is_one_occurrence() -> None:
    """In the hour the clocks go back, 01:30 fires at two instants; both have one ledger key."""
    fires = fire_times("30 1 * * *", datetime(2026, 10, 25, tzinfo=LONDON), datetime(2026, 10, 26, tzinfo=LONDON))
    instants = [fire.astimezone(UTC) for fire in fires]
    assert instants == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)]
    schedule = Schedule(id="night", cron="30 2 * * *", run="alerts")  # any cron schedule: keys are wall-clock
    keys = {occurrence_at(schedule, LONDON, instant).key for instant in instants}
    assert keys == {"2026-10-25T01:30:00 Europe/London"}


def test_a_run_in_the_skipped_hour_has_no_real_time() -> None:
    """In the hour the clocks go forward, 01:30 does not exist: APScheduler runs it an hour late instead."""
    fires = fire_times("30 1 * * *", datetime(2026, 3, 29, tzinfo=LONDON), datetime(2026, 3, 30, tzinfo=LONDON))
    assert [fire.astimezone(UTC) for fire in fires] == [datetime(2026, 3, 29, 1, 30, tzinfo=UTC)]
    assert fires[0].astimezone(UTC).astimezone(LONDON).hour == 2


@pytest.mark.parametrize(("expression", "clashes"), [
    ("30 1 * * *", 56),        # every day: both changes of every year
    ("0 * * * *", 56),         # every hour
    ("*/15 0-3 * * sun", 56),  # every Sunday night
    ("0 1 25-31 3 *", 28),     # the last week of March: each spring change
    ("30 1 * 10 sun", 28),     # Sundays in October: each autumn change
    ("0 1 31 3 *", 4),         # 31 March: only in years when it is the last Sunday
    ("0 7 10 * *", 0),
    ("30 8 * * mon", 0),
    ("0 2 * * *", 0),
    ("59 0 * * *", 0),
    ("0 1 1 * *", 0),          # the 1st is never a last Sunday
    ("0 1 * * sat", 0),
])
def test_clashes_are_found_from_the_actual_fire_times(expression: str, clashes: int) -> None:
    """Every year a cron would run in a skipped or repeated hour is found, over a 28-year cycle."""
    assert len(clock_change_clashes(expression, LONDON, first_year=2026)) == clashes


def test_the_refusal_says_when_why_and_what_to_write_instead() -> None:
    """The message names the first clashing run, what the clocks do then, and the safe times."""
    spring = describe_clash("30 1 * * *", "Europe/London",
                            clock_change_clashes("30 1 * * *", LONDON, first_year=2026))
    assert spring == (
        "the cron '30 1 * * *' runs at 01:30 on Sunday 29 March 2026 (and on 55 other dates in the next "
        "28 years), but the clocks go forward in Europe/London that day and 01:00 to 01:59 does not happen, "
        "so that run would be late or skipped: choose a time of 02:00 or later, or before 01:00")
    autumn = describe_clash("30 1 * 10 sun", "Europe/London",
                            clock_change_clashes("30 1 * 10 sun", LONDON, first_year=2026))
    assert autumn == (
        "the cron '30 1 * 10 sun' runs at 01:30 on Sunday 25 October 2026 (and on 27 other dates in the next "
        "28 years), but the clocks go back in Europe/London that day and 01:00 to 01:59 happens twice, "
        "so that run would happen twice: choose a time of 02:00 or later, or before 01:00")


def test_a_schedule_in_the_clock_change_hour_is_refused_at_its_cron() -> None:
    """The configuration refuses such a schedule at the cron's file:line:col, whatever the current year."""
    text = ("timezone: Europe/London\n"
            "schedules:\n"
            "  - id: nightly\n"
            "    cron: \"30 1 * * *\"\n"
            "    run: alerts\n")
    model, problems = validate_located(ScheduleSettings, parse_yaml(text, "monitor.yaml"))
    assert model is None
    assert len(problems) == 1
    expected = describe_clash("30 1 * * *", "Europe/London", clock_change_clashes("30 1 * * *", LONDON))
    assert str(problems[0]) == f"monitor.yaml:4:11: {expected}"


def test_the_same_cron_is_accepted_where_the_clocks_never_change() -> None:
    """01:30 is a fine time in a zone without summer time."""
    model, problems = validate_located(ScheduleSettings, parse_yaml(
        "timezone: UTC\nschedules: [{id: nightly, cron: '30 1 * * *', run: alerts}]\n", "m.yaml"))
    assert problems == []
    assert model is not None


def test_the_repeated_hour_does_its_work_once_in_the_ledger(tmp_path: Path) -> None:
    """When the clocks go back, both firings of 01:30 claim one ledger row: the second does nothing."""
    fires = fire_times("30 1 * * *", datetime(2026, 10, 25, tzinfo=LONDON), datetime(2026, 10, 26, tzinfo=LONDON))
    schedule = Schedule(id="night", cron="30 2 * * *", run="alerts")
    with open_store(tmp_path / "state.db") as store:
        claims = [ledger.claim(store, occurrence_at(schedule, LONDON, fire), run="alerts", reason="scheduled")
                  for fire in fires]
        assert len(fires) == 2
        assert [claim is not None for claim in claims] == [True, False]
        assert [r.scheduled_at for r in ledger.runs_of(store, "night")] == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC)]
