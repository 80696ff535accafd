"""Fresh variants of the six hostile-input families, each run through the real CLI within 300 MB and 10 seconds."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES, CliResult
from tests.security.hostile_files import far_cell_workbook, rewritten_workbook, write_config
from tests.security.limits import files_under, run_limited

RULE_FILE = HARBOROUGH_RULES.read_text(encoding="utf-8")
FIVE_THOUSAND_DIGITS = "1" + "0" * 5000
_SHARED_STRINGS_TYPE = (b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
_SHARED_STRINGS_LINK = (b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                        b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')


def _import(table: Path) -> tuple[str, int]:
    """``import spreadsheet`` of ``table`` under the limits: its stderr and exit code; nothing may be written."""
    before = files_under(table.parent)
    result = run_limited("import", "spreadsheet", table, "--area", "harborough", "--out", "figures.csv",
                         cwd=table.parent)
    if result.exit_code != 0:
        assert files_under(table.parent) == before
    return result.stderr, result.exit_code


def _refused_import(table: Path, message: str) -> None:
    before = files_under(table.parent)
    result = run_limited("import", "spreadsheet", table, "--area", "harborough", "--out", "figures.csv",
                         cwd=table.parent)
    result.assert_refused(message)
    assert files_under(table.parent) == before


def _with_shared_strings(path: Path, strings: bytes) -> Path:
    return rewritten_workbook(far_cell_workbook(path, ""), {
        "xl/sharedStrings.xml": lambda _: (b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/'
                                           b'spreadsheetml/2006/main">' + strings + b"</sst>"),
        "[Content_Types].xml": lambda types: types.replace(b"</Types>", _SHARED_STRINGS_TYPE),
        "xl/_rels/workbook.xml.rels": lambda rels: rels.replace(b"</Relationships>", _SHARED_STRINGS_LINK)})


def test_a_workbook_of_three_million_shared_strings_is_refused_unread(tmp_path: Path) -> None:
    """A 130 KB workbook whose shared-strings table holds 3,000,000 texts (openpyxl took 19 s and 340 MB)."""
    workbook = _with_shared_strings(tmp_path / "texts.xlsx", b"<si><t>x</t></si>" * 3_000_000)
    assert workbook.stat().st_size < 500_000
    _refused_import(workbook, r"^texts\.xlsx: this workbook holds more than 300,000 different texts")


def test_a_workbook_with_many_long_shared_strings_within_the_limits_imports(tmp_path: Path) -> None:
    """A thousand 65,000-character texts (62 MiB) are within the limits: the figures import."""
    workbook = _with_shared_strings(tmp_path / "long.xlsx", (b"<si><t>" + b"y" * 65_000 + b"</t></si>") * 1000)
    stderr, code = _import(workbook)
    assert code == 0, stderr
    assert (tmp_path / "figures.csv").read_text(encoding="utf-8").splitlines()[1:] == [
        "harborough,burglary,2013-04,1,,", "harborough,burglary,2013-05,2,,"]


def test_a_workbook_with_a_sixty_megabyte_style_sheet_is_refused_unread(tmp_path: Path) -> None:
    """A million cell styles (parsed whole by openpyxl: a MemoryError and a traceback) are refused by size."""
    style = b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    workbook = rewritten_workbook(far_cell_workbook(tmp_path / "styles.xlsx", ""), {
        "xl/styles.xml": lambda styles: re.sub(rb'<cellXfs count="\d+">', lambda _: b'<cellXfs count="1">' +
                                               style * 1_000_000, styles)})
    _refused_import(workbook, r"^styles\.xlsx: this workbook's part xl/styles\.xml inflates to 59\.\d MiB, more "
                              r"than any partnership's workbook \(8 MiB\)")


@pytest.mark.parametrize(("value", "message"), [
    (FIVE_THOUSAND_DIGITS, r"^digits\.xlsx:Sheet!2:2: a cell on this row is marked as a number but cannot be read "
                           r"as one \(such as NaN, or thousands of digits\)"),
    ("NaN", r"^digits\.xlsx:Sheet!2:2: a cell on this row is marked as a number but cannot be read as one"),
    ("1" + "0" * 400, r"^digits\.xlsx:Sheet!C2: the value is too large: figures must be at most 1,000,000,000,000"),
    ("1e300", r"^digits\.xlsx:Sheet!C2: the value 1e\+300 is too large: figures must be at most 1,000,000,000,000"),
])
def test_a_workbook_number_beyond_any_figure_is_refused_at_its_cell(tmp_path: Path, value: str, message: str) -> None:
    """A cell of 5,000 digits, NaN or 400 digits (exit 70 before) or 1e300 (imported before) is refused there."""
    workbook = rewritten_workbook(far_cell_workbook(tmp_path / "digits.xlsx", ""), {
        "xl/worksheets/sheet1.xml": lambda sheet: sheet.replace(b"<v>2</v>", f"<v>{value}</v>".encode())})
    _refused_import(workbook, message)


def test_a_spreadsheet_csv_value_beyond_any_figure_is_refused_at_its_cell(tmp_path: Path) -> None:
    """1e300 and 5,000 digits in a spreadsheet CSV are refused at their cells, not written to the figures."""
    table = tmp_path / "big.csv"
    table.write_text(f"Measure,Apr-13,May-13\nBurglary,1,1e300\nTheft,1,{FIVE_THOUSAND_DIGITS}\n", encoding="utf-8")
    _refused_import(table, r"^big\.csv:2:12: the value is too large: figures must be at most 1,000,000,000,000\n"
                           r"big\.csv:3:9: the value is too large")


def test_a_ten_megabyte_line_in_a_spreadsheet_csv_is_refused_at_its_line(tmp_path: Path) -> None:
    """A single 10 MB value on line 3 is refused at 3:1 (before: no line at all)."""
    table = tmp_path / "long.csv"
    table.write_bytes(b"Measure,Apr-13,May-13\nBurglary,1,2\n" + b"y" * 10_000_000 + b"\n")
    _refused_import(table, r"^long\.csv:3:1: a value here is longer than 131,072 characters")


def test_a_utf16_spreadsheet_csv_is_refused_as_utf16(tmp_path: Path) -> None:
    """Excel's 'Unicode Text' (UTF-16) is named as such, not reported as a sheet with no header."""
    table = tmp_path / "unicode.csv"
    table.write_bytes("Measure,Apr-13,May-13\nBurglary,1,2\n".encode("utf-16"))
    _refused_import(table, r"^unicode\.csv:1:1: this file is UTF-16 text \(Excel's 'Unicode Text'\): save the "
                           r"sheet as 'CSV UTF-8'")


