"""The alert lifecycle against a real SQLite store: for, repeat, resolve, no data, silences, reruns."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from csp_monitor.alerts import Decision, decide_and_record, notification_key, open_store
from csp_monitor.models.rules import RuleSet
from csp_monitor.state.store import StateStore
from tests.alert_fixtures import NOW, evaluation, result, rules_with

OFF_TARGET = """\
alerts:
  - id: off-target
    when: {status: [red]}
    severity: high
    notify: [owner, board]
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    """A new SQLite state store in a temporary folder."""
    with open_store(tmp_path / "state.db") as opened:
        yield opened


def run(store: StateStore, rules: RuleSet, period: str, *statuses: str, now_days: int = 0) -> Decision:
    """Decide one period in which burglary has each status in turn (one result per status given)."""
    results = [result(status, measure=measure) for status, measure in zip(statuses, ("burglary", "damage"),
                                                                          strict=False)]
    return decide_and_record(store, rules, evaluation(period, *results), now=NOW + timedelta(days=now_days))


def kinds(decision: Decision) -> list[tuple[str, str]]:
    """(kind, measure) of each notice, in order."""
    return [(notice.kind, notice.measure) for notice in decision.notifications]


def states(decision: Decision) -> list[tuple[str, str, str]]:
    """(measure, state, since) of each alert in the decision."""
    return [(alert.measure, alert.state, alert.since) for alert in decision.alerts]


def test_a_red_result_fires_once_and_tells_the_owner_and_the_board(store: StateStore) -> None:
    """The first red month fires and notifies owner then board; the next red month says nothing new."""
    rules = rules_with(OFF_TARGET)
    first = run(store, rules, "2014-01", "red")
    assert kinds(first) == [("firing", "burglary")]
    notice = first.notifications[0]
    assert notice.recipients == ("lead@example.org", "board@example.org", "analyst@example.org")
    assert notice.message == "Burglary in town is red"
    assert notice.key == notification_key("off-target", "town", "burglary", "2014-01", "firing")
    assert states(first) == [("burglary", "firing", "2014-01")]
    second = run(store, rules, "2014-02", "red")
    assert kinds(second) == []
    assert states(second) == [("burglary", "firing", "2014-01")]


def test_the_same_period_decided_twice_notifies_once(store: StateStore) -> None:
    """Deciding a month again (a rerun or a restart) makes no second notice and keeps the state."""
    rules = rules_with(OFF_TARGET)
    first = run(store, rules, "2014-03", "red")
    again = run(store, rules, "2014-03", "red", now_days=1)
    assert kinds(first) == [("firing", "burglary")]
    assert kinds(again) == []
    assert states(again) == states(first)
    assert len(store.notifications()) == 1


def test_for_two_is_pending_first_then_fires_in_the_second_period(store: StateStore) -> None:
    """for: 2 makes the first amber month pending and fires in the second."""
    rules = rules_with("alerts:\n  - id: slipping\n    when: {status: [amber]}\n    for: 2\n    notify: [owner]\n")
    first = run(store, rules, "2014-01", "amber")
    assert kinds(first) == [] and states(first) == [("burglary", "pending", "2014-01")]
    second = run(store, rules, "2014-02", "amber")
    assert kinds(second) == [("firing", "burglary")]
    assert states(second) == [("burglary", "firing", "2014-02")]
    assert second.notifications[0].recipients == ("lead@example.org",)


def test_a_pending_alert_that_clears_leaves_nothing(store: StateStore) -> None:
    """Pending then green: nobody is told, nothing remains, and the run starts again from one."""
    rules = rules_with("alerts:\n  - id: slipping\n    when: {status: [amber]}\n    for: 2\n    notify: [owner]\n")
    run(store, rules, "2014-01", "amber")
    cleared = run(store, rules, "2014-02", "green")
    assert kinds(cleared) == [] and states(cleared) == []
    assert store.alert_records() == []
    again = run(store, rules, "2014-03", "amber")
    assert states(again) == [("burglary", "pending", "2014-03")]


def test_repeat_reminds_every_n_periods_while_firing(store: StateStore) -> None:
    """repeat: 3 reminds three and six months after the first notice, not in between."""
    rules = rules_with(OFF_TARGET.replace("severity: high", "repeat: 3"))
    months = ["2013-07", "2013-08", "2013-09", "2013-10", "2013-11", "2013-12", "2014-01"]
    seen = [(month, kinds(run(store, rules, month, "red"))) for month in months]
    assert seen == [
        ("2013-07", [("firing", "burglary")]), ("2013-08", []), ("2013-09", []),
        ("2013-10", [("repeat", "burglary")]), ("2013-11", []), ("2013-12", []),
        ("2014-01", [("repeat", "burglary")])]


def test_a_cleared_alert_says_back_on_track_once(store: StateStore) -> None:
    """Red then green: a resolved notice in the green month, then nothing."""
    rules = rules_with(OFF_TARGET)
    run(store, rules, "2014-01", "red")
    resolved = run(store, rules, "2014-02", "green")
    assert kinds(resolved) == [("resolved", "burglary")]
    assert resolved.notifications[0].message == "Back on track: Burglary in town is green"
    assert states(resolved) == [("burglary", "resolved", "2014-02")]
    later = run(store, rules, "2014-03", "green")
    assert kinds(later) == [] and states(later) == []


