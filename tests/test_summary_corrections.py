"""Summary corrections: what changed is listed exactly, the digest tells figures apart, and a sensitive
summary's correction keeps the sensitivity marking first."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from csp_monitor.delivery.run import FiguresShown, send_once
from csp_monitor.load.config import load_config
from tests.daemon_fixtures import add_month, write_partnership

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