def test_a_nul_byte_in_a_spreadsheet_cell_is_spelled_out(tmp_path: Path) -> None:
    """A cell '1<NUL>' is reported as '1\\x00', not as '1' (which would read as a number)."""
    table = tmp_path / "nul.csv"
    table.write_bytes(b"Measure,Apr-13,May-13\nBurglary,1\x00,2\n")
    _refused_import(table, r"^nul\.csv:2:10: '1\\x00' is not a number")


def _figures_with(folder: Path, value: str, suffix: str = ".csv") -> Path:
    if suffix == ".json":
        path = folder / "figures.json"
        path.write_text('[{"area": "harborough", "measure": "domestic-burglary", "period": "2014-01", '
                        f'"value": {value}}}]', encoding="utf-8")
        return path
    path = folder / "figures.csv"
    path.write_text(f"area,measure,period,value\nharborough,domestic-burglary,2013-05,{value}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("suffix", "value", "message"), [
    (".json", FIVE_THOUSAND_DIGITS, r"^figures\.json:1:2: the value 10000000000000000000\.\.\. \(5,001 characters\) "
                                    r"is too large: figures must be at most 1,000,000,000,000$"),
    (".json", "-" + FIVE_THOUSAND_DIGITS, r"^figures\.json:1:2: the value -1000000000000000000\.\.\. \(5,002 "
                                          r"characters\) is negative"),
    (".csv", FIVE_THOUSAND_DIGITS, r"^figures\.csv:2:38: the value 10000000000000000000\.\.\. \(5,001 characters\) "
                                   r"is too large"),
    (".csv", "1\x002", r"^figures\.csv:2:38: the value '1\\x002' is not a number$"),
    (".json", "NaN", r"^figures\.json:1:2: the value 'NaN' is not a number$"),
    (".json", "-Infinity", r"^figures\.json:1:2: the value '-Infinity' is not a number$"),
])
def test_a_hostile_number_in_figures_is_refused_shortly_at_its_place(tmp_path: Path, suffix: str, value: str,
                                                                      message: str) -> None:
    """5,000 digits in JSON (exit 70: Python's int-str limit) or CSV, NUL, NaN: one short located line, exit 1."""
    figures = _figures_with(tmp_path, value, suffix)
    result = run_limited("evaluate", HARBOROUGH_RULES, "--figures", figures, cwd=tmp_path)
    result.assert_refused(message)
    assert len(result.stderr) < 400


