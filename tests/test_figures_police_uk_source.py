"""police.uk archives as a figures source: counted in memory at each run and judged straight from the archive."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from csp_monitor import evaluate, load_figures, load_rules
from csp_monitor.delivery.run import send_once
from csp_monitor.errors import FiguresError
from csp_monitor.importers import import_police_uk
from csp_monitor.load.config import load_config
from csp_monitor.load.figure_sources import load_sources
from csp_monitor.periods import parse_month
from tests.conftest import CliResult
from tests.police_uk_fixtures import member, month_rows, street_csv, street_row, write_archive

RULES = """\
partnership: Harborough District Community Safety Partnership
area: harborough
year_starts: 2021-04
tolerance: 5
priorities:
  - id: crime
    title: To reduce crime
    measures:
      - id: burglary-policeuk
        name: Burglary (police.uk)
        better: lower
        source: burglary
        target: {change: -5%}
      - id: vehicle-crime-policeuk
        name: Vehicle crime (police.uk)
        better: lower
        source: vehicle-crime
        target: {change: -8%}
      - id: total-crime-policeuk
        name: Total crime (police.uk)
        better: lower
        source: total-crime
        target: {change: -5%}
      - id: asb-policeuk
        name: Anti-social behaviour (police.uk)
        better: lower
        source: anti-social-behaviour
recipients:
  board: [board@example.org]
alerts:
  - id: off-target
    when: {status: [red]}
    notify: [board]
"""

LAST_YEAR = [f"2020-{m:02d}" for m in range(4, 13)] + [f"2021-{m:02d}" for m in range(1, 4)]
THIS_YEAR = [f"2021-{m:02d}" for m in range(4, 13)] + [f"2022-{m:02d}" for m in range(1, 4)]
LOST_MONTH = "2021-09"  # Harborough's burglaries missing from the upload: a data fault


def _month(month: str) -> list[list[str]]:
    """One month of street rows: last year Harborough has 20 burglaries and 5 vehicle crimes a month, this year
    16 and 7 (none at all in the lost month); 3 ASB incidents a month; Blaby steady; two rows with no location."""
    this_year = month in THIS_YEAR
    burglary = 0 if month == LOST_MONTH else (16 if this_year else 20)
    rows = month_rows(month, {("Harborough 012B", "Burglary"): burglary,
                              ("Harborough 003A", "Vehicle crime"): 7 if this_year else 5,
                              ("Harborough 012B", "Anti-social behaviour"): 3,
                              ("Blaby 001A", "Burglary"): 20, ("Blaby 001A", "Vehicle crime"): 6})
    rows += [street_row(month, "", "Burglary"), street_row(month, "", "Anti-social behaviour")]
    return rows


def _archive(folder: Path, *, malformed: bool = False) -> Path:
    """A police.uk-style zip of two years of a small force, in its exact member names and columns."""
    members = {}
    for month in LAST_YEAR + THIS_YEAR:
        rows = _month(month)
        if malformed and month == "2021-06":
            rows.append(["only", "three", "fields"])
        members[member(month)] = street_csv(rows, bom=True)
    folder.mkdir(parents=True, exist_ok=True)
    return write_archive(folder / "test-street-2020-04_2022-03.zip", members)


def _project(folder: Path, source: str) -> Path:
    (folder / "rules.yaml").write_text(RULES, encoding="utf-8")
    path = folder / "csp-monitor.yaml"
    path.write_text(f"rules: rules.yaml\nfigures:\n  - {source}\nstate: state.db\n"
                    "delivery: {folder: outbox/}\nsummary: {to: [board], charts: false}\n", encoding="utf-8")
    return path


def test_a_small_archive_is_counted_and_judged_from_the_configuration(tmp_path: Path) -> None:
    """Each measure's source: reads police.uk's counts; the statuses follow from the rows put in the archive."""
    _archive(tmp_path / "archives")
    config = load_config(_project(tmp_path, "{police_uk: archives/*.zip}"))
    evaluation = evaluate(load_rules(config.rules), load_sources(config).figures, as_of="2022-03")
    found = {r.measure: (r.current, r.baseline, r.status) for r in evaluation.results if r.area == "harborough"}
    assert found == {
        "burglary-policeuk": (16 * 11, 20 * 12, "green"),           # -33%, target -5%
        "vehicle-crime-policeuk": (7 * 12, 5 * 12, "red"),          # +40%, target -8%
        "total-crime-policeuk": (16 * 11 + 84, 240 + 60, "green"),  # -13%
        "asb-policeuk": (36, 36, "no_target"),
    }


def test_suspect_figures_of_the_import_reach_the_judgement(tmp_path: Path) -> None:
    """The month Harborough's burglaries vanished from the upload is marked suspect, as the importer says."""
    _archive(tmp_path / "archives")
    config = load_config(_project(tmp_path, "{police_uk: archives/*.zip}"))
    figures = load_sources(config).figures
    assert figures.series("harborough", "burglary")[parse_month(LOST_MONTH)] == 0
    reason = figures.suspect("harborough", "burglary", parse_month(LOST_MONTH))
    assert reason is not None and reason.startswith(f"harborough burglary {LOST_MONTH}: 0 against a usual 16-20")
    assert figures.suspect("blaby", "burglary", parse_month(LOST_MONTH)) is None
    result = evaluate(load_rules(config.rules), figures, as_of="2022-03").get("harborough", "burglary-policeuk")
    assert result is not None and result.suspect_months == (LOST_MONTH,)


