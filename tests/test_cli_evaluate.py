"""The evaluate command's contract: exit codes, streams, and no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES, ROOT


def test_bad_as_of_is_a_usage_error(cli) -> None:  # type: ignore[no-untyped-def]
    """A malformed --as-of month exits 2 with a plain message."""
    out = cli("evaluate", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--as-of", "March 2014")
    assert out.exit_code == 2
    assert "'March 2014' is not a month: write it as YYYY-MM" in out.stderr


def test_unknown_option_is_a_usage_error(cli) -> None:  # type: ignore[no-untyped-def]
    """An unknown option exits 2."""
    assert cli("evaluate", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--colour").exit_code == 2


def test_problems_in_rules_and_figures_are_reported_together(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A bad rule file and a bad figures file are both reported in one run, exit 1."""
    rules = tmp_path / "rules.yaml"
    rules.write_text("partnership: X\npriorities: [{id: p, title: P, measures: [{id: m, name: M, better: down}]}]\n")
    figures = tmp_path / "figures.csv"
    figures.write_text("area,measure,period,value\nh,m,2014-03,lots\n")
    out = cli("evaluate", rules, "--figures", figures)
    assert out.exit_code == 1
    assert f"{rules}:2:" in out.stderr and "'down' is not allowed for 'better'" in out.stderr
    assert f"{figures}:2:13: the value 'lots' is not a number" in out.stderr
    assert out.stderr.strip().endswith("2 problems found.")
    assert out.stdout == ""