@pytest.mark.parametrize(("name", "text"), [
    ("figures.csv", "area,measure,period,value\nh,m,2014-01,-0\nh,m,2014-02,-0.0\n"),
    ("rows.csv", "area,measure,period,value\nh,m,2014-01,-0\nh,m,2014-02,-0.0\nh,m,2014-03,\n"),
    ("run.json", '[{"area": "h", "measure": "m", "from": "2014-01", "values": [-0.0, -0]}]'),
    ("single.json", '[{"area": "h", "measure": "m", "period": "2014-01", "value": -0.0}, '
                    '{"area": "h", "measure": "m", "period": "2014-02", "value": "-0"}]'),
])
def test_negative_zero_is_read_as_nought(tmp_path: Path, name: str, text: str) -> None:
    """-0 and -0.0, in CSV (both readers) and JSON, are nought with a positive sign: never printed as '-0'."""
    import math

    from csp_monitor.load.figures import load_figures

    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    values = list(load_figures(path).series("h", "m").values())
    assert values == [0.0, 0.0]
    assert all(math.copysign(1.0, value) == 1.0 for value in values)


@pytest.mark.parametrize(("old", "new"), [
    ("tolerance: 5 ", f"tolerance: {FIVE_THOUSAND_DIGITS} "),
    ("target: {change: -13%}", f"target: {{change: -{FIVE_THOUSAND_DIGITS}%}}"),
    ("target: {at_least: 85}", "target: {at_least: 1" + "0" * 400 + "}"),
])
def test_a_number_of_thousands_of_digits_in_rules_is_refused_as_out_of_range(tmp_path: Path, old: str,
                                                                                new: str) -> None:
    """A target or tolerance of 400 or 5,000 digits is outside the range, said in one short line."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULE_FILE.replace(old, new, 1), encoding="utf-8")
    for command in ("check", "explain"):
        result = run_limited("rules", command, rules, cwd=tmp_path)
        result.assert_refused(r"^rules\.yaml:\d+:\d+: a number of hundreds of digits is outside the range accepted")
        assert len(result.stderr) < 400


@pytest.mark.parametrize("value", [".nan", "NaN", ".inf", "-.inf"])
def test_nan_and_infinity_in_rules_are_refused(tmp_path: Path, value: str) -> None:
    """YAML's .nan and .inf (and NaN) are not targets."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULE_FILE.replace("target: {at_least: 85}", f"target: {{at_least: {value}}}", 1),
                     encoding="utf-8")
    result = run_limited("rules", "check", rules, cwd=tmp_path)
    result.assert_refused(rf"^rules\.yaml:\d+:\d+: 'at_least' must be a number such as 85 or -13%, not "
                          rf"'{re.escape(value)}'")


ANCHORED_ALERTS = """\
recipients:
  board: &board [csp-board@example.org]
alerts:
  - &base
    id: off-target
    when: {status: [red]}
    notify: *board
  - <<: *base
    id: other
"""


