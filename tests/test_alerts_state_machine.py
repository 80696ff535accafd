"""Hypothesis state machine over a real SQLite store: the alert lifecycle's promises hold for any history.

Each example draws an alert (``for``, ``repeat``) and then a run of months
(red, amber, green or no data for two measures), reruns of the same month,
and silences added and ended, deciding every step against one store. The
promises checked at every step:

* no notice without a change of state or an elapsed ``repeat``;
* the same month decided twice notifies once;
* ``for: N`` never fires before N periods in a row meet the condition;
* missing figures (``no_data``) never resolve an alert;
* a silenced alert is never notified;
* every notice recorded is unique, and the store holds exactly the notices returned.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from csp_monitor.alerts import Decision, decide_and_record, open_store
from csp_monitor.models.rules import RuleSet
from csp_monitor.periods import format_month, parse_month
from csp_monitor.state.store import StateStore
from tests.alert_fixtures import NOW, evaluation, result, rules_with

MEASURES = ("burglary", "damage")
STATUSES = st.sampled_from(["red", "red", "amber", "green", "no_data"])


@dataclass
class Expected:
    """What the issue's promises say about one measure's alert, kept by the test."""

    run: int = 0  # periods in a row with a red result (no data neither counts nor breaks)
    firing: bool = False
    told: bool = False  # told of the current firing
    last_told: int | None = None


class AlertLifecycle(RuleBasedStateMachine):
    """Months, reruns and silences decided against one real store."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="csp-alerts-"))
        self.store: StateStore = open_store(self.folder / "state.db")
        self.month = parse_month("2013-04")
        self.step = 0
        self.rules: RuleSet | None = None
        self.for_periods = 1
        self.repeat: int | None = None
        self.expected = {m: Expected() for m in MEASURES}
        self.silenced: dict[str, int] = {}  # measure -> silence id
        self.last_statuses: tuple[str, ...] | None = None
        self.silences_changed = False  # since the last month decided
        self.returned: list[str] = []

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    @initialize(for_periods=st.integers(1, 3), repeat=st.none() | st.integers(1, 3))
    def choose_alert(self, for_periods: int, repeat: int | None) -> None:
        self.for_periods, self.repeat = for_periods, repeat
        text = f"alerts:\n  - id: off-target\n    when: {{status: [red]}}\n    for: {for_periods}\n" \
               "    notify: [owner, board]\n"
        if repeat is not None:
            text += f"    repeat: {repeat}\n"
        self.rules = rules_with(text)

    def _decide(self, statuses: tuple[str, ...]) -> Decision:
        assert self.rules is not None
        results = [result(status, measure=measure) for status, measure in zip(statuses, MEASURES, strict=True)]
        decision = decide_and_record(self.store, self.rules, evaluation(format_month(self.month), *results),
                                     now=NOW + timedelta(days=self.step))
        self.step += 1
        self.returned.extend(n.key for n in decision.notifications)
        return decision

    @rule(statuses=st.tuples(STATUSES, STATUSES))
    def next_month(self, statuses: tuple[str, str]) -> None:
        """Decide the next month; check every notice and state against the promises."""
        self.month += 1
        decision = self._decide(statuses)
        self.last_statuses, self.silences_changed = statuses, False
        notices = {n.measure: n.kind for n in decision.notifications}
        assert len(notices) == len(decision.notifications), "at most one notice per measure per month"
        states = {a.measure: a.state for a in decision.alerts}
        for measure, status in zip(MEASURES, statuses, strict=True):
            expect = self.expected[measure]
            silenced = measure in self.silenced
            kind = notices.get(measure)
            state = states.get(measure)
            if silenced:
                assert kind is None, "a silenced alert is never notified"
            if status == "no_data":
                assert kind is None, "a month with no data changes nothing, so tells nothing"
                if expect.firing:
                    assert state == ("silenced" if silenced else "firing"), "no data never resolves"
                continue
            if status == "red":
                expect.run += 1
                if expect.run < self.for_periods:
                    assert kind is None and state == "pending", "for: N never fires before N periods"
                    continue
                if not expect.firing:
                    expect.firing, expect.told = True, False
                assert state == ("silenced" if silenced else "firing")
                due: str | None = None
                if not silenced and not expect.told:
                    due = "firing"
                elif not silenced and self.repeat is not None and expect.last_told is not None \
                        and self.month - expect.last_told >= self.repeat:
                    due = "repeat"
                assert kind == due, f"{measure}: expected {due}, got {kind}"
                if due is not None:
                    expect.told, expect.last_told = True, self.month
                continue
            expect.run = 0
            if expect.firing:
                due = "resolved" if expect.told and not silenced else None
                assert kind == due and state == "resolved", f"{measure}: expected {due} and resolved"
                expect.firing, expect.told = False, False
            else:
                assert kind is None and state is None, "no notice without a change of state"

    @precondition(lambda self: self.last_statuses is not None and not self.silences_changed)
    @rule()
    def same_month_again(self) -> None:
        """Deciding the same month again, nothing else changed (a rerun or restart), tells nobody anything."""
        before = self.store.alert_records()
        decision = self._decide(self.last_statuses or ())
        assert decision.notifications == ()
        assert [(r.key, r.state, r.since) for r in self.store.alert_records()] == [
            (r.key, r.state, r.since) for r in before]

    @rule(measure=st.sampled_from(MEASURES))
    def toggle_silence(self, measure: str) -> None:
        """Add a silence on a measure, or end the one in force."""
        now = NOW + timedelta(days=self.step)
        if measure in self.silenced:
            self.store.expire_silence(self.silenced.pop(measure), by="test", now=now)
        else:
            added = self.store.add_silence(until=now + timedelta(days=80), author="test", reason="hypothesis",
                                           now=now, measure=measure)
            self.silenced[measure] = added.id
        self.step += 1
        self.silences_changed = True

    @invariant()
    def notices_are_unique_and_all_recorded(self) -> None:
        """Every notice returned is recorded once, and nothing else is."""
        recorded = [n.key for n, _, _ in self.store.notifications()]
        assert len(set(self.returned)) == len(self.returned)
        assert sorted(recorded) == sorted(self.returned)


AlertLifecycle.TestCase.settings = settings(
    max_examples=20, stateful_step_count=12, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestAlertLifecycle = AlertLifecycle.TestCase
TestAlertLifecycle.__doc__ = "The alert lifecycle keeps its promises for any sequence of months, reruns and silences."