def test_warnings_go_to_stderr_and_json_stays_clean(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Warnings about ignored figures never corrupt the JSON on stdout."""
    import json

    figures = tmp_path / "figures.csv"
    figures.write_text(HARBOROUGH_FIGURES.read_text() + "harborough,hate-crime,2014-03,4\n")
    out = cli("evaluate", HARBOROUGH_RULES, "--figures", figures, "--format", "json")
    assert out.exit_code == 0
    assert json.loads(out.stdout)["as_of"] == "2014-03"
    assert "warning: figures for the measure 'hate-crime' are ignored" in out.stderr


def test_hostile_names_are_harmless_in_table_and_csv(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Control characters in names are refused at load, never printed; formulas never reach a spreadsheet."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        'partnership: "X\\e[2J"\npriorities:\n  - id: p\n    title: "=HYPERLINK(\\"http://x\\")"\n'
        '    measures: [{id: m, name: "<script>\\e[31m", better: lower}]\n')
    figures = tmp_path / "figures.csv"
    figures.write_text("area,measure,period,value\nh,m,2014-03,1\n")
    refused = cli("evaluate", rules, "--figures", figures)
    assert refused.exit_code == 1
    assert "\x1b" not in refused.stdout + refused.stderr
    assert f"{rules}:1:14: this text contains a control or direction character (U+001B)" in refused.stderr
    rules.write_text(rules.read_text().replace("\\e[2J", "").replace("\\e[31m", ""))
    table = cli("evaluate", rules, "--figures", figures)
    assert table.exit_code == 0, table.stderr
    assert "<script>" in table.stdout
    csv_out = cli("evaluate", rules, "--figures", figures, "--format", "csv")
    assert "\"'=HYPERLINK" in csv_out.stdout
    assert "(figures for 2013-04 to 2014-02 are missing)" in csv_out.stdout


def test_console_script_runs_end_to_end() -> None:
    """The installed console script evaluates the example and exits 0."""
    script = Path(sys.executable).with_name("csp-monitor")
    out = subprocess.run([str(script), "evaluate", str(HARBOROUGH_RULES), "--figures", str(HARBOROUGH_FIGURES)],
                         capture_output=True, text=True, cwd=ROOT, check=False)
    assert out.returncode == 0, out.stderr
    assert "Domestic Burglary" in out.stdout


def test_internal_errors_are_reported_without_traceback() -> None:
    """An unexpected exception becomes one plain line and exit 70, unless debugging is asked for."""
    code = ("import csp_monitor.cli as c, csp_monitor.cli.evaluate_cmd as e\n"
            "def boom(*a, **k): raise RuntimeError('boom')\n"
            "e.load_inputs = boom\n"
            "raise SystemExit(c.run(['evaluate', 'r.yaml', '--figures', 'f.csv']))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 70
    assert "internal error: RuntimeError: boom" in out.stderr
    assert "Traceback" not in out.stderr


def test_table_warnings_are_printed_once(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Regression: the table's warnings appear once, on stderr, not again inside the table."""
    figures = tmp_path / "figures.csv"
    figures.write_text(HARBOROUGH_FIGURES.read_text() + "harborough,hate-crime,2014-03,4\n")
    out = cli("evaluate", HARBOROUGH_RULES, "--figures", figures)
    assert out.exit_code == 0
    assert "hate-crime" not in out.stdout
    assert out.stderr.count("hate-crime") == 1


def test_xlsx_needs_an_output_file(cli) -> None:  # type: ignore[no-untyped-def]
    """`--format xlsx` without --out is a usage error: a workbook cannot go to the terminal."""
    out = cli("evaluate", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--format", "xlsx")
    assert out.exit_code == 2
    assert "--out FILE.xlsx" in out.stderr


def test_xlsx_workbook_has_one_row_per_measure_with_rag_fills(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """The evaluation is written as a workbook whose status cells are filled red, amber or green."""
    from openpyxl import load_workbook

    target = tmp_path / "figure3.xlsx"
    out = cli("evaluate", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--format", "xlsx", "--out", target)
    assert out.exit_code == 0, out.stderr
    sheet = load_workbook(target).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    flat = [str(v) for row in values for v in row if v is not None]
    assert "Domestic Burglary" in flat
    fills = {str(cell.value).lower(): cell.fill.fgColor.rgb for row in sheet.iter_rows() for cell in row
             if str(cell.value).lower() in {"red", "green"}}
    assert fills["red"] != fills["green"]


def test_out_writes_the_table_to_a_file(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """`--out` writes JSON to a file and says where; stdout carries only that line."""
    import json

    target = tmp_path / "results.json"
    out = cli("evaluate", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--format", "json", "--out", target)
    assert out.exit_code == 0
    assert out.stdout.strip() == f"wrote {target}"
    assert json.loads(target.read_text())["as_of"] == "2014-03"


def test_json_in_a_file_is_what_stdout_prints(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """The JSON written with --out is byte for byte the JSON printed without it, newline included."""
    target = tmp_path / "results.json"
    for include in ((), ("--include", "series")):
        printed = cli("evaluate", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--format", "json", *include)
        written = cli("evaluate", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--format", "json", *include,
                      "--out", target)
        assert printed.exit_code == written.exit_code == 0
        assert target.read_bytes() == printed.stdout.encode() and printed.stdout.endswith("}\n")


def test_import_is_a_registered_command(cli) -> None:  # type: ignore[no-untyped-def]
    """`csp-monitor import` lists the police.uk and spreadsheet importers."""
    out = cli("import", "--help")
    assert out.exit_code == 0
    assert "police-uk" in out.stdout and "spreadsheet" in out.stdout


def test_json_leaves_chart_series_out_unless_asked(cli) -> None:  # type: ignore[no-untyped-def]
    """JSON carries each SPC chart's limits and verdict; its monthly series only with --include series."""
    import json

    plain = cli("evaluate", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--as-of", "2014-03", "--format", "json")
    full = cli("evaluate", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--as-of", "2014-03", "--format", "json",
               "--include", "series")
    assert plain.exit_code == full.exit_code == 0
    plain_spc = json.loads(plain.stdout)["results"][0]["spc"]
    full_spc = json.loads(full.stdout)["results"][0]["spc"]
    series = {"periods", "values", "rules", "variations", "special_causes"}
    assert series <= set(full_spc) and not series & set(plain_spc)
    assert {k: v for k, v in full_spc.items() if k not in series} == plain_spc
    assert len(full_spc["values"]) == len(full_spc["periods"]) == 24
    assert len(plain.stdout) < len(full.stdout) / 2


def test_include_series_needs_json(cli) -> None:  # type: ignore[no-untyped-def]
    """--include series with the table is a usage error (exit 2), not silently ignored."""
    out = cli("evaluate", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--include", "series")
    assert out.exit_code == 2 and "--include series goes with --format json" in out.stderr
