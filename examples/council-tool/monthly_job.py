"""A council tool's monthly community-safety job, written against csp-monitor's public API only.

What a developer of another council tool writes (a Django management command or a Flask view would call
``monthly_job``): figures come from the council's own warehouse (a SQLite database here) as Python data;
rules from text kept beside the tool plus one alert rule built from Python data; the month is judged,
alerts are decided against a state store, the risk report is rendered to HTML for the intranet, the
month's emails are planned, then sent through the council's mail server, and the audit trail is read back.

Run: python council_tool.py WAREHOUSE.sqlite RULES_FOLDER WORK_FOLDER SMTP_PORT
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from csp_monitor import (
    CspMonitorError,
    Decision,
    Evaluation,
    Figure,
    FigureSet,
    HistoryEntry,
    InputError,
    MeasureResult,
    PlannedMessage,
    Problem,
    RuleSet,
    SendReport,
    Status,
    __version__,
    config_from_data,
    decide_and_record,
    evaluate,
    group_by_recipient,
    open_store,
    plan_messages,
    render_report,
    rules_from_data,
    rules_from_texts,
    send_once,
)

AS_OF = date(2014, 3, 1)
NOW = datetime(2014, 4, 10, 7, 0, tzinfo=UTC)


def warehouse_rows(warehouse: Path) -> Iterator[Figure]:
    """The council's monthly recorded-crime counts, read with plain SQL (the tool's own database)."""
    with sqlite3.connect(warehouse) as connection:
        for area, measure, month, count in connection.execute(
                "SELECT area, measure, month, count FROM monthly_crime ORDER BY area, measure, month"):
            yield Figure(area=str(area), measure=str(measure), period=str(month), value=float(count))


def load_rule_set(folder: Path) -> RuleSet:
    """The partnership's rules and alert rules (kept as text in the tool's repository) plus one built in code."""
    texts = {path.name: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.yaml"))}
    rules = rules_from_texts(texts)
    data = rules.rule_data()
    data["alerts"].append({"id": "council-red", "when": {"status": ["red"]}, "notify": ["board"]})
    return rules_from_data(data, source="council-tool")


def headline(result: MeasureResult) -> str:
    status: Status = result.status
    change = "" if result.change_pct is None else f" ({result.change_pct:+.1f}%)"
    significance = result.significance
    real = significance is not None and significance.verdict.startswith("significant")
    return f"{result.area}/{result.measure}: {status}{change}{' significant' if real else ''}"


@dataclass(frozen=True)
class JobOutcome:
    evaluation: Evaluation
    decision: Decision
    report_html: Path
    planned: tuple[PlannedMessage, ...]
    sent: SendReport
    history: tuple[HistoryEntry, ...]


def monthly_job(warehouse: Path, rules_folder: Path, work: Path, smtp_port: int) -> JobOutcome:
    figures = FigureSet.from_figures(warehouse_rows(warehouse))
    rules = load_rule_set(rules_folder)
    evaluation = evaluate(rules, figures, as_of=AS_OF, areas=["Harborough"])
    for result in evaluation.results:
        print(headline(result))

    with open_store(work / "state.db") as store:  # the same evaluation, decided and recorded in one transaction
        decision = decide_and_record(store, rules, evaluation, now=NOW)
    for batch in group_by_recipient(decision.notifications):
        print("notice for", batch.recipient, "about", ", ".join(notice.measure for notice in batch.notifications))
    print(json.dumps(decision.model_dump(mode="json"))[:80])

    report = work / "report.html"
    report.write_text(render_report(rules, figures, evaluation, charts=False), encoding="utf-8")

    config = config_from_data({
        "rules": [path.name for path in sorted(rules_folder.glob("*.yaml"))],
        "figures": ["figures/*.csv"],  # the partnership's usual files; this tool gives its own figures below
        "state": str(work / "state.db"),
        "delivery": {"from": "Council CSP tool <csp@council.example.org>",
                     "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none"}},
        "summary": {"to": ["board"], "charts": False},
    }, base=rules_folder)
    plan = plan_messages(config, as_of=AS_OF, now=NOW, rules=rules, figures=figures)
    for message in plan.messages:
        print("would send", message.kind, message.subject, "to", ", ".join(message.recipients))
    sent = send_once(config, as_of=AS_OF, now=NOW, rules=rules, figures=figures)
    print("\n".join(sent.lines()))

    with open_store(work / "state.db", read_only=True) as store:
        history = tuple(store.history(limit=None))
    return JobOutcome(evaluation, decision, report, tuple(plan.messages), sent, history)


def main(arguments: list[str]) -> int:
    print("csp-monitor", __version__)
    try:
        outcome = monthly_job(Path(arguments[0]), Path(arguments[1]), Path(arguments[2]), int(arguments[3]))
    except InputError as error:
        problems: tuple[Problem, ...] = error.problems
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1
    except CspMonitorError as error:
        print(error.message, file=sys.stderr)
        return 3
    print(f"{len(outcome.sent.sent)} sent, {len(outcome.history)} history entries")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
