"""Cron expressions: crontab's meaning, plain-English refusals, located in the configuration."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from csp_monitor.cron import cron_trigger, load_timezone
from csp_monitor.load.validation import validate_located
from csp_monitor.load.yaml_source import parse_yaml
from csp_monitor.models.schedule import Schedule, ScheduleSettings

MONDAY = datetime(2024, 1, 1, tzinfo=UTC)  # 1 January 2024 was a Monday


def weekdays(expression: str) -> list[str]:
    """The weekday names of the first seven days a cron fires on from Monday 1 January 2024."""
    trigger = cron_trigger(expression, UTC)
    days, fire = [], None
    now = MONDAY
    for _ in range(7):
        fire = trigger.get_next_fire_time(fire, now)
        assert fire is not None
        days.append(fire.strftime("%a"))
        now = fire
    return days[: len(set(days))]


@pytest.mark.parametrize(("field", "expected"), [
    ("0", ["Sun"]),
    ("7", ["Sun"]),
    ("1", ["Mon"]),
    ("1-5", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
    ("5-7", ["Fri", "Sat", "Sun"]),
    ("*/2", ["Tue", "Thu", "Sat", "Sun"]),
    ("sun,wed", ["Wed", "Sun"]),
    ("MON", ["Mon"]),
])
def test_weekday_numbers_follow_crontab(field: str, expected: list[str]) -> None:
    """Days of the week mean what crontab means (0 and 7 are Sunday), not APScheduler 3's 0 = Monday."""
    assert weekdays(f"0 7 * * {field}") == expected


def test_monthly_cron_fires_on_the_day_and_time_given() -> None:
    """'0 7 10 * *' fires at 07:00 local time on the 10th of each month."""
    london = load_timezone("Europe/London")
    trigger = cron_trigger("0 7 10 * *", london)
    fire = trigger.get_next_fire_time(None, datetime(2026, 5, 11, tzinfo=london))
    assert fire is not None
    assert (fire.year, fire.month, fire.day, fire.hour, fire.minute) == (2026, 6, 10, 7, 0)
    assert fire.utcoffset() is not None and fire.utcoffset().total_seconds() == 3600  # type: ignore[union-attr]


@pytest.mark.parametrize(("expression", "expected"), [
    ("* * *", "'* * *' is not a cron schedule: it needs five fields (minute, hour, day of the month, "
              "month, day of the week) separated by spaces, but has 3"),
    ("61 * * * *", "the minute '61' in '61 * * * *' is not valid: the last value (61) is higher than "
                   "the maximum value (59)"),
    ("0 25 * * *", "the hour '25' in '0 25 * * *' is not valid"),
    ("0 7 * 13 *", "the month '13' in '0 7 * 13 *' is not valid"),
    ("0 7 ? * *", "the day of the month '?' in '0 7 ? * *' is not valid: write a number, a range"),
    ("0 7 * * 8", "'8' is not a day of the week: use 0-7 (0 and 7 are Sunday) or mon-sun"),
    ("0 7 * * fri-mon", "the range 'fri-mon' runs backwards"),
    ("0 7 1 * mon", "gives both a day of the month ('1') and a day of the week ('mon')"),
    ("0 7 31 2 *", "'0 7 31 2 *' never runs"),
])
def test_invalid_cron_is_refused_in_plain_english(expression: str, expected: str) -> None:
    """A cron that is malformed, ambiguous or never runs is refused with a sentence saying why."""
    with pytest.raises(ValueError) as caught:
        cron_trigger(expression, UTC)
    assert expected in str(caught.value)
    assert "Error validating" not in str(caught.value)


