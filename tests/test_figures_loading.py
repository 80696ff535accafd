"""Loading figures: long CSV and JSON, every problem with its line and column."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from csp_monitor import FiguresError, load_figures
from csp_monitor.periods import parse_month

HEADER = "area,measure,period,value\n"


def write(tmp_path: Path, text: str | bytes, name: str = "figures.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str | bytes, name: str = "figures.csv") -> list[str]:
    path = write(tmp_path, text, name)
    with pytest.raises(FiguresError) as info:
        load_figures(path)
    return [str(p).replace(str(tmp_path) + "/", "") for p in info.value.problems]


def test_long_csv_loads_with_bom_crlf_extra_columns_and_any_column_order(tmp_path: Path) -> None:
    """A BOM, CRLF line ends, extra columns and a different column order are all accepted."""
    text = "\ufeffPeriod,Value,Measure,Area,Note\r\n2014-03,253,Domestic Burglary,Harborough,ok\r\n"
    figures = load_figures(write(tmp_path, text))
    assert dict(figures.series("harborough", "domestic-burglary")) == {parse_month("2014-03"): 253.0}


def test_comment_lines_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    """Lines starting with # and blank lines are ignored, and line numbers still count them."""
    text = "# illustrative\n" + HEADER + "\nh,m,2014-03,1\n# note\nh,m,2014-04,x\n"
    assert problems(tmp_path, text) == ["figures.csv:6:13: the value 'x' is not a number"]


def test_empty_value_is_a_missing_month_not_a_zero(tmp_path: Path) -> None:
    """An empty value means no figure for that month."""
    figures = load_figures(write(tmp_path, HEADER + "h,m,2014-03,\nh,m,2014-04,0\n"))
    assert dict(figures.series("h", "m")) == {parse_month("2014-04"): 0.0}


def test_thousands_separators_and_percent_signs(tmp_path: Path) -> None:
    """`"1,159"` and `88%` are read as 1159 and 88."""
    figures = load_figures(write(tmp_path, HEADER + 'h,m,2014-03,"1,159"\nh,s,2014-03,88%\n'))
    assert figures.series("h", "m")[parse_month("2014-03")] == 1159
    assert figures.series("h", "s")[parse_month("2014-03")] == 88


def test_every_bad_row_is_reported_at_once_with_line_and_column(tmp_path: Path) -> None:
    """Duplicates, negatives, non-numbers and malformed periods are all reported, located."""
    text = HEADER + (
        "h,m,2014-03,1\n"
        "h,m,2014-03,2\n"
        "h,m,2014-13,1\n"
        "h,m,March 2014,1\n"
        "h,m,2014-05,-4\n"
        "h,m,2014-06,n/a\n"
        "h,,2014-07,1\n"
        "h,m\n"
    )
    assert problems(tmp_path, text) == [
        "figures.csv:3:5: h m 2014-03 is given twice (first at figures.csv:2): keep one",
        "figures.csv:4:5: period: '2014-13' is not a month: the month must be 01 to 12",
        "figures.csv:5:5: period: 'March 2014' is not a month: write it as YYYY-MM, for example 2014-03",
        "figures.csv:6:13: the value -4 is negative: figures are counts, rates or percentages",
        "figures.csv:7:13: the value 'n/a' is not a number",
        "figures.csv:8:3: the measure is empty",
        "figures.csv:9:1: this row has 2 values but the header has 4 columns",
    ]


def test_wrong_header_names_the_missing_columns(tmp_path: Path) -> None:
    """A header without the required columns says which are missing and spots misspellings."""
    assert problems(tmp_path, "area,measure,month,vaule\nh,m,2014-03,1\n") == [
        "figures.csv:1:1: the header must name the columns area, measure, period and value; "
        "period, value are missing ('vaule' looks like a misspelling of 'value')",
    ]


@pytest.mark.parametrize(("separator", "called"), [(";", "semicolons"), ("\t", "tabs"), ("|", "bars ('|')")])
def test_a_file_separated_by_semicolons_or_tabs_says_how_to_save_it(tmp_path: Path, separator: str,
                                                                    called: str) -> None:
    """Excel set to another list separator saves 'area;measure;period;value': the header is one cell, and the
    message names the separator and how to save a comma-separated file, rather than listing all four columns
    as missing."""
    text = separator.join(["Area", "measure", "period", "value"]) + "\n" + separator.join(["h", "m", "2014-03", "1"])
    assert problems(tmp_path, text + "\n") == [
        f"figures.csv:1:1: the columns are separated by {called}, not commas: save the file as 'CSV UTF-8 "
        "(Comma delimited)' in Excel, or as 'Text CSV' with ',' as the field separator"]


