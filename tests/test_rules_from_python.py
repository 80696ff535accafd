"""Rules built from Python data or texts get exactly the loader's checks, with every problem located."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from csp_monitor import (
    ArgumentError,
    RulesError,
    RuleSet,
    load_rules,
    rules_from_data,
    rules_from_texts,
)
from tests.conftest import HARBOROUGH_RULES, ROOT

ALERTS = ROOT / "rules" / "harborough-alerts.yaml"

BAD: dict[str, Any] = {
    "partnership": "Testshire CSP",
    "tolerence": 5,
    "priorities": [{
        "id": "acquisitive", "title": "Acquisitive crime",
        "measures": [
            {"id": "burglary", "name": "Burglary", "better": "lowr"},
            {"id": "vehicle", "name": "Vehicle crime", "better": "lower", "target": {"change": 13}},
        ],
    }],
}


def _messages(error: RulesError) -> list[str]:
    return sorted(problem.message for problem in error.problems)


def test_data_gives_the_same_rule_set_as_the_file() -> None:
    """A rule file's YAML read by yaml.safe_load (numbers, dates, booleans) makes the same rules as the file."""
    data = yaml.safe_load(HARBOROUGH_RULES.read_text(encoding="utf-8"))
    from_data = rules_from_data(data, source="harborough")
    from_file = load_rules([HARBOROUGH_RULES])
    assert from_data.model_dump(exclude={"files", "content_hash"}) == \
        from_file.model_dump(exclude={"files", "content_hash"})
    assert from_data.files == ("harborough",)


def test_data_gets_the_loaders_checks_with_key_paths() -> None:
    """Bad data raises RulesError with the same problems as the same text in a file, located by key path."""
    with pytest.raises(RulesError) as from_data:
        rules_from_data(BAD, source="testshire")
    with pytest.raises(RulesError) as from_text:
        rules_from_texts({"testshire.yaml": yaml.safe_dump(BAD, sort_keys=False)})
    assert _messages(from_data.value) == _messages(from_text.value)
    shown = str(from_data.value).splitlines()
    assert "testshire:priorities[0].measures[0].better: 'lowr' is not allowed for 'better': use one of " \
           "'lower', 'higher' (did you mean 'lower'?)" in shown
    assert "testshire:tolerence: unknown key 'tolerence' (did you mean 'tolerance'?)" in shown
    assert all(problem.line is not None for problem in from_text.value.problems)


def test_model_validate_skips_what_rules_from_data_checks() -> None:
    """An ambiguous unsigned change target passes RuleSet.model_validate but not rules_from_data (why it exists)."""
    data = {"partnership": "Testshire CSP", "priorities": [{"id": "p", "title": "P", "measures": [
        {"id": "m", "name": "M", "better": "lower", "target": {"change": 13}}]}]}
    with pytest.raises(RulesError) as caught:
        rules_from_data(data)
    assert "change" in str(caught.value)
    text = yaml.safe_dump(data)
    with pytest.raises(RulesError) as from_text:
        rules_from_texts({"<rules>": text})
    assert _messages(caught.value) == _messages(from_text.value)


def test_several_texts_combine_as_several_files_do() -> None:
    """rules_from_texts with the rule file and the alerts file equals load_rules of both files, hash included."""
    texts = {str(path): Path(path).read_text(encoding="utf-8") for path in (HARBOROUGH_RULES, ALERTS)}
    combined = rules_from_texts(texts)
    assert combined == load_rules([HARBOROUGH_RULES, ALERTS])
    assert isinstance(combined, RuleSet) and combined.alerts


def test_several_texts_report_conflicts_across_them() -> None:
    """Two texts that both define the same measure id raise one located problem naming the other text."""
    text = HARBOROUGH_RULES.read_text(encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        rules_from_texts({"a.yaml": text, "b.yaml": text})
    assert any("is already used in a.yaml at line" in problem.message and problem.file == "b.yaml"
               for problem in caught.value.problems)


def test_several_mappings_combine_as_several_files_do() -> None:
    """rules_from_data with a list of mappings combines them and names each part by its index."""
    rules = yaml.safe_load(HARBOROUGH_RULES.read_text(encoding="utf-8"))
    alerts = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    combined = rules_from_data([rules, alerts], source="harborough")
    assert combined.files == ("harborough[0]", "harborough[1]")
    assert [alert.id for alert in combined.alerts] == [alert.id for alert in load_rules([HARBOROUGH_RULES, ALERTS]).alerts]


def test_data_that_no_rule_file_could_hold_is_a_located_problem() -> None:
    """A Python object with no text form (here a set) is reported at its key path, not passed through."""
    data = {"partnership": "Testshire CSP", "priorities": [{"id": "p", "title": {"a"}, "measures": []}]}
    with pytest.raises(RulesError) as caught:
        rules_from_data(data)
    assert any(str(problem).startswith("<rules>:priorities[0].title: a rule file cannot hold a set")
               for problem in caught.value.problems)


@pytest.mark.parametrize("call", [lambda: rules_from_data("partnership: x"), lambda: rules_from_texts("x")])
def test_a_bare_string_is_an_argument_error(call: Any) -> None:
    """Text passed where data or a mapping of texts is expected is an ArgumentError, not a confusing failure."""
    with pytest.raises(ArgumentError):
        call()