def test_anchors_aliases_and_merge_keys_are_each_refused_once_without_false_slips(tmp_path: Path) -> None:
    """Each anchor, alias and merge key is named at its place; nothing else (no invented indentation slips)."""
    alerts = tmp_path / "alerts.yaml"
    alerts.write_text(ANCHORED_ALERTS, encoding="utf-8")
    result = run_limited("rules", "check", HARBOROUGH_RULES, alerts, cwd=tmp_path)
    result.assert_refused(r"^alerts\.yaml:2:10: YAML anchors")
    located = [line.split(": ", 1)[0] for line in result.stderr.splitlines() if line.startswith("alerts.yaml:")]
    assert located == ["alerts.yaml:2:10", "alerts.yaml:4:5", "alerts.yaml:7:13", "alerts.yaml:8:5",
                       "alerts.yaml:8:9"], result.stderr
    assert "indentation" not in result.stderr and "given twice" not in result.stderr


def test_anchors_in_a_configuration_are_refused_without_false_slips(tmp_path: Path) -> None:
    """A configuration reusing its delivery block by anchor is refused at the anchor and the alias only."""
    config = write_config(tmp_path, "summary: {to: [board]}\nextra: *delivery\n",
                          delivery='  folder: outbox/\n  timeout: 30\n')
    text = config.read_text(encoding="utf-8").replace("delivery:\n", "delivery: &delivery\n", 1)
    config.write_text(text, encoding="utf-8")
    before = files_under(tmp_path)
    result = run_limited("send", "--config", config, cwd=tmp_path)
    result.assert_refused(r"^csp-monitor\.yaml:4:11: YAML anchors")
    assert "indentation" not in result.stderr, result.stderr
    assert [line.split(": ", 1)[0] for line in result.stderr.splitlines() if line.startswith("csp-monitor")] == [
        "csp-monitor.yaml:4:11", "csp-monitor.yaml:9:8"]
    assert files_under(tmp_path) == before


@pytest.mark.parametrize("hidden", ["\\u202e", "\\e]2;owned\\a", "\\x9b", "\\u2028", "\\x85", "\\u2066", "\\ufeff"])
def test_control_and_direction_characters_in_names_are_refused_at_load(tmp_path: Path, hidden: str) -> None:
    """A partnership or measure name holding a bidi override, a terminal escape or a line separator (which reached
    the email body and the terminal as they were) is refused at its line."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULE_FILE.replace("name: Total Crime\n", f'name: "Total{hidden} Crime"\n', 1),
                     encoding="utf-8")
    line = next(i for i, text in enumerate(rules.read_text(encoding="utf-8").splitlines(), 1) if "Total" in text
                and "name:" in text)
    result = run_limited("rules", "check", rules, cwd=tmp_path)
    result.assert_refused(rf"^rules\.yaml:{line}:15: this text contains a control or direction character "
                          r"\(U\+[0-9A-F]{4}\)")


def test_a_hostile_partnership_name_sends_nothing(tmp_path: Path) -> None:
    """send with a partnership name holding U+202E and an escape writes no message and exits 1."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(re.sub(r"^partnership: .*$", lambda _: 'partnership: "Harb\\u202eorough\\e]2;x\\a"', RULE_FILE,
                            count=1, flags=re.MULTILINE), encoding="utf-8")
    config = write_config(tmp_path, "summary: {to: [board]}\n")
    config.write_text(config.read_text(encoding="utf-8").replace(str(HARBOROUGH_RULES), str(rules)),
                      encoding="utf-8")
    result = run_limited("send", "--config", config, "--as-of", "2014-03", cwd=tmp_path)
    result.assert_refused(r"rules\.yaml:\d+:14: this text contains a control or direction character \(U\+202E\)")
    assert not (tmp_path / "outbox").exists()