def test_a_one_cell_header_that_is_not_the_columns_still_lists_them_missing(tmp_path: Path) -> None:
    """Only a header made of the four columns split by another character is taken for a separator slip."""
    assert problems(tmp_path, "area;measure;when;value\nh;m;2014-03;1\n") == [
        "figures.csv:1:1: the header must name the columns area, measure, period and value; "
        "area, measure, period, value are missing"]


def test_not_utf8_is_reported(tmp_path: Path) -> None:
    """A file saved in another encoding is refused with advice."""
    found = problems(tmp_path, HEADER.encode() + "Harborough,caf\xe9,2014-03,1\n".encode("latin-1"))
    assert found and "not UTF-8" in found[0]


def test_unsupported_extension_points_to_the_importer(tmp_path: Path) -> None:
    """A spreadsheet given as figures is refused with the command that imports it."""
    assert "csp-monitor import spreadsheet" in problems(tmp_path, b"PK", "figures.xlsx")[0]


def test_missing_file(tmp_path: Path) -> None:
    """A missing file is an input error, not an OSError."""
    with pytest.raises(FiguresError, match="no such file"):
        load_figures(tmp_path / "nope.csv")


def test_json_list_and_runs(tmp_path: Path) -> None:
    """JSON accepts single months and runs of months with from/values (null = missing)."""
    data = [
        {"area": "h", "measure": "m", "period": "2014-03", "value": 3},
        {"area": "h", "measure": "n", "from": "2013-11", "values": [1, None, 3]},
    ]
    figures = load_figures(write(tmp_path, json.dumps(data), "figures.json"))
    assert dict(figures.series("h", "n")) == {parse_month("2013-11"): 1.0, parse_month("2014-01"): 3.0}
    assert len(figures) == 3


def test_json_object_with_figures_key(tmp_path: Path) -> None:
    """A JSON object with one key "figures" is accepted."""
    data = {"figures": [{"area": "h", "measure": "m", "period": "2014-03", "value": 3}]}
    assert len(load_figures(write(tmp_path, json.dumps(data), "figures.json"))) == 1


def test_json_problems_are_located(tmp_path: Path) -> None:
    """JSON entries with mistakes are reported with line and column."""
    text = '[\n  {"area": "h", "measure": "m", "period": "2014-03", "value": -1},\n' \
           '  {"area": "h", "measure": "m", "perod": "2014-04", "value": 1}\n]\n'
    found = problems(tmp_path, text, "figures.json")
    assert found[0].startswith("figures.json:2:")
    assert "the value -1 is negative" in found[0]
    assert any(f.startswith("figures.json:3:") and "unknown key 'perod' (did you mean 'period'?)" in f for f in found)


def test_json_syntax_error_is_located(tmp_path: Path) -> None:
    """Broken JSON is reported at the place the parser stopped."""
    assert problems(tmp_path, '[{"area": "h",,}]', "figures.json") == [
        "figures.json:1:15: this is not valid JSON: Expecting property name enclosed in double quotes",
    ]


def test_duplicates_across_files_are_reported(tmp_path: Path) -> None:
    """The same figure in two files is an error naming both."""
    a = write(tmp_path, HEADER + "h,m,2014-03,1\n", "a.csv")
    b = write(tmp_path, HEADER + "h,m,2014-03,1\n", "b.csv")
    with pytest.raises(FiguresError, match="given twice"):
        load_figures([a, b])


def test_flag_and_reason_columns_mark_suspect_figures(tmp_path: Path) -> None:
    """A `flag` of suspect with a `reason` marks the figure suspect with that evidence."""
    text = "area,measure,period,value,flag,reason\nh,m,2020-03,4,suspect,4 against a usual 324-384\nh,m,2020-04,300,,\n"
    figures = load_figures(write(tmp_path, text))
    assert figures.suspect("h", "m", parse_month("2020-03")) == "4 against a usual 324-384"
    assert figures.suspect("h", "m", parse_month("2020-04")) is None