def test_a_new_firing_after_resolving_is_notified_again(store: StateStore) -> None:
    """Red, green, red: each change of state is a notice."""
    rules = rules_with(OFF_TARGET)
    assert [kinds(run(store, rules, m, s)) for m, s in (("2014-01", "red"), ("2014-02", "green"),
                                                        ("2014-03", "red"))] == [
        [("firing", "burglary")], [("resolved", "burglary")], [("firing", "burglary")]]


def test_missing_figures_never_resolve_a_firing_alert(store: StateStore) -> None:
    """A month with no data keeps the alert firing, says nothing, and the next red month is not new."""
    rules = rules_with(OFF_TARGET)
    run(store, rules, "2014-01", "red")
    missing = run(store, rules, "2014-02", "no_data")
    assert kinds(missing) == [] and states(missing) == [("burglary", "firing", "2014-01")]
    [record] = store.alert_records()
    assert record.no_data_since == "2014-02"
    back = run(store, rules, "2014-03", "red")
    assert kinds(back) == [] and states(back) == [("burglary", "firing", "2014-01")]
    assert store.alert_records()[0].no_data_since is None


def test_missing_figures_neither_count_towards_for_nor_break_the_run(store: StateStore) -> None:
    """amber, no data, amber fires a for: 2 alert in the third month, not the second."""
    rules = rules_with("alerts:\n  - id: slipping\n    when: {status: [amber]}\n    for: 2\n    notify: [owner]\n")
    assert kinds(run(store, rules, "2014-01", "amber")) == []
    gap = run(store, rules, "2014-02", "no_data")
    assert kinds(gap) == [] and states(gap) == [("burglary", "pending", "2014-01")]
    assert kinds(run(store, rules, "2014-03", "amber")) == [("firing", "burglary")]


def test_an_alert_on_missing_figures_fires_and_resolves_when_they_arrive(store: StateStore) -> None:
    """status: [no_data] fires on a missing month and resolves once figures arrive."""
    rules = rules_with("alerts:\n  - id: late\n    when: {status: [no_data]}\n    notify: [board]\n")
    assert kinds(run(store, rules, "2014-01", "no_data")) == [("firing", "burglary")]
    assert kinds(run(store, rules, "2014-02", "green")) == [("resolved", "burglary")]


def test_a_silenced_alert_is_recorded_but_not_notified(store: StateStore) -> None:
    """Under a silence the alert is 'silenced' and nobody is told; after it ends, it is notified."""
    rules = rules_with(OFF_TARGET)
    store.add_silence(until=NOW + timedelta(days=20), author="Jo Bloggs", reason="operation under way", now=NOW,
                      measure="burglary")
    silenced = run(store, rules, "2014-01", "red")
    assert kinds(silenced) == [] and states(silenced) == [("burglary", "silenced", "2014-01")]
    after = run(store, rules, "2014-02", "red", now_days=30)
    assert kinds(after) == [("firing", "burglary")]
    assert states(after) == [("burglary", "firing", "2014-02")]


def test_a_silence_matches_only_what_it_names(store: StateStore) -> None:
    """A silence on one measure leaves another measure's alert notified."""
    rules = rules_with(OFF_TARGET)
    store.add_silence(until=NOW + timedelta(days=20), author="Jo", reason="known", now=NOW, measure="damage",
                      alert="off-target", area="town")
    decision = run(store, rules, "2014-01", "red", "red")
    assert kinds(decision) == [("firing", "burglary")]
    assert states(decision) == [("burglary", "firing", "2014-01"), ("damage", "silenced", "2014-01")]


def test_an_alert_silenced_throughout_resolves_without_a_notice(store: StateStore) -> None:
    """Nobody was told it fired, so nobody is told it resolved."""
    rules = rules_with(OFF_TARGET)
    store.add_silence(until=NOW + timedelta(days=60), author="Jo", reason="known", now=NOW, alert="off-target")
    run(store, rules, "2014-01", "red")
    resolved = run(store, rules, "2014-02", "green", now_days=1)
    assert kinds(resolved) == [] and states(resolved) == [("burglary", "resolved", "2014-02")]


def test_an_expired_silence_no_longer_applies(store: StateStore) -> None:
    """Expiring a silence early lets the next decision notify."""
    rules = rules_with(OFF_TARGET)
    added = store.add_silence(until=NOW + timedelta(days=60), author="Jo", reason="known", now=NOW,
                              alert="off-target")
    assert kinds(run(store, rules, "2014-01", "red")) == []
    store.expire_silence(added.id, by="Sam", now=NOW + timedelta(days=1))
    assert kinds(run(store, rules, "2014-02", "red", now_days=2)) == [("firing", "burglary")]