@pytest.mark.parametrize(("body", "message"), [
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "access to attribute '__class__' of 'str' object is unsafe"),
    ("{{ cycler.__init__.__globals__ }}", "access to attribute '__init__' of 'type' object is unsafe"),
    ("{{ summary.__class__.__init__.__globals__ }}", "is unsafe"),
    ("{% include '../secret.txt' %}", "template not found: ../secret.txt"),
    ("{% include '/etc/passwd' %}", "template not found: /etc/passwd"),
    ("{% import '../secret.txt' as s %}", "template not found: ../secret.txt"),
])
def test_a_template_reaching_for_python_or_files_outside_is_stopped(tmp_path: Path, body: str, message: str) -> None:
    """Attribute access to Python internals and includes outside the folder stop report, exit 1, nothing written."""
    (tmp_path / "secret.txt").write_text("the SMTP password is hunter2\n", encoding="utf-8")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "report.html.j2").write_text(body + "\n", encoding="utf-8")
    result = run_limited("report", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--no-charts",
                         "--templates", templates, "--out", "report.html", cwd=tmp_path)
    result.assert_refused(r"templates/report\.html\.j2:1: .*" + re.escape(message))
    assert "hunter2" not in result.stdout + result.stderr and "root:" not in result.stdout + result.stderr
    assert not (tmp_path / "report.html").exists()


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom"])
def test_a_figures_folder_holding_a_link_to_a_device_skips_it(tmp_path: Path, target: str) -> None:
    """A figures pattern matching a link to a device reads the real files (the summary is written), never the
    device."""
    from tests.delivery_fixtures import write_config as write_delivery_config

    config = write_delivery_config(tmp_path, "delivery:\n  from: \"Monitor <monitor@example.org>\"\n"
                                             "  folder: outbox/\n")
    (tmp_path / "figures" / "zero.csv").symlink_to(target)
    result = run_limited("send", "--config", config, "--as-of", "2014-03", "--only", "summary",
                         "--dry-run", "preview", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "would send summary 'Harborough District Community Safety Partnership risk summary, March 2014: 4 red" \
        in result.stdout
    assert "zero.csv" not in result.stdout + result.stderr


def test_a_figures_file_named_as_a_link_to_a_device_is_refused(tmp_path: Path) -> None:
    """evaluate --figures naming a link to /dev/zero is refused at once as a device."""
    (tmp_path / "zero.csv").symlink_to("/dev/zero")
    result = run_limited("evaluate", HARBOROUGH_RULES, "--figures", "zero.csv", cwd=tmp_path)
    result.assert_refused(r"^zero\.csv: .*this is a device, not a file")


def test_a_proc_file_as_figures_is_refused_plainly(tmp_path: Path) -> None:
    """A link to /proc/self/status (a 'file' of size 0 that is not one) is refused as not a figures file."""
    (tmp_path / "proc.csv").symlink_to("/proc/self/status")
    result = run_limited("evaluate", HARBOROUGH_RULES, "--figures", "proc.csv", cwd=tmp_path)
    result.assert_refused(r"^proc\.csv:1:1: the header must name the columns area, measure, period and value")


def test_a_state_store_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    """state: naming a folder is refused at its key (send) or with exit 3 (alerts --state), nothing created."""
    (tmp_path / "state.db").mkdir()
    config = write_config(tmp_path)
    before = files_under(tmp_path)
    sent = run_limited("send", "--config", config, cwd=tmp_path)
    sent.assert_refused(r"^csp-monitor\.yaml:3:8: .*state\.db is a folder: name a file such as csp-monitor\.db")
    listed = run_limited("alerts", "--state", "state.db", cwd=tmp_path)
    listed.assert_refused(r"state\.db is a folder")
    assert listed.exit_code == 3
    assert files_under(tmp_path) == before


def test_a_json_figures_key_of_thousands_of_digits_is_placed(tmp_path: Path) -> None:
    """A huge integer where text is expected (an area) is refused at its place, not an internal error."""
    figures = tmp_path / "figures.json"
    figures.write_text(json.dumps([{"area": "harborough", "measure": "domestic-burglary", "period": "2014-01",
                                    "value": 1}])[:-2] + f', "note": {FIVE_THOUSAND_DIGITS}}}]', encoding="utf-8")
    result = run_limited("evaluate", HARBOROUGH_RULES, "--figures", figures, cwd=tmp_path)
    result.assert_refused(r"^figures\.json:1:\d+: ")


@pytest.mark.parametrize(("part", "rewrite", "message"), [
    ("xl/worksheets/sheet1.xml", lambda sheet: sheet.replace(b"</row></sheetData>", b"</rowx></sheetData>"),
     r"^damaged\.xlsx:Sheet!2:2: this sheet cannot be read past here: the workbook is damaged \(mismatched tag"),
    ("xl/styles.xml", lambda styles: styles[:-20], r"^damaged\.xlsx: not a readable \.xlsx workbook \(unclosed token"),
    ("xl/sharedStrings.xml", lambda _: b"<sst><si><t>x</t></s>", r"^damaged\.xlsx: not a readable \.xlsx workbook"),
    ("xl/workbook.xml", lambda _: b"<workbook", r"^damaged\.xlsx: not a readable \.xlsx workbook"),
], ids=["sheet", "styles", "shared strings", "workbook"])
def test_a_workbook_with_broken_xml_is_refused_as_damaged(tmp_path: Path, part: str, rewrite: object,
                                                           message: str) -> None:
    """Broken XML in any part is a damaged workbook, exit 1 (ElementTree's ParseError was an internal error)."""
    workbook = far_cell_workbook(tmp_path / "damaged.xlsx", "")
    if part == "xl/sharedStrings.xml":
        _with_shared_strings(workbook, b"")
    rewritten_workbook(workbook, {part: rewrite})  # type: ignore[dict-item]
    _refused_import(workbook, message)


def test_a_workbook_without_its_sheet_is_refused_as_damaged(tmp_path: Path) -> None:
    """A workbook whose only sheet part is missing is refused plainly (an IndexError before)."""
    import zipfile

    workbook = far_cell_workbook(tmp_path / "empty.xlsx", "")
    with zipfile.ZipFile(workbook) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()
                   if info.filename != "xl/worksheets/sheet1.xml"}
    with zipfile.ZipFile(workbook, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    _refused_import(workbook, r"^empty\.xlsx: (this workbook has no sheet that can be read|not a readable \.xlsx)")


def _many_figures(path: Path, areas: int) -> Path:
    """Figures for ``areas`` areas x 40 measures x 24 months: about 19 MB of CSV (or 16 MB of JSON) per 1,000."""
    months = [f"{2012 + m // 12}-{m % 12 + 1:02d}" for m in range(24)]
    with path.open("w", encoding="utf-8") as handle:
        if path.suffix == ".csv":
            handle.write("area,measure,period,value\n")
            for area in range(areas):
                handle.write("".join(f"a{area},m{m},{month},{i}\n" for m in range(40) for i, month in
                                     enumerate(months)))
        else:
            handle.write("[")
            for area in range(areas):
                handle.write(("," if area else "") + ",".join(
                    f'{{"area": "a{area}", "measure": "m{m}", "period": "{month}", "value": {i}}}'
                    for m in range(40) for i, month in enumerate(months)))
            handle.write("]")
    return path


@pytest.mark.parametrize("name", ["national.csv", "national.json"])
def test_figures_too_large_for_the_memory_allowed_are_refused_plainly(tmp_path: Path, name: str) -> None:
    """70 MB of figures in a process held to 300 MB: a plain refusal at the file, exit 1 (a MemoryError and exit 70
    before)."""
    figures = _many_figures(tmp_path / name, 3_600 if name.endswith(".csv") else 4_000)
    assert figures.stat().st_size > 60 * 2**20
    result = run_limited("evaluate", HARBOROUGH_RULES, "--figures", figures, cwd=tmp_path)
    result.assert_refused(rf"^{re.escape(name)}: there is not enough memory to read these \d+ MB of figures: split "
                          r"the file by year, or let csp-monitor use more memory$")


def test_running_out_of_memory_anywhere_is_a_plain_refusal_not_a_bug(
        monkeypatch: pytest.MonkeyPatch, cli: Callable[..., CliResult]) -> None:
    """A MemoryError past the loaders (the process limit met while evaluating) exits 1 with a plain message."""
    import csp_monitor.evaluation.engine

    def out_of_memory(*args: object, **kwargs: object) -> object:
        raise MemoryError  # what a process held by ulimit or a container meets; not reproducible in-process

    monkeypatch.setattr(csp_monitor.evaluation.engine, "evaluate", out_of_memory)
    result = cli("evaluate", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: csp-monitor ran out of memory: the input is larger than this process "
                                    "may hold")
    assert "internal error" not in result.stderr


SECRET_JSON = '{"partnership": "the SMTP password is hunter2"}\n'


@pytest.mark.parametrize("message", [
    "{{ result['parse_file'](SECRET) }}", "{{ (result|attr('parse_file'))(SECRET) }}",
    "{% set f = 'parse_' ~ 'file' %}{{ result[f](SECRET) }}", "{{ result['model_dump']() }}",
    "{{ result['model_construct'](summary=SECRET) }}",
])
def test_a_message_reaching_for_pydantic_methods_is_refused_and_reads_no_file(tmp_path: Path, message: str) -> None:
    """`result['parse_file']('/path')` read any file on the server into the warning (the check let it through);
    rules check and send now refuse it at the message, exit 1, and the secret never appears or leaves."""
    secret = tmp_path / "secret.json"
    secret.write_text(SECRET_JSON, encoding="utf-8")
    alerts = tmp_path / "alerts.yaml"
    quoted = message.replace("SECRET", repr(str(secret))).replace('"', '\\"')
    alerts.write_text("recipients:\n  board: [csp-board@example.org]\nalerts:\n  - id: off-target\n"
                      f'    when: {{status: [red]}}\n    notify: [board]\n    message: "{quoted}"\n', encoding="utf-8")
    checked = run_limited("rules", "check", HARBOROUGH_RULES, alerts, cwd=tmp_path)
    checked.assert_refused(r"^alerts\.yaml:7:14: the message template tries something not allowed: access to "
                           r"attribute '(parse_file|model_dump|model_construct)' of 'MeasureResult' object is unsafe")
    config = write_config(tmp_path)
    config.write_text(config.read_text(encoding="utf-8").replace(f"rules: [{HARBOROUGH_RULES}]",
                                                                 f"rules: [{HARBOROUGH_RULES}, alerts.yaml]"),
                      encoding="utf-8")
    sent = run_limited("send", "--config", config, "--as-of", "2014-03", "--now", "2014-04-10T07:00", cwd=tmp_path)
    sent.assert_refused(r"alerts\.yaml:7:14: the message template tries something not allowed")
    assert "hunter2" not in checked.stdout + checked.stderr + sent.stdout + sent.stderr
    assert not (tmp_path / "outbox").exists()


@pytest.mark.parametrize("body", ["{{ summary.parse_file(SECRET) }}", "{{ summary['parse_raw']('{}') }}",
                                  "{{ summary.model_dump() }}", "{{ (summary|attr('model_validate_json'))('{}') }}"])
def test_a_report_template_reaching_for_pydantic_methods_is_stopped(tmp_path: Path, body: str) -> None:
    """An override template calling the summary's pydantic methods (parse_file reads any file) is stopped, exit 1."""
    secret = tmp_path / "secret.json"
    secret.write_text(SECRET_JSON, encoding="utf-8")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "report.html.j2").write_text(body.replace("SECRET", repr(str(secret))) + "\n", encoding="utf-8")
    result = run_limited("report", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--no-charts",
                         "--templates", templates, "--out", "report.html", cwd=tmp_path)
    result.assert_refused(r"templates/report\.html\.j2:1: the template tried something unsafe and was stopped: "
                          r"access to attribute '(parse_file|parse_raw|model_dump|model_validate_json)' of "
                          r"'RiskSummary' object is unsafe")
    assert "hunter2" not in result.stdout + result.stderr
    assert not (tmp_path / "report.html").exists()


