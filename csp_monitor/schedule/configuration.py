"""Loading a monitor configuration for the daemon, with the checks only schedules need.

The configuration loader already reports every problem of the file at
file:line:col (crons, time zone and clock-change hours included). The daemon
also needs to know, before it starts, that each schedule can do something:
its rule files must load, a summary schedule needs someone to send the
summary to, and the recipient lists a schedule names must exist in the rules.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from csp_monitor.errors import ConfigError, CspMonitorError, InputError, Problem

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from csp_monitor.models.config import MonitorConfig

__all__ = ["check_schedules", "load_schedule_config", "schedule_zone"]


def load_schedule_config(path: str | os.PathLike[str], *, need_schedules: bool = True) -> MonitorConfig:
    """Load and check a configuration; raise :class:`ConfigError` with every problem."""
    from csp_monitor.load.config import load_config

    try:
        import apscheduler  # noqa: F401 - only to say plainly when it is missing
    except ImportError:
        raise CspMonitorError("schedules need APScheduler, which csp-monitor installs: reinstall it "
                              "(pip install --force-reinstall csp-monitor)") from None
    config = load_config(path)
    problems = check_schedules(config, need_schedules=need_schedules)
    if problems:
        raise ConfigError(problems)
    return config


def schedule_zone(config: MonitorConfig) -> ZoneInfo:
    """The configuration's time zone."""
    from csp_monitor.cron import load_timezone

    return load_timezone(config.timezone)


def check_schedules(config: MonitorConfig, *, need_schedules: bool = True) -> list[Problem]:
    """What would stop a schedule from doing its job, located in the file."""
    from csp_monitor.load.config import config_problem
    from csp_monitor.load.rules import load_rules
    from csp_monitor.load.validation import closest

    problems: list[Problem] = []
    if need_schedules and not config.schedules:
        problems.append(config_problem(
            config, (), "this configuration has no schedules: add a schedules: list (for example "
            "- {id: monthly-summary, cron: \"0 7 10 * *\", run: summary}), or use 'csp-monitor send' to "
            "run once by hand"))
    recipients: dict[str, tuple[str, ...]] = {}
    if config.schedules:  # rules that cannot be read would fail every run: say so before the first, not at it
        try:
            recipients = dict(load_rules(config.rules).recipients)
        except InputError as exc:
            return [*problems, *exc.problems]
    for index, schedule in enumerate(config.schedules):
        if schedule.run == "summary" and schedule.to is None and config.summary is None:
            problems.append(config_problem(
                config, ("schedules", index, "run"),
                f"the schedule '{schedule.id}' sends the risk summary, but nobody is named to receive it: "
                "add summary: {to: [board]} to the configuration, or to: [board] to this schedule"))
        for position, name in enumerate(schedule.to or []):
            if name in recipients:
                continue
            known = sorted(recipients)
            message = f"the schedule '{schedule.id}' sends to '{name}', but the rules name no recipients list '{name}'"
            if known and not closest(name, known):
                message += f"; the lists are {', '.join(known)}"
            problems.append(config_problem(config, ("schedules", index, "to", position), message,
                                           suggestion=closest(name, known)))
    return problems