def test_revised_figures_for_a_decided_month_start_from_the_month_before(store: StateStore) -> None:
    """Re-deciding a month with revised figures replaces its decision rather than adding a period."""
    rules = rules_with("alerts:\n  - id: slipping\n    when: {status: [amber]}\n    for: 2\n    notify: [owner]\n")
    run(store, rules, "2014-01", "amber")
    revised_away = run(store, rules, "2014-02", "green")
    assert states(revised_away) == []
    revised_back = run(store, rules, "2014-02", "amber", now_days=1)
    assert kinds(revised_back) == [("firing", "burglary")]
    again = run(store, rules, "2014-02", "amber", now_days=2)
    assert kinds(again) == [] and states(again) == [("burglary", "firing", "2014-02")]


def test_a_revision_that_clears_a_notified_alert_says_back_on_track(store: StateStore) -> None:
    """Told it fired this month, then the figures are revised to green: a resolved notice follows."""
    rules = rules_with(OFF_TARGET)
    assert kinds(run(store, rules, "2014-03", "red")) == [("firing", "burglary")]
    revised = run(store, rules, "2014-03", "green", now_days=1)
    assert kinds(revised) == [("resolved", "burglary")]
    assert states(revised) == [("burglary", "resolved", "2014-03")]


def test_a_revision_to_no_data_keeps_a_notified_alert_firing(store: StateStore) -> None:
    """Told it fired this month, then the month's figures are withdrawn: it keeps firing, silently."""
    rules = rules_with(OFF_TARGET)
    run(store, rules, "2014-03", "red")
    withdrawn = run(store, rules, "2014-03", "no_data", now_days=1)
    assert kinds(withdrawn) == [] and states(withdrawn) == [("burglary", "firing", "2014-03")]


def test_a_flip_flopping_revision_never_repeats_a_notice(store: StateStore) -> None:
    """Red, green, red, green in one month: one firing and one resolved notice; the next red month tells."""
    rules = rules_with(OFF_TARGET)
    outcomes = [kinds(run(store, rules, "2014-03", status, now_days=day))
                for day, status in enumerate(("red", "green", "red", "green", "red"))]
    assert outcomes == [[("firing", "burglary")], [("resolved", "burglary")], [], [], []]
    assert [n.kind for n, _, _ in store.notifications()] == ["firing", "resolved"]
    assert kinds(run(store, rules, "2014-04", "red", now_days=9)) == [("firing", "burglary")]


def test_an_earlier_month_does_not_move_alerts_backwards(store: StateStore) -> None:
    """Deciding an earlier month records its evaluation but leaves later decisions alone, with a warning."""
    rules = rules_with(OFF_TARGET)
    run(store, rules, "2014-03", "red")
    earlier = run(store, rules, "2014-01", "green")
    assert kinds(earlier) == [] and states(earlier) == []
    assert earlier.warnings == (
        "2014-01 is earlier than the last month decided (2014-03): its evaluation is recorded, but the alerts "
        "already decided for later months were left as they are",)
    assert store.alert_records()[0].state == "firing"
    assert store.evaluation_count() == 2


def test_worse_than_previous_compares_with_the_store(store: StateStore) -> None:
    """worse_than_previous fires when the status is worse than at the previous month recorded."""
    rules = rules_with("alerts:\n  - id: worse\n    when: {worse_than_previous: true}\n    notify: [owner]\n")
    assert kinds(run(store, rules, "2014-01", "amber")) == []  # nothing earlier to compare with
    assert kinds(run(store, rules, "2014-02", "red")) == [("firing", "burglary")]
    assert kinds(run(store, rules, "2014-03", "red")) == [("resolved", "burglary")]


def test_worse_than_previous_skips_months_without_figures(store: StateStore) -> None:
    """The previous evaluation is the last one with figures: green, no data, amber is worse."""
    rules = rules_with("alerts:\n  - id: worse\n    when: {worse_than_previous: true}\n    notify: [owner]\n")
    run(store, rules, "2014-01", "green")
    run(store, rules, "2014-02", "no_data")
    assert kinds(run(store, rules, "2014-03", "amber")) == [("firing", "burglary")]


def test_raw_thresholds_on_current_and_change(store: StateStore) -> None:
    """current above and change_pct above hold only when both are beyond their thresholds."""
    rules = rules_with("alerts:\n  - id: big-rise\n    when: {current: {above: 110}, change_pct: {above: 15}}\n"
                       "    notify: [board]\n")
    fired = decide_and_record(store, rules, evaluation("2014-01", result("green", current=120)), now=NOW)
    assert kinds(fired) == [("firing", "burglary")]
    cleared = decide_and_record(store, rules, evaluation("2014-02", result("green", current=112)), now=NOW)
    assert kinds(cleared) == [("resolved", "burglary")]


def test_scope_limits_the_measures_watched(store: StateStore) -> None:
    """An alert scoped to one measure ignores the others."""
    rules = rules_with("alerts:\n  - id: damage-only\n    when: {status: red}\n    scope: {measures: [damage]}\n"
                       "    notify: [owner]\n")
    decision = run(store, rules, "2014-01", "red", "red")
    assert kinds(decision) == [("firing", "damage")]
    assert decision.notifications[0].recipients == ("damage@example.org",)
