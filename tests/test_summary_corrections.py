"""Summary corrections: what changed is listed exactly, the digest tells figures apart, a sensitive
summary's correction keeps the sensitivity marking first, and a dry run plans the corrections a real run
queues."""

from __future__ import annotations

import sqlite3
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csp_monitor.delivery.run import FiguresShown, PlannedMessage, send_once
from csp_monitor.load.config import load_config
from tests.daemon_fixtures import add_month, write_partnership
from tests.delivery_fixtures import NOW, write_config

_KEYS = st.tuples(st.sampled_from(["north", "south"]), st.sampled_from(["burglary", "robbery"]),
                  st.sampled_from(["2020-01", "2020-02", "2020-03"]))
_FIGURES = st.dictionaries(_KEYS, st.integers(min_value=0, max_value=500).map(float), max_size=12)


def _shown(figures: dict[tuple[str, str, str], float]) -> FiguresShown:
    return FiguresShown("P", "2020-03", tuple((*key, value, None) for key, value in sorted(figures.items())))


@given(before=_FIGURES, after=_FIGURES)
def test_changes_list_exactly_the_figures_that_differ(before: dict[tuple[str, str, str], float],
                                                      after: dict[tuple[str, str, str], float]) -> None:
    """One line per figure added, withdrawn or changed, none for the same; equal digests exactly when equal."""
    earlier = [[*key, value] for key, value in before.items()]
    lines = _shown(after).changes_since(earlier)
    differing = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    assert len(lines) == len(differing)
    assert all(any(line.startswith(" ".join(key) + ":") for line in lines) for key in differing)
    assert (_shown(before).digest == _shown(after).digest) == (before == after)


def test_a_sensitive_summarys_correction_keeps_the_marking_first(tmp_path: Path) -> None:
    """The correction of a summary with a sensitive measure is '[OFFICIAL-SENSITIVE] Correction: ...'."""
    config_path = write_partnership(tmp_path, schedules="")  # delivery into the outbox/ folder
    rules = tmp_path / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace(
        "        name: Satisfaction B\n", "        name: Satisfaction B\n        sensitive: true\n"))
    add_month(tmp_path, "2020-04")
    config = load_config(config_path)
    first = send_once(config, jobs=("summary",))
    figures = tmp_path / "figures" / "2020-04.csv"
    figures.write_text(figures.read_text(encoding="utf-8").replace("satisfaction-a,2020-04,90",
                                                                   "satisfaction-a,2020-04,91"))
    second = send_once(config, jobs=("summary",))
    third = send_once(config, jobs=("summary",))
    assert [len(report.queued) for report in (first, second, third)] == [1, 1, 0]
    subject = second.queued[0].subject
    assert subject.startswith("[OFFICIAL-SENSITIVE] Correction: Testshire Community Safety Partnership")
    message = message_from_bytes(second.queued[0].data, policy=default)
    assert message["Sensitivity"] == "Company-Confidential"
    assert message["Message-ID"] != first.queued[0].message_id
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "testshire satisfaction-a 2020-04: 90 -&gt; 91" in html


def _shown_to_people(planned: PlannedMessage) -> tuple[str, str, str, str]:
    """A message's Message-ID, subject, text and HTML (its MIME boundaries are random)."""
    message = message_from_bytes(planned.data, policy=default)
    return (str(message["Message-ID"]), str(message["Subject"]),
            message.get_body(("plain",)).get_content(),  # type: ignore[union-attr]
            message.get_body(("html",)).get_content())  # type: ignore[union-attr]


def _row_counts(database: Path) -> dict[str, int]:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: int(connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]) for table in tables}
    finally:
        connection.close()


@pytest.mark.parametrize("jobs", [("summary", "alerts"), ("alerts",)])
def test_a_dry_run_lists_each_months_correction_apart_and_a_real_run_queues_the_same(
        tmp_path: Path, jobs: tuple[str, ...]) -> None:
    """With February's and March's summaries sent and a February figure revised, send_once(dry_run=...) (of
    either job, as a real run of either would) plans a correction of each month, listed apart with the change,
    records nothing, and the real run then queues exactly those messages."""
    config = load_config(write_config(tmp_path, "delivery:\n  from: m@example.org\n  folder: sent/\n"))
    for month in ("2014-02", "2014-03"):
        send_once(config, as_of=month, now=NOW)
    figures = tmp_path / "figures" / "harborough.csv"
    text = figures.read_text(encoding="utf-8")
    assert text.count("total-crime,2014-02,206\n") == 1
    figures.write_text(text.replace("total-crime,2014-02,206\n", "total-crime,2014-02,207\n"), encoding="utf-8")
    counts = _row_counts(tmp_path / "csp-monitor.db")

    dry = send_once(config, as_of="2014-03", now=NOW, jobs=jobs, dry_run=tmp_path / "dry")
    assert _row_counts(tmp_path / "csp-monitor.db") == counts
    corrections = [message for message in dry.queued if message.correction]
    assert [(m.period, m.correction, m.changes) for m in corrections] == [
        (month, 1, ("harborough total-crime 2014-02: 206 -> 207",)) for month in ("2014-02", "2014-03")]
    assert all(m.subject.startswith("Correction: ") for m in corrections)
    lines = dry.lines()
    for month in ("2014-02", "2014-03"):
        at = lines.index(f"would send 1 correction of the {month} summary: 1 figure changed")
        assert lines[at + 1] == "  - harborough total-crime 2014-02: 206 -> 207"

    real = send_once(config, as_of="2014-03", now=NOW, jobs=jobs)
    assert sorted(m.key for m in real.queued) == sorted(m.key for m in dry.queued)
    assert [_shown_to_people(m) for m in real.queued if m.correction] == [_shown_to_people(m) for m in corrections]
    assert send_once(config, as_of="2014-03", now=NOW, jobs=jobs, dry_run=tmp_path / "again").queued == ()
