"""Check a monitor's whole setup before it goes live, sending, recording and creating nothing.

Council IT installing the daemon wants to know, before the first scheduled run, that every part works:
the configuration, the rules, the figures (and that they leave something to judge), the state store, the
messages a run would send, the mail server (connected, TLS, login, the sender accepted: then QUIT before
anything is sent) and the schedules' next run times. :func:`check_setup` tries each and says, for each, what
it found or what stops it, in the same words a run would use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from csp_monitor.arguments import check_now, check_path
from csp_monitor.errors import CspMonitorError, InputError, StateError
from csp_monitor.plain_data import PlainData

if TYPE_CHECKING:
    from csp_monitor.models.config import MonitorConfig
    from csp_monitor.models.figures import FigureSet
    from csp_monitor.models.rules import RuleSet

__all__ = ["CheckStep", "SetupCheck", "check_setup"]


@dataclass(frozen=True)
class CheckStep(PlainData):
    """One part of the setup: whether it works, and what was found or what stops it."""

    name: str
    """configuration, rules, figures, state store, messages, mail server or schedules."""
    ok: bool
    detail: str
    """What was found (when ``ok``), else what stops it: one line, or ``file:line:col: message`` lines."""
    exit_code: int = 0
    """0 when ``ok``; 1 for something to correct in the files or the mail server, 3 for the state store."""


@dataclass(frozen=True)
class SetupCheck(PlainData):
    """Every step of :func:`check_setup`, in order; a step that could not be tried for an earlier failure is
    left out."""

    config: str
    steps: tuple[CheckStep, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every step worked."""
        return all(step.ok for step in self.steps)

    @property
    def exit_code(self) -> int:
        """0 when every step worked; 3 when the state store failed; else 1."""
        codes = {step.exit_code for step in self.steps if not step.ok}
        return 0 if not codes else 3 if 3 in codes else 1


def _failed(name: str, exc: CspMonitorError) -> CheckStep:
    if isinstance(exc, InputError):
        detail = "\n".join(str(problem) for problem in exc.problems)
    else:
        detail = exc.message
    return CheckStep(name, False, detail, 3 if isinstance(exc, StateError) else 1)


def _plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else words or word + 's'}"


def check_setup(config_path: str | os.PathLike[str], *, now: datetime | None = None,
                smtp: bool = True) -> SetupCheck:
    """Try every part of the monitor configured in ``config_path``, as a run ``now`` would, without sending,
    recording or creating anything. With ``smtp`` false the mail server is not contacted."""
    check_path(config_path, argument="config_path")
    moment = datetime.now(UTC) if now is None else check_now(now)
    steps: list[CheckStep] = []
    name = str(config_path)
    from csp_monitor.load.config import load_config

    try:
        config = load_config(config_path)
    except CspMonitorError as exc:
        return SetupCheck(name, (_failed("configuration", exc),))
    steps.append(CheckStep("configuration", True, f"{name}: {_plural(len(config.rules), 'rule file')}, "
                                                  f"{_plural(len(config.figures), 'figures source')}"))
    rules = _rules(config, steps)
    figures = _figures(config, steps)
    steps.append(_store(config))
    if rules is not None and figures is not None:
        steps.append(_messages(config, rules, figures, moment))
    steps.append(_mail(config, smtp))
    steps.append(_schedules(config, moment, rules_read=rules is not None))
    return SetupCheck(name, tuple(steps))


def _rules(config: MonitorConfig, steps: list[CheckStep]) -> RuleSet | None:
    from csp_monitor.load.rules import load_rules

    try:
        rules = load_rules(config.rules)
    except CspMonitorError as exc:
        steps.append(_failed("rules", exc))
        return None
    measures = sum(1 for _ in rules.measures())
    steps.append(CheckStep("rules", True, f"{rules.partnership}: {_plural(measures, 'measure')} in "
                                          f"{_plural(len(rules.priorities), 'priority', 'priorities')}, "
                                          f"{_plural(len(rules.alerts), 'alert rule')}"))
    return rules


def _figures(config: MonitorConfig, steps: list[CheckStep]) -> FigureSet | None:
    from csp_monitor.load.figure_sources import load_sources

    try:
        loaded = load_sources(config)
    except CspMonitorError as exc:
        steps.append(_failed("figures", exc))
        return None
    figures = loaded.figures
    months = sorted({month for area, measure in figures.series_keys() for month in figures.series(area, measure)})
    if not months:
        steps.append(CheckStep("figures", False, "the figures sources hold no figures", 1))
        return None
    from csp_monitor.periods import format_month

    notes = f" ({'; '.join(loaded.notes)})" if loaded.notes else ""
    steps.append(CheckStep("figures", True, f"{len(figures):,} figures for {_plural(len(figures.areas()), 'area')}, "
                                            f"{format_month(months[0])} to {format_month(months[-1])}{notes}"))
    return figures