def test_the_sandbox_reads_fields_and_properties_but_not_model_or_path_methods() -> None:
    """Fields and properties of a model stay readable; pydantic's inherited methods and a path's methods do not."""
    from jinja2.exceptions import SecurityError

    from csp_monitor.models.alerts import _sample_result
    from csp_monitor.sandbox import MESSAGE_LIMITS, BoundedSandbox

    environment = BoundedSandbox(limits=MESSAGE_LIMITS)
    result = _sample_result()
    assert environment.from_string("{{ result.name }}: {{ result.key }}").render(result=result) == \
        f"Domestic Burglary: {result.key}"
    for template in ("{{ result.model_dump() }}", "{{ result.copy() }}", "{{ result.json() }}",
                     "{{ result['model_dump']() }}", "{{ path.read_text() }}", "{{ path.open() }}"):
        with pytest.raises(SecurityError):
            environment.from_string(template).render(result=result, path=Path("/etc/passwd"))
    assert environment.from_string("{{ path.name }}").render(path=Path("/etc/passwd")) == "passwd"


_STREET_ROW = (b"abc,2020-01,Leicestershire Police,Leicestershire Police,-1.2,52.6,On or near X,E01025934,"
               b"Harborough 001A,CRIME,,\n")


def _street_archive(path: Path, content: bytes) -> Path:
    import zipfile

    from tests.security.hostile_files import STREET_HEADER

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("2020-01/2020-01-leicestershire-street.csv", STREET_HEADER + content)
    return path


