"""Area names: board-facing text names an area as people do, never by its id (slug)."""

from __future__ import annotations

import json
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csp_monitor.names import display_name, slug
from tests.conftest import CliResult


@pytest.mark.parametrize(("area", "name"), [
    ("melton", "Melton"),
    ("north-west-leicestershire", "North West Leicestershire"),
    ("oadby-and-wigston", "Oadby and Wigston"),
    ("city-of-london", "City of London"),
    ("kingston-upon-hull", "Kingston upon Hull"),
    ("newcastle-upon-tyne", "Newcastle upon Tyne"),
    ("stratford-on-avon", "Stratford on Avon"),
    ("barrow-in-furness", "Barrow in Furness"),
    ("the-wrekin", "The Wrekin"),  # a joining word that starts the name is capitalised
    ("telford-and-the-wrekin", "Telford and the Wrekin"),
])
def test_a_name_is_made_from_the_id_with_joining_words_in_lower_case(area: str, name: str) -> None:
    """Each word is capitalised except the small joining words after the first."""
    assert display_name(area) == name


_WORDS = st.lists(st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True)
                  | st.sampled_from(["and", "of", "the", "upon", "on", "in", "with"]), min_size=1, max_size=6)


@given(_WORDS)
def test_a_made_name_slugs_back_to_its_id(words: list[str]) -> None:
    """The name made from an id is the same name: slugged, it is the id again."""
    area = "-".join(words)
    assert slug(display_name(area)) == area


RULES = """\
partnership: Hinckley and Bosworth Community Safety Partnership
area: hinckley-and-bosworth
area_name: Hinckley & Bosworth
statistics:
  peers:
    populations: {hinckley-and-bosworth: 113600, north-west-leicestershire: 104700, oadby-and-wigston: 57700}
    groups:
      districts: [hinckley-and-bosworth, north-west-leicestershire, oadby-and-wigston]
    names: {north-west-leicestershire: NW Leicestershire}
priorities:
  - id: crime
    title: To reduce crime
    owner: crime@example.org
    measures:
      - {id: burglary, name: Burglary, better: lower, target: {change: -10%}}
recipients:
  board: [board@example.org]
"""

# Hinckley and Bosworth's burglaries rise by half (red); the others stay level.
MONTHLY = {"hinckley-and-bosworth": (40, 60), "north-west-leicestershire": (30, 30), "oadby-and-wigston": (20, 20)}


@pytest.fixture
def partnership(tmp_path: Path) -> Path:
    """Rules giving the area's name and a peer's, figures for April 2012 to March 2014, and a configuration."""
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    lines = ["area,measure,period,value"]
    for area, (before, after) in MONTHLY.items():
        for index in range(24):
            year, month = divmod(2012 * 12 + 3 + index, 12)
            lines.append(f"{area},burglary,{year:04d}-{month + 1:02d},{before if index < 12 else after}")
    (tmp_path / "figures.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "csp-monitor.yaml").write_text(
        "rules: [rules.yaml]\nfigures: [figures.csv]\nstate: state.db\n"
        "delivery: {from: monitor@example.org, folder: outbox/}\nsummary: {to: [board]}\n", encoding="utf-8")
    return tmp_path


def test_the_given_names_reach_the_results_and_the_peer_sentence(
        partnership: Path, cli: Callable[..., CliResult]) -> None:
    """`evaluate --format json` keeps the id as `area` and gives the rules' names in the peer sentence."""
    run = cli("evaluate", partnership / "rules.yaml", "--figures", partnership / "figures.csv",
              "--as-of", "2014-03", "--format", "json")
    assert run.exit_code == 0, run.stderr
    (result,) = json.loads(run.stdout)["results"]
    assert (result["area"], result["area_name"]) == ("hinckley-and-bosworth", "Hinckley & Bosworth")
    assert result["peers"]["explanation"].startswith("Hinckley & Bosworth's rate for April 2013 to March 2014 is ")
    assert result["peers"]["names"] == {"hinckley-and-bosworth": "Hinckley & Bosworth",
                                        "north-west-leicestershire": "NW Leicestershire",
                                        "oadby-and-wigston": "Oadby and Wigston"}


def test_the_report_and_the_summary_email_name_the_areas_of_the_peer_chart(
        partnership: Path, cli: Callable[..., CliResult]) -> None:
    """The report's and the email's peer charts list the group by name, this area by the name the rules give."""
    report = partnership / "report.html"
    run = cli("report", partnership / "rules.yaml", "--figures", partnership / "figures.csv", "--as-of", "2014-03",
              "--out", report)
    assert run.exit_code == 0, run.stderr
    html = report.read_text(encoding="utf-8")
    for name in ("Hinckley &amp; Bosworth (this area)", "NW Leicestershire", "Oadby and Wigston",
                 "with Hinckley &amp; Bosworth highlighted"):
        assert name in html
    assert "oadby-and-wigston<" not in html and "north-west-leicestershire<" not in html

    run = cli("preview", "--config", partnership / "csp-monitor.yaml", "--as-of", "2014-03",
              "--now", "2014-04-10T07:00", "--out", partnership / "preview")
    assert run.exit_code == 0, run.stderr
    (eml,) = (partnership / "preview").glob("*.eml")  # the summary: there are no alert rules
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    lines = text.splitlines()
    (title,) = [index for index, line in enumerate(lines) if line.endswith("in the most similar group:")]
    assert [line.split("  ")[-2] for line in lines[title + 1:title + 4]] == [
        "NW Leicestershire", "Oadby and Wigston", "Hinckley & Bosworth (this area)"]


def test_an_area_name_without_an_area_is_refused_where_it_is_written(
        tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    """`area_name:` with no `area:` would name nothing: the check says so at its line, exit 1."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.replace("area: hinckley-and-bosworth\n", ""), encoding="utf-8")
    run = cli("rules", "check", rules)
    assert run.exit_code == 1
    assert f"{rules}:2:1: 'area_name' names the area the rules are for, but no file gives 'area'" in run.stderr