def test_every_problem_in_the_schedules_is_reported_at_its_line_and_column() -> None:
    """Bad crons, unknown job kinds and missing timings are all reported at once, each at file:line:col."""
    text = (
        "timezone: Europe/London\n"
        "schedules:\n"
        "  - id: monthly-summary\n"
        "    cron: \"0 7 10 * *\"\n"
        "    run: summary\n"
        "  - id: typo\n"
        "    cron: \"61 7 * * *\"\n"
        "    run: alert\n"
        "  - id: no-time\n"
        "    run: alerts\n"
        "  - id: both\n"
        "    cron: \"0 8 * * *\"\n"
        "    interval_seconds: 60\n"
        "    run: alerts\n"
        "  - id: alert-recipients\n"
        "    cron: \"0 8 * * *\"\n"
        "    run: alerts\n"
        "    to: [board]\n"
    )
    model, problems = validate_located(ScheduleSettings, parse_yaml(text, "monitor.yaml"))
    assert model is None
    rendered = [str(problem) for problem in problems]
    assert rendered == [
        "monitor.yaml:7:11: the minute '61' in '61 7 * * *' is not valid: the last value (61) is higher "
        "than the maximum value (59); for example '0 7 10 * *' is 07:00 on the 10th of every month",
        "monitor.yaml:8:10: 'alert' is not allowed for 'run': use one of 'summary', 'alerts' "
        "(did you mean 'alerts'?)",
        "monitor.yaml:9:5: a schedule needs a 'cron' (for example '0 7 10 * *' for 07:00 on the 10th of "
        "each month)",
        "monitor.yaml:13:23: give either 'cron' or 'interval_seconds', not both",
        "monitor.yaml:18:9: 'to' is for summaries: alerts go to whoever each alert rule names in its 'notify'",
    ]


def test_unknown_timezone_is_refused_with_a_suggestion() -> None:
    """A misspelt time zone is reported at its position with the zone it probably meant."""
    model, problems = validate_located(ScheduleSettings, parse_yaml("timezone: Europe/Lodnon\n", "m.yaml"))
    assert model is None
    assert [str(p) for p in problems] == [
        "m.yaml:1:11: 'Europe/Lodnon' is not a time zone this computer knows (did you mean "
        "'Europe/London'?): use an IANA name such as Europe/London"]


@pytest.mark.parametrize("name", ["1" * 300, "Europe/" + "x" * 400])
def test_a_time_zone_name_too_long_for_the_file_system_is_refused_at_its_place(name: str) -> None:
    """Regression (found by the fuzz test): a 300-character zone name gave OSError 'File name too long'."""
    model, problems = validate_located(ScheduleSettings, parse_yaml(f"timezone: '{name}'\n", "m.yaml"))
    assert model is None
    assert [str(p) for p in problems] == [
        f"m.yaml:1:11: '{name[:64]}...' is not a time zone this computer knows: use an IANA name such as "
        "Europe/London"]


def test_a_time_zone_folder_is_not_a_time_zone() -> None:
    """'Europe' (a folder of the time-zone database) is refused with a suggestion, not an OSError."""
    model, problems = validate_located(ScheduleSettings, parse_yaml("timezone: Europe\n", "m.yaml"))
    assert model is None and len(problems) == 1
    assert "'Europe' is not a time zone this computer knows" in problems[0].message


def test_duplicate_schedule_ids_are_refused() -> None:
    """Two schedules with one id are refused, since the run ledger is keyed on it."""
    text = ("schedules:\n"
            "  - {id: weekly, cron: '0 7 * * mon', run: alerts}\n"
            "  - {id: weekly, cron: '0 8 * * mon', run: alerts}\n")
    model, problems = validate_located(ScheduleSettings, parse_yaml(text, "m.yaml"))
    assert model is None
    assert [str(p) for p in problems] == [
        "m.yaml:3:10: the schedule id 'weekly' is already used by schedule 1: ids must be unique"]


def test_schedules_default_to_london_and_accept_the_issue_example() -> None:
    """The issue's example loads as written, in Europe/London by default."""
    text = ("schedules:\n"
            "  - id: monthly-summary\n"
            "    cron: \"0 7 10 * *\"\n"
            "    run: summary\n"
            "  - id: weekly-exceptions\n"
            "    cron: \"30 8 * * mon\"\n"
            "    run: alerts\n")
    model, problems = validate_located(ScheduleSettings, parse_yaml(text, "m.yaml"))
    assert problems == []
    assert model is not None
    assert model.timezone == "Europe/London"
    assert [(s.id, s.cron, s.run) for s in model.schedules] == [
        ("monthly-summary", "0 7 10 * *", "summary"), ("weekly-exceptions", "30 8 * * mon", "alerts")]


def test_interval_seconds_is_a_whole_number_of_seconds() -> None:
    """interval_seconds arrives from YAML as text and becomes a positive whole number."""
    assert Schedule.model_validate({"id": "t", "interval_seconds": "5", "run": "alerts"}).interval_seconds == 5
    with pytest.raises(ValueError):
        Schedule.model_validate({"id": "t", "interval_seconds": "0", "run": "alerts"})
