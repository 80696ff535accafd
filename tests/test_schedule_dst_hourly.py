"""Hourly and sub-hourly crons across the clock changes: accepted, the skipped hour skipped, the repeated
hour run once; only a cron whose every run that day is in the changing hour is refused."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csp_monitor.cron import clock_change_clashes, load_timezone
from csp_monitor.load.validation import validate_located
from csp_monitor.load.yaml_source import parse_yaml
from csp_monitor.models.schedule import Schedule, ScheduleSettings
from csp_monitor.schedule.occurrences import latest_occurrence, occurrence_at, trigger_for
from tests.conftest import ROOT
from tests.daemon_fixtures import write_partnership

LONDON = load_timezone("Europe/London")
SPRING = datetime(2026, 3, 29, tzinfo=UTC)  # the clocks go forward at 01:00 UTC
AUTUMN = datetime(2026, 10, 25, tzinfo=UTC)  # midnight UTC; the clocks go back at 01:00 UTC


def runs(expression: str, start: datetime, hours: int = 5) -> list[datetime]:
    """The daemon's run times for ``expression`` from ``start`` for ``hours``, as the scheduler asks for them."""
    trigger = trigger_for(Schedule(id="s", cron=expression, run="alerts"), LONDON)
    fires: list[datetime] = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire.astimezone(UTC) < start + timedelta(hours=hours):
        fires.append(fire.astimezone(UTC))
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return fires


def local(fires: list[datetime]) -> list[str]:
    """Each run as local wall-clock time with its zone name."""
    return [f"{fire.astimezone(LONDON):%H:%M %Z}" for fire in fires]


def test_hourly_skips_the_hour_the_clocks_skip() -> None:
    """In March 01:00 does not happen: the hourly run goes 00:00 GMT, 02:00 BST, 03:00 BST."""
    assert local(runs("0 * * * *", SPRING, 3)) == ["00:00 GMT", "02:00 BST", "03:00 BST"]


def test_hourly_runs_the_repeated_hour_once() -> None:
    """In October 01:00 happens twice: the hourly run goes 01:00 BST once, then 02:00 GMT (the repeat merged)."""
    assert local(runs("0 * * * *", AUTUMN - timedelta(hours=1), 4)) == ["00:00 BST", "01:00 BST", "02:00 GMT"]


def test_every_quarter_hour_across_the_autumn_change_never_goes_backwards() -> None:
    """Regression: APScheduler's own trigger went 01:00, 00:30, 01:00 ... in the repeated hour; every run is
    now later than the one before, and each wall-clock time runs once."""
    fires = runs("*/15 * * * *", AUTUMN - timedelta(hours=1), 4)
    assert fires == sorted(set(fires))
    keys = [occurrence_at(Schedule(id="s", cron="*/15 * * * *", run="alerts"), LONDON, fire).key for fire in fires]
    assert len(keys) == len(set(keys)) == 12  # 00:00-00:45 BST, 01:00-01:45 once, 02:00-02:45 GMT


@settings(max_examples=60, deadline=None)
@given(step=st.sampled_from([1, 5, 10, 15, 20, 30]), hours=st.sampled_from(["*", "0-3", "*/2"]),
       day=st.sampled_from([SPRING, AUTUMN]))
def test_runs_always_move_forward_and_each_wall_clock_time_runs_once(step: int, hours: str, day: datetime) -> None:
    """For any sub-hourly cron across either change, run times strictly increase and no two share a ledger key."""
    expression = f"*/{step} {hours} * * *"
    fires = runs(expression, day - timedelta(hours=2), 6)
    assert all(a < b for a, b in pairwise(fires))
    schedule = Schedule(id="s", cron=expression, run="alerts")
    keys = [occurrence_at(schedule, LONDON, fire).key for fire in fires]
    assert len(keys) == len(set(keys))


def test_the_latest_run_in_the_repeated_hour_is_the_first_one() -> None:
    """Housekeeping asking in the second 01:30 finds the run of the first 01:00, already done: no extra run."""
    schedule = Schedule(id="s", cron="0 * * * *", run="alerts")
    first, second = (latest_occurrence(schedule, LONDON, AUTUMN + timedelta(minutes=m)) for m in (30, 90))
    assert first is not None and second is not None
    assert first.key == second.key == "2026-10-25T01:00:00 Europe/London"


@pytest.mark.parametrize(("expression", "refused"), [
    ("0 * * * *", False),          # hourly: the day has other runs
    ("*/15 * * * *", False),
    ("*/15 0-3 * * sun", False),
    ("0 0-2 * * *", False),
    ("30 1 * * *", True),          # the day's only run is in the hour
    ("*/15 1 * * *", True),        # every run that day is in the hour
    ("0 1 25-31 3 *", True),
])
def test_only_a_cron_whose_every_run_that_day_is_in_the_hour_is_refused(expression: str, refused: bool) -> None:
    """The configuration refuses a cron only when the clocks would take or double all of a day's runs."""
    model, problems = validate_located(ScheduleSettings, parse_yaml(
        f"timezone: Europe/London\nschedules: [{{id: s, cron: '{expression}', run: alerts}}]\n", "m.yaml"))
    assert bool(problems) is refused, problems
    assert (model is None) is refused
    assert clock_change_clashes(expression, LONDON, first_year=2026)  # every one of them meets the hour


def test_an_hourly_schedule_in_london_is_accepted_by_the_command(tmp_path: Path) -> None:
    """Regression: `csp-monitor status` (and the daemon) refused an hourly cron in Europe/London; now it is
    accepted and its next run shown."""
    config = write_partnership(tmp_path, schedules="timezone: Europe/London\nschedules:\n"
                                                   "  - {id: hourly-alerts, cron: \"0 * * * *\", run: alerts}\n")
    result = subprocess.run([sys.executable, "-m", "csp_monitor.cli", "status", "--config", str(config)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "hourly-alerts  (alerts, 0 * * * *, Europe/London)" in result.stdout