def test_the_whole_run_sends_from_the_archive(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    """`csp-monitor send` evaluates, decides, renders and delivers straight from the archive."""
    _archive(tmp_path / "archives")
    path = _project(tmp_path, "{police_uk: archives/}")
    result = cli("send", "--config", path)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("sent summary 'Harborough District Community Safety Partnership risk summary, "
                               "March 2022: 1 red, 0 amber, 2 green' to board@example.org")
    assert lines[1].startswith("sent alert 'Harborough District Community Safety Partnership: alert, Vehicle crime "
                               "(police.uk) (March 2022)' to board@example.org")
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2


def test_malformed_rows_stop_the_run_unless_skipped_and_then_are_reported(tmp_path: Path) -> None:
    """By default a malformed row fails the run at its place; skip_malformed: true runs on with a warning."""
    archive = _archive(tmp_path / "archives", malformed=True)
    strict = load_config(_project(tmp_path, "{police_uk: archives/*.zip}"))
    with pytest.raises(FiguresError) as caught:
        load_sources(strict)
    assert [str(p) for p in caught.value.problems] == [
        f"{archive}/2021-06/2021-06-test-street.csv:56:1: the row has 3 fields where the header has 12",
        f"{tmp_path / 'csp-monitor.yaml'}:3:17: 1 malformed row in these police.uk archives: download them again, "
        "or skip such rows with skip_malformed: true"]
    lenient = load_config(_project(tmp_path, "{police_uk: archives/*.zip, skip_malformed: true}"))
    report = send_once(lenient, jobs=("alerts",))
    (note,) = [w for w in report.warnings if "malformed" in w]
    assert note.startswith("police.uk archives: 1 malformed row skipped (skip_malformed is true), the first: "
                           f"{archive}/2021-06/2021-06-test-street.csv:56:1: skipped: the row has 3 fields")


def test_a_figure_both_counted_and_given_in_a_file_is_one_located_problem(tmp_path: Path) -> None:
    """The same figure from the archive and from a figures file is refused once, at the police_uk entry."""
    _archive(tmp_path / "archives")
    (tmp_path / "extra.csv").write_text("area,measure,period,value\nharborough,burglary,2022-03,15\n"
                                        "harborough,burglary,2022-04,15\n", encoding="utf-8")
    path = _project(tmp_path, "extra.csv\n  - {police_uk: archives/*.zip}")
    with pytest.raises(FiguresError) as caught:
        load_sources(load_config(path))
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:4:17: 1 figure counted from these police.uk archives is also given by another figures source "
        "(for example harborough burglary 2022-03): give each figure once, from one source (a drop folder may "
        "revise them)"]


def test_the_real_leicestershire_archive_judges_as_its_imported_file_does(shared: Path, tmp_path: Path) -> None:
    """From the shared archive and the ONS lookup, every result equals the import-then-load route's."""
    archive = shared / "data" / "police-uk" / "leicestershire-street-2019-12_2022-10.zip"
    lookup = shared / "data" / "lookups" / "lad17-csp17-pfa17.csv"
    path = _project(tmp_path, f"{{police_uk: '{archive}', lookup: '{lookup}'}}")
    config = load_config(path)
    rules = load_rules(config.rules)
    loaded = load_sources(config)
    out = tmp_path / "figures.csv"
    import_police_uk(archive, lookup=lookup, out=out)
    from_file = load_figures(out)
    for as_of in ("2022-03", "2020-03"):
        direct, imported = evaluate(rules, loaded.figures, as_of=as_of), evaluate(rules, from_file, as_of=as_of)
        assert [r.model_dump() for r in direct.results] == [r.model_dump() for r in imported.results]
    statuses = {r.measure: r.status for r in evaluate(rules, loaded.figures, as_of="2022-03").results}
    assert len(set(statuses.values())) >= 3  # not vacuous: the judgements differ between measures
    march_2020 = evaluate(rules, loaded.figures, as_of="2020-03").get("harborough", "burglary-policeuk")
    assert march_2020 is not None and "2020-03" in march_2020.suspect_months
