"""The public API's as_of, now, areas and path arguments: one meaning and one kind of error everywhere."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from csp_monitor import (
    ArgumentError,
    CspMonitorError,
    InputError,
    evaluate,
    evaluate_and_decide,
    load_config,
    load_figures,
    load_rules,
    open_store,
    send_once,
)
from tests.conftest import HARBOROUGH_ALERTS, HARBOROUGH_FIGURES, HARBOROUGH_RULES, ROOT


@pytest.fixture(scope="module")
def rules_and_figures() -> tuple[object, object]:
    return load_rules(HARBOROUGH_RULES), load_figures(HARBOROUGH_FIGURES)


def test_as_of_may_be_a_month_or_a_date(rules_and_figures: tuple) -> None:
    """evaluate(as_of=...) takes "YYYY-MM", "2014-3" or any date in the month, with the same result."""
    rules, figures = rules_and_figures
    by_text = evaluate(rules, figures, as_of="2014-03")
    assert evaluate(rules, figures, as_of="2014-3") == by_text
    assert evaluate(rules, figures, as_of=date(2014, 3, 31)) == by_text
    assert evaluate(rules, figures, as_of=datetime(2014, 3, 1, 9, tzinfo=UTC)) == by_text
    assert by_text.as_of == "2014-03"


@pytest.mark.parametrize("value", [24170, 2014.03, b"2014-03", ["2014-03"]])
def test_as_of_of_another_kind_is_an_argument_error(rules_and_figures: tuple, value: object) -> None:
    """A month index or any other kind of as_of is refused with an ArgumentError naming as_of."""
    rules, figures = rules_and_figures
    with pytest.raises(ArgumentError) as caught:
        evaluate(rules, figures, as_of=value)  # type: ignore[arg-type]
    assert caught.value.argument == "as_of"
    assert 'as_of must be a month written "YYYY-MM" or a datetime.date' in str(caught.value)


def test_a_malformed_as_of_is_an_input_error(rules_and_figures: tuple) -> None:
    """A month that does not exist is an ArgumentError (an InputError) saying how to write it."""
    rules, figures = rules_and_figures
    with pytest.raises(ArgumentError) as caught:
        evaluate(rules, figures, as_of="2014-13")
    assert isinstance(caught.value, InputError)
    assert str(caught.value) == "<arguments>:as_of: '2014-13' is not a month: the month must be 01 to 12"


def test_positional_as_of_still_works_with_a_deprecation_warning(rules_and_figures: tuple) -> None:
    """evaluate(rules, figures, "2014-03") gives the same result as as_of= and warns that it is deprecated."""
    rules, figures = rules_and_figures
    with pytest.warns(DeprecationWarning, match=r"write evaluate\(rules, figures, as_of=\.\.\.\)"):
        old_style = evaluate(rules, figures, "2014-03")  # type: ignore[misc]
    assert old_style == evaluate(rules, figures, as_of="2014-03")
    with pytest.raises(ArgumentError, match="given twice"), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        evaluate(rules, figures, "2014-03", as_of="2014-02")  # type: ignore[misc]


def test_areas_must_be_a_list_not_one_string(rules_and_figures: tuple) -> None:
    """areas="harborough" is refused (it would be read letter by letter) with the list to write instead."""
    rules, figures = rules_and_figures
    with pytest.raises(ArgumentError) as caught:
        evaluate(rules, figures, as_of="2014-03", areas="harborough")
    assert "write areas=['harborough']" in str(caught.value)


def test_areas_are_matched_as_slugs_as_figures_are(rules_and_figures: tuple) -> None:
    """areas=["Harborough"] judges the area the figures call harborough, as a figures file would match it."""
    rules, figures = rules_and_figures
    by_slug = evaluate(rules, figures, as_of="2014-03", areas=["harborough"])
    assert evaluate(rules, figures, as_of="2014-03", areas=["Harborough", " HARBOROUGH "]) == by_slug
    assert {result.area for result in by_slug.results} == {"harborough"}


def test_now_must_be_timezone_aware(tmp_path: Path, rules_and_figures: tuple) -> None:
    """evaluate_and_decide refuses a naive now before touching the store, saying how to make it aware."""
    _, figures = rules_and_figures
    rules = load_rules([HARBOROUGH_RULES, HARBOROUGH_ALERTS])
    with open_store(tmp_path / "state.db") as store:
        with pytest.raises(ArgumentError) as caught:
            evaluate_and_decide(store, rules, figures, now=datetime(2014, 4, 10, 7), as_of="2014-03")
        assert "timezone-aware" in str(caught.value) and caught.value.argument == "now"
        assert store.evaluation_count() == 0 and store.alert_records() == []
        decision = evaluate_and_decide(store, rules, figures, now=datetime(2014, 4, 10, 7, tzinfo=UTC),
                                       as_of=date(2014, 3, 1))
    assert decision.as_of == "2014-03"


def test_send_once_refuses_a_naive_now(tmp_path: Path) -> None:
    """send_once with a naive now is an ArgumentError, and nothing is written."""
    config = load_config(ROOT / "examples" / "harborough" / "csp-monitor.yaml")
    with pytest.raises(ArgumentError):
        send_once(config, as_of="2014-03", now=datetime(2014, 4, 10), dry_run=tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("call", [
    lambda: load_rules(42),
    lambda: load_rules([HARBOROUGH_RULES, None]),
    lambda: load_figures(b"figures.csv"),
    lambda: load_config(3.5),
    lambda: open_store(7),
])
def test_a_path_of_the_wrong_kind_is_an_argument_error(call: object) -> None:
    """Loaders and open_store refuse a path that is neither str nor os.PathLike with a CspMonitorError."""
    with pytest.raises(ArgumentError) as caught:
        call()  # type: ignore[operator]
    assert isinstance(caught.value, CspMonitorError)
    assert "must be a file path" in str(caught.value)


def test_every_deprecation_is_in_the_changelog(rules_and_figures: tuple) -> None:
    """The positional as_of deprecation is listed under Deprecated in CHANGELOG.md, and the README has the policy."""
    rules, figures = rules_and_figures
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    deprecated = changelog.split("### Deprecated", 1)[1].split("###", 1)[0]
    with pytest.warns(DeprecationWarning):
        evaluate(rules, figures, "2014-03")  # type: ignore[misc]
    assert "evaluate(rules, figures, as_of=\"2014-03\")" in deprecated
    assert "**Compatibility.**" in (ROOT / "README.md").read_text(encoding="utf-8")
