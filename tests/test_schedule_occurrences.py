"""Occurrences: the latest run time at or before now, the next after it, and their ledger keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from csp_monitor.cron import load_timezone
from csp_monitor.models.schedule import Schedule
from csp_monitor.schedule.occurrences import (
    latest_occurrence,
    next_occurrence,
    occurrence_at,
    trigger_for,
)

LONDON = load_timezone("Europe/London")

SCHEDULES = [
    Schedule(id="monthly", cron="0 7 10 * *", run="summary"),
    Schedule(id="weekly", cron="30 8 * * mon", run="alerts"),
    Schedule(id="quarter-hours", cron="*/15 9-17 * * 1-5", run="alerts"),
    Schedule(id="yearly", cron="0 9 1 4 *", run="summary"),
    Schedule(id="leap-day", cron="0 12 29 2 *", run="summary"),
    Schedule(id="every-7s", interval_seconds=7, run="alerts"),
    Schedule(id="hourly-interval", interval_seconds=3600, run="alerts"),
]

moments = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2060, 12, 31),
                       timezones=st.just(UTC))


@settings(max_examples=60, deadline=None)
@given(schedule=st.sampled_from(SCHEDULES), now=moments)
def test_latest_and_next_bracket_now_with_nothing_between(schedule: Schedule, now: datetime) -> None:
    """latest <= now < next, and the trigger's first run after the latest is the next."""
    latest = latest_occurrence(schedule, LONDON, now)
    following = next_occurrence(schedule, LONDON, now)
    assert latest is not None and following is not None
    assert latest.at <= now < following.at
    trigger = trigger_for(schedule, LONDON)
    after_latest = trigger.get_next_fire_time(latest.at.astimezone(LONDON), latest.at + timedelta(microseconds=1))
    assert after_latest is not None
    assert after_latest.astimezone(UTC) == following.at


def test_the_latest_monthly_run_is_the_10th_at_seven() -> None:
    """On 15 June the latest '0 7 10 * *' run was 07:00 BST on 10 June, keyed by its local time."""
    latest = latest_occurrence(SCHEDULES[0], LONDON, datetime(2026, 6, 15, 12, tzinfo=UTC))
    assert latest is not None
    assert latest.at == datetime(2026, 6, 10, 6, tzinfo=UTC)
    assert latest.key == "2026-06-10T07:00:00 Europe/London"


def test_a_run_at_exactly_now_is_the_latest() -> None:
    """An occurrence due this very second counts as the latest, not as the next."""
    now = datetime(2026, 6, 10, 6, tzinfo=UTC)
    latest = latest_occurrence(SCHEDULES[0], LONDON, now)
    following = next_occurrence(SCHEDULES[0], LONDON, now)
    assert latest is not None and following is not None
    assert latest.at == now
    assert following.at == datetime(2026, 7, 10, 6, tzinfo=UTC)


def test_interval_runs_count_from_the_epoch_so_they_survive_a_restart() -> None:
    """Interval occurrences are multiples of the interval since 1970, keyed by their UTC time."""
    now = datetime(2026, 1, 1, 0, 0, 10, 500000, tzinfo=UTC)
    latest = latest_occurrence(SCHEDULES[5], LONDON, now)
    assert latest is not None
    assert (latest.at - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() % 7 == 0
    assert timedelta(0) <= now - latest.at < timedelta(seconds=7)
    assert latest.key == latest.at.replace(tzinfo=None).isoformat() + "Z"


def test_occurrence_keys_are_stable() -> None:
    """The same run time always gives the same key, whatever zone the time is expressed in."""
    moment = datetime(2026, 6, 10, 7, tzinfo=LONDON)
    assert occurrence_at(SCHEDULES[0], LONDON, moment) == occurrence_at(SCHEDULES[0], LONDON, moment.astimezone(UTC))