def test_a_ten_megabyte_line_in_a_street_file_is_placed_on_its_line(tmp_path: Path) -> None:
    """A 10 MB value on line 2 of a street file is refused at line 2 (it said line 3, in csv's words)."""
    archive = _street_archive(tmp_path / "long.zip", b",2020-01," + b"x" * 10_000_000 + b"\n")
    result = run_limited("import", "police-uk", archive, "--out", "figures.csv", cwd=tmp_path)
    result.assert_refused(r"^long\.zip/2020-01/2020-01-leicestershire-street\.csv:2: a value on this line is longer "
                          r"than 131,072 characters: this is not a police\.uk street file$")
    assert not (tmp_path / "figures.csv").exists()


def test_a_nul_in_a_street_file_crime_type_is_spelled_out_and_the_count_placed(tmp_path: Path) -> None:
    """'Burgl<NUL>ary' is shown as 'Burgl\\x00ary' (it read 'Burglary ... did you mean Burglary')."""
    archive = _street_archive(tmp_path / "nul.zip", _STREET_ROW.replace(b"CRIME", b"Burgl\x00ary"))
    result = run_limited("import", "police-uk", archive, "--out", "figures.csv", cwd=tmp_path)
    result.assert_refused(r"^nul\.zip/2020-01/2020-01-leicestershire-street\.csv:2:106: 'Burgl\\x00ary' is not a "
                          r"police\.uk crime type")
    assert "1 malformed row found: nothing was written" in result.stderr


