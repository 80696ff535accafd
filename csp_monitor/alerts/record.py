"""Decide alerts against a state store and record the decision, in one transaction.

The notices a decision makes due are recorded as *to be queued*: whichever
entry point decided them (this API, ``csp-monitor decide``, ``send`` or the
daemon), the next delivery run on the same store
(:func:`csp_monitor.delivery.run.send_once`) puts each of them into an alert
email in the outbox, once. Deciding never loses a notice for want of a caller
that delivers it in the same breath.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from csp_monitor.alerts.decide import decide
from csp_monitor.arguments import check_kind, check_now
from csp_monitor.models.decisions import Decision
from csp_monitor.models.figures import FigureSet
from csp_monitor.models.results import Evaluation
from csp_monitor.models.rules import RuleSet

if TYPE_CHECKING:
    from csp_monitor.state.store import StateStore

__all__ = ["decide_and_record", "evaluate_and_decide"]


def decide_and_record(store: StateStore, rules: RuleSet, evaluation: Evaluation, *, now: datetime) -> Decision:
    """Decide the alerts for ``evaluation``, record it all, and return the decision.

    The evaluation, the alert states and the notices now due (to be queued
    by the next delivery run) are committed in one transaction: all of them,
    or (on any error) none. A notice already recorded is never returned again.
    """
    from csp_monitor.state.store import StateStore

    check_kind(store, StateStore, argument="store", made_by="from open_store")
    check_kind(rules, RuleSet, argument="rules", made_by="from load_rules or rules_from_data")
    check_kind(evaluation, Evaluation, argument="evaluation", made_by="from evaluate")
    now = check_now(now)
    with store.transaction() as connection:
        remembered = store.remembered(connection, evaluation, now=now)
        plan = decide(evaluation, rules, remembered, now=now)
        store.record_evaluation(connection, evaluation, rule_hash=rules.content_hash, now=now)
        store.save_decision(connection, records=plan.records, removed=plan.removed, transitions=plan.transitions,
                            notifications=plan.decision.notifications, severities=plan.severities,
                            rule_hash=rules.content_hash, now=now)
    return plan.decision


def evaluate_and_decide(store: StateStore, rules: RuleSet, figures: FigureSet, *, now: datetime,
                        as_of: str | date | None = None) -> Decision:
    """Evaluate the figures (as of ``as_of``, default the latest month), then decide and record alerts.

    ``now`` must be timezone-aware; ``as_of`` is ``"YYYY-MM"`` or a :class:`datetime.date`.
    """
    from csp_monitor.evaluation.engine import evaluate
    from csp_monitor.state.store import StateStore

    check_kind(store, StateStore, argument="store", made_by="from open_store")
    now = check_now(now)
    evaluation = evaluate(rules, figures, as_of=as_of)
    decision = decide_and_record(store, rules, evaluation, now=now)
    if evaluation.warnings:
        decision = decision.model_copy(update={"warnings": (*evaluation.warnings, *decision.warnings)})
    return decision
