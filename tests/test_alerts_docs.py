"""docs/alerts.md stays true: its alert rules load, its worked example happens, its key is the real one."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from csp_monitor import rules_from_text
from csp_monitor.alerts import decide_and_record, notification_key, open_store
from tests.alert_fixtures import NOW, evaluation, result, rules_with
from tests.conftest import HARBOROUGH_RULES, ROOT

DOC = (ROOT / "docs" / "alerts.md").read_text(encoding="utf-8")
YAML_BLOCKS = re.findall(r"^```yaml\n(.*?)^```\n", DOC, re.M | re.S)


@pytest.mark.parametrize("block", YAML_BLOCKS, ids=[f"block-{i}" for i in range(len(YAML_BLOCKS))])
def test_every_alert_example_loads_beside_the_harborough_rules(block: str) -> None:
    """Each YAML example in the alerts guide is a valid alerts file for the Harborough rules."""
    rules = rules_from_text(HARBOROUGH_RULES.read_text(encoding="utf-8") + block, "harborough-with-example.yaml")
    assert rules.alerts


def test_the_guide_shows_the_issue_minimum_as_shipped() -> None:
    """The quick start's first YAML block is rules/harborough-alerts.yaml without its comments."""
    shipped = (ROOT / "rules" / "harborough-alerts.yaml").read_text(encoding="utf-8")
    assert YAML_BLOCKS[0] == shipped[shipped.index("recipients:"):]


def test_the_json_example_key_is_the_real_key() -> None:
    """The key shown in the JSON example is the notice's real key."""
    key = notification_key("off-target", "harborough", "domestic-burglary", "2014-03", "firing")
    assert f'"key": "{key}"' in DOC


def test_the_worked_example_happens(tmp_path: Path) -> None:
    """July to December as in the guide's table: firing, -, -, repeat, resolved, -."""
    rules = rules_with("alerts:\n  - id: off-target\n    when: {status: [red]}\n    repeat: 3\n    notify: [owner]\n")
    months = [("2013-07", "red"), ("2013-08", "red"), ("2013-09", "no_data"), ("2013-10", "red"),
              ("2013-11", "green"), ("2013-12", "green")]
    with open_store(tmp_path / "state.db") as store:
        seen = [[(n.kind, a.state) for n in d.notifications for a in d.alerts] or [a.state for a in d.alerts]
                for d in (decide_and_record(store, rules, evaluation(month, result(status)),
                                            now=NOW + timedelta(days=day))
                          for day, (month, status) in enumerate(months))]
    assert seen == [[("firing", "firing")], ["firing"], ["firing"], [("repeat", "firing")],
                    [("resolved", "resolved")], []]