def test_a_police_uk_archive_of_a_hundred_thousand_street_files_is_read_within_the_limits(tmp_path: Path) -> None:
    """100,000 (empty) street files in one archive: read within 300 MB and 10 s, each reported as a missing month."""
    import zipfile

    from tests.security.hostile_files import STREET_HEADER

    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for number in range(100_000):
            zipped.writestr(f"2020-01/2020-01-force{number}-street.csv", STREET_HEADER)
    result = run_limited("import", "police-uk", archive, "--out", "figures.csv", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr[-2000:]
    assert result.stderr.startswith("Read 0 rows from 100000 files in ")


def test_a_ten_megabyte_line_in_the_area_lookup_is_placed_on_its_line(tmp_path: Path) -> None:
    """An ONS lookup whose second line is one 10 MB value is refused at line 2 (no line was given)."""
    lookup = tmp_path / "lookup.csv"
    lookup.write_bytes(b"LAD17CD,LAD17NM,CSP17CD,CSP17NM,PFA17CD,PFA17NM,FID\n" + b"y" * 10_000_000 + b"\n")
    archive = _street_archive(tmp_path / "street.zip", _STREET_ROW.replace(b"CRIME", b"Burglary"))
    result = run_limited("import", "police-uk", archive, "--lookup", lookup, "--out", "figures.csv", cwd=tmp_path)
    result.assert_refused(r"^lookup\.csv:2: a value on this line is longer than 131,072 characters: this is not the "
                          r"ONS lookup$")
    assert not (tmp_path / "figures.csv").exists()