def _store(config: MonitorConfig) -> CheckStep:
    from csp_monitor.state import open_store

    if not config.state_is_url and not os.path.exists(config.state):
        folder = Path(config.state).parent
        if not folder.is_dir():
            return CheckStep("state store", False, f"{config.state}: the folder {folder} does not exist, so the "
                                                   "first run could not create the store: create the folder", 3)
        if not os.access(folder, os.W_OK | os.X_OK):
            return CheckStep("state store", False, f"{config.state}: the folder {folder} cannot be written by "
                                                   "this user, so the first run could not create the store", 3)
        return CheckStep("state store", True, f"{config.state}: not there yet; the first run creates it "
                                              f"(the folder {folder} is writable)")
    try:
        store = open_store(config.state, read_only=True)
    except StateError as exc:
        if exc.reason == "new":
            return CheckStep("state store", True, f"{exc.store}: an empty database; the first run creates "
                                                  "csp-monitor's tables")
        return _failed("state store", exc)
    except CspMonitorError as exc:
        return _failed("state store", exc)
    try:
        with store.transaction(read_only=True):
            pass
    except CspMonitorError as exc:
        return _failed("state store", exc)
    finally:
        store.close()
    return CheckStep("state store", True, f"{store.location}: opened, readable (nothing written)")


def _messages(config: MonitorConfig, rules: RuleSet, figures: FigureSet, now: datetime) -> CheckStep:
    from csp_monitor.delivery.run import plan_messages

    try:
        plan = plan_messages(config, now=now, rules=rules, figures=figures)
    except CspMonitorError as exc:
        return _failed("messages", exc)
    kinds: dict[str, int] = {}
    for message in plan.messages:
        kinds[message.kind] = kinds.get(message.kind, 0) + 1
    if plan.messages:
        what = ", ".join(_plural(count, kind) for kind, count in sorted(kinds.items()))
        detail = (f"as of {plan.as_of} a run now would send {_plural(len(plan.messages), 'message')} ({what}); "
                  "see them with 'csp-monitor preview'")
    else:
        detail = f"as of {plan.as_of} a run now would send nothing new (already sent, or nothing due)"
    return CheckStep("messages", True, detail)


def _mail(config: MonitorConfig, smtp: bool) -> CheckStep:
    delivery = config.delivery
    if delivery.smtp is None:
        folder = Path(delivery.folder or ".")
        existing = next((path for path in (folder, *folder.parents) if path.exists()), None)
        if existing is None or not os.access(existing, os.W_OK | os.X_OK):
            return CheckStep("mail server", False, f"messages are written to {folder}, which this user cannot "
                                                   "create or write", 1)
        return CheckStep("mail server", True, f"none: messages are written to {folder} as .eml and .html files")
    if not smtp:
        return CheckStep("mail server", True, f"{delivery.smtp.host}:{delivery.smtp.effective_port}: not "
                                              "contacted (--no-smtp)")
    from csp_monitor.delivery.smtp import SmtpTransport
    from csp_monitor.load.config import read_password
    from csp_monitor.models.config import parse_mailbox

    try:
        transport = SmtpTransport(delivery.smtp, password=read_password(config))
        return CheckStep("mail server", True, transport.check(parse_mailbox(delivery.from_)[1]))
    except CspMonitorError as exc:
        return _failed("mail server", exc)


def _schedules(config: MonitorConfig, now: datetime, *, rules_read: bool) -> CheckStep:
    from csp_monitor.errors import ConfigError
    from csp_monitor.schedule.configuration import check_schedules, schedule_zone
    from csp_monitor.schedule.occurrences import local_time, next_occurrence

    if not config.schedules:
        return CheckStep("schedules", True, "none: the daemon needs schedules: to run; 'csp-monitor send' and "
                                            "'run-once' work without")
    if rules_read:  # the schedules' recipient lists are checked against the rules (whose problems are above)
        problems = check_schedules(config)  # the configuration already read, not read again
        if problems:
            return _failed("schedules", ConfigError(problems))
    zone = schedule_zone(config)
    times = []
    for schedule in config.schedules:
        upcoming = next_occurrence(schedule, zone, now)
        times.append(f"{schedule.id} ({schedule.run}) next at {local_time(upcoming.at if upcoming else None, zone)}")
    return CheckStep("schedules", True, "; ".join(times))
