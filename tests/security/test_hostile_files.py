"""Hostile files and names: no output over an input, no link out of a folder, no pipe read, valid XML."""

from __future__ import annotations

import os
import re
import shutil
import stat
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES, ROOT
from tests.security.hostile_files import write_config
from tests.security.limits import files_under, run_limited


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    """A folder holding copies of Harborough's rules and figures."""
    shutil.copy(HARBOROUGH_RULES, tmp_path / "rules.yaml")
    shutil.copy(HARBOROUGH_FIGURES, tmp_path / "figures.csv")
    return tmp_path


OUT_OVER_INPUT = [
    (["evaluate", "rules.yaml", "--figures", "figures.csv", "--format", "csv", "--out", "figures.csv"],
     "figures.csv", "--out"),
    (["evaluate", "rules.yaml", "--figures", "figures.csv", "--format", "json", "--out", "rules.yaml"],
     "rules.yaml", "--out"),
    (["report", "rules.yaml", "--figures", "figures.csv", "--no-charts", "--out", "rules.yaml"],
     "rules.yaml", "--out"),
    (["import", "spreadsheet", "figures.csv", "--area", "harborough", "--out", "figures.csv"],
     "figures.csv", None),
]


@pytest.mark.parametrize(("args", "victim", "option"), OUT_OVER_INPUT, ids=lambda v: " ".join(v) if isinstance(
    v, list) else None)
def test_an_output_equal_to_an_input_is_refused(inputs: Path, args: list[str], victim: str,
                                                option: str | None) -> None:
    """Every command with --out refuses to write over one of its own inputs, and leaves it untouched."""
    before = files_under(inputs)
    result = run_limited(*args, cwd=inputs)
    expected = (rf"^{victim}: this is an input of this command: writing {option} here would overwrite it"
                if option else rf"^{victim}: this is an input of the import: writing the figures here would overwrite it")
    result.assert_refused(expected)
    assert files_under(inputs) == before


def test_an_output_linked_to_an_input_is_refused(inputs: Path) -> None:
    """--out naming a symbolic link to the figures file is refused as that input by another name."""
    (inputs / "results.csv").symlink_to("figures.csv")
    before = files_under(inputs)
    result = run_limited("evaluate", "rules.yaml", "--figures", "figures.csv", "--format", "csv",
                         "--out", "results.csv", cwd=inputs)
    result.assert_refused(r"^results\.csv: this is figures\.csv \(by another name\), an input of this command")
    assert files_under(inputs) == before


def test_a_junit_report_over_its_test_file_is_refused(tmp_path: Path) -> None:
    """rules test --junit naming the test file itself is refused and the test file kept."""
    for name in ("harborough-2013-14.yaml", "harborough-alerts.yaml", "harborough-2013-14.test.yaml"):
        shutil.copy(ROOT / "rules" / name, tmp_path / name)
    (tmp_path / "examples" / "harborough").mkdir(parents=True)
    before = files_under(tmp_path)
    result = run_limited("rules", "test", "harborough-2013-14.test.yaml", "--junit", "harborough-2013-14.test.yaml",
                         cwd=tmp_path)
    result.assert_refused(r"^harborough-2013-14\.test\.yaml: this is an input of this command: writing --junit here")
    assert files_under(tmp_path) == before


def test_an_import_over_a_street_file_it_reads_is_refused(tmp_path: Path) -> None:
    """import police-uk with --out naming one of the street files in the folder it reads is refused."""
    folder = tmp_path / "archives" / "2020-01"
    folder.mkdir(parents=True)
    street = folder / "2020-01-leicestershire-street.csv"
    street.write_text("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
                      "Crime type,Last outcome category,Context\n", encoding="utf-8")
    before = files_under(tmp_path)
    result = run_limited("import", "police-uk", "archives", "--out", street, cwd=tmp_path)
    result.assert_refused(r"^archives/2020-01/2020-01-leicestershire-street\.csv: this is an input of the import")
    assert files_under(tmp_path) == before


def test_a_template_linked_outside_its_folder_is_refused(inputs: Path) -> None:
    """A report template that is a link to a file outside the templates folder is refused, never rendered."""
    secret = inputs / "secret.txt"
    secret.write_text("the SMTP password is hunter2\n", encoding="utf-8")
    templates = inputs / "templates"
    templates.mkdir()
    (templates / "report.html.j2").symlink_to(secret)
    result = run_limited("report", "rules.yaml", "--figures", "figures.csv", "--no-charts", "--templates", "templates",
                         "--out", "report.html", cwd=inputs)
    result.assert_refused(r"^error: .*templates/report\.html\.j2: this template is a link to .*secret\.txt, outside "
                          r"the templates folder")
    assert "hunter2" not in result.stdout + result.stderr
    assert not (inputs / "report.html").exists()


def test_a_template_linked_inside_its_folder_is_used(inputs: Path) -> None:
    """A link between two files of the templates folder is followed as before."""
    templates = inputs / "templates"
    (templates / "parts").mkdir(parents=True)
    (templates / "parts" / "report.html.j2").write_text("<p>{{ summary.partnership }} by link</p>\n", encoding="utf-8")
    (templates / "report.html.j2").symlink_to(Path("parts") / "report.html.j2")
    result = run_limited("report", "rules.yaml", "--figures", "figures.csv", "--no-charts", "--templates", "templates",
                         "--out", "report.html", cwd=inputs)
    assert result.exit_code == 0, result.stderr
    assert "by link</p>" in (inputs / "report.html").read_text(encoding="utf-8")


def test_a_dangling_state_link_is_refused_rather_than_followed(tmp_path: Path) -> None:
    """A state store that is a link to a missing file is refused: the database is not created elsewhere."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "state.db").symlink_to(elsewhere / "stolen.db")
    config = write_config(tmp_path)
    before = files_under(tmp_path)
    result = run_limited("send", "--config", config, cwd=tmp_path)
    result.assert_refused(r"state\.db is a link to .*elsewhere/stolen\.db, which does not exist: the state store "
                          r"would be created there instead")
    assert files_under(tmp_path) == before
    assert not (elsewhere / "stolen.db").exists()


FIFO_RUNS = [
    ("figures.csv", ["evaluate", "rules.yaml", "--figures", "pipe.csv"], "pipe.csv"),
    ("figures.json", ["evaluate", "rules.yaml", "--figures", "pipe.json"], "pipe.json"),
    ("rules", ["rules", "check", "pipe.yaml"], "pipe.yaml"),
    ("spreadsheet csv", ["import", "spreadsheet", "pipe.csv", "--area", "h", "--out", "out.csv"], "pipe.csv"),
    ("spreadsheet xlsx", ["import", "spreadsheet", "pipe.xlsx", "--area", "h", "--out", "out.csv"], "pipe.xlsx"),
    ("street csv", ["import", "police-uk", "pipe.csv", "--out", "out.csv"], "pipe.csv"),
    ("archive", ["import", "police-uk", "pipe.zip", "--out", "out.csv"], "pipe.zip"),
    ("street csv in a folder", ["import", "police-uk", "archives", "--out", "out.csv"],
     "archives/2020-01-leicestershire-street.csv"),
    ("archive in a folder", ["import", "police-uk", "archives", "--out", "out.csv"], "archives/pipe.zip"),
]


@pytest.mark.parametrize(("case", "args", "pipe"), FIFO_RUNS, ids=[case for case, _, _ in FIFO_RUNS])
def test_a_named_pipe_is_refused_not_read(inputs: Path, case: str, args: list[str], pipe: str) -> None:
    """A named pipe given as, or found among, the files to read is refused at once instead of blocking for ever."""
    (inputs / "archives").mkdir()
    os.mkfifo(inputs / pipe)
    before = files_under(inputs)
    result = run_limited(*args, cwd=inputs)
    result.assert_refused(rf"^{pipe}: (cannot be read: )?this is a named pipe \(FIFO\), not a file")
    assert files_under(inputs) == before


def test_a_named_pipe_as_the_area_lookup_is_refused(tmp_path: Path) -> None:
    """--lookup naming a named pipe is refused instead of blocking."""
    os.mkfifo(tmp_path / "lookup.csv")
    result = run_limited("import", "police-uk", ROOT.parent.parent / "shared" / "data" / "police-uk",
                         "--lookup", "lookup.csv", "--out", "out.csv", cwd=tmp_path)
    result.assert_refused(r"^lookup\.csv: the lookup cannot be read: this is a named pipe \(FIFO\), not a file")
    assert not (tmp_path / "out.csv").exists()


def _odd_test_file(folder: Path, name: str) -> Path:
    shutil.copy(HARBOROUGH_RULES, folder / "rules.yaml")
    shutil.copy(HARBOROUGH_FIGURES, folder / "figures.csv")
    path = folder / "odd.test.yaml"
    path.write_text(
        'rules: [rules.yaml]\nfigures_file: figures.csv\ntests:\n'
        f'  - name: "{name}"\n'
        '    as_of: 2014-03\n    expect: [{measure: total-crime, status: red}]\n', encoding="utf-8")
    return path


def test_xml_illegal_characters_in_a_rule_test_name_make_well_formed_junit(tmp_path: Path) -> None:
    """U+FFFE and U+FFFF in a test's name become U+FFFD in a JUnit file that parses (control characters such as
    U+0001 are refused at load, as in every name)."""
    _odd_test_file(tmp_path, "odd \\uFFFE name \\uFFFF end")
    result = run_limited("rules", "test", "odd.test.yaml", "--junit", "report.xml", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    case = ElementTree.parse(tmp_path / "report.xml").getroot().find("./testsuite/testcase")
    assert case is not None
    assert case.get("name") == "odd \ufffd name \ufffd end"


def test_a_lone_surrogate_escape_is_refused_at_its_place(tmp_path: Path) -> None:
    """A "\\uD800" escape (half a character, which cannot be printed or saved) is refused at line:col."""
    _odd_test_file(tmp_path, "odd \\uD800 end")
    result = run_limited("rules", "test", "odd.test.yaml", "--junit", "report.xml", cwd=tmp_path)
    assert result.exit_code == 1, result.stderr
    assert "odd.test.yaml:4:11: this text holds the escape \\uD800, half of a character" in result.stdout
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert ElementTree.parse(tmp_path / "report.xml").getroot().get("errors") == "1"


def _figures_lines(count: int) -> list[bytes]:
    return [b"area,measure,period,value"] + [f"harborough,m{i},2014-03,{i}".encode() for i in range(count)]


def test_a_bad_byte_is_reported_at_its_exact_line_and_character(inputs: Path) -> None:
    """A cp1252 byte after an accented letter on line 1,500 is reported at 1500:13, not where decoding stopped."""
    lines = _figures_lines(2000)
    lines[1499] = "harborough,é".encode() + b"\xff" + b",2014-03,1"
    (inputs / "bad.csv").write_bytes(b"\n".join(lines) + b"\n")
    result = run_limited("evaluate", "rules.yaml", "--figures", "bad.csv", cwd=inputs)
    result.assert_refused(r"^bad\.csv:1500:13: this file is not UTF-8 text \(the byte ff here is 'ÿ' in a Windows "
                          r"or Latin-1 file\)")


def test_a_bad_byte_after_a_character_split_between_blocks_is_placed_exactly(inputs: Path) -> None:
    """A bad byte on the line after a two-byte character that straddles the 1 MiB read block is still exact."""
    head = b"area,measure,period,value\n"
    filler = b"# " + b"x" * (2**20 - len(head) - 3)  # the comment line's "é" starts at the block's last byte
    text = head + filler + "é\n".encode() + b"harborough,m,2014-03,\x81\n"
    assert text.index("é".encode()) == 2**20 - 1
    (inputs / "bad.csv").write_bytes(text)
    result = run_limited("evaluate", "rules.yaml", "--figures", "bad.csv", cwd=inputs)
    result.assert_refused(r"^bad\.csv:3:22: this file is not UTF-8 text \(the byte 81 here\)")


@pytest.mark.parametrize(("line", "column"), [(b'harborough,"m' + b"x" * 200_000 + b'",2014-03,1', 12),
                                              (b"harborough,m,2014-03," + b"9" * 200_000, 22)],
                         ids=["quoted", "plain"])
def test_an_overlong_value_is_reported_at_its_line_and_column(inputs: Path, line: bytes, column: int) -> None:
    """A 200,000-character value on line 1,500 is reported at that line and the column where the value starts."""
    lines = _figures_lines(2000)
    lines[1499] = line
    (inputs / "long.csv").write_bytes(b"\n".join(lines) + b"\n")
    result = run_limited("evaluate", "rules.yaml", "--figures", "long.csv", cwd=inputs)
    result.assert_refused(rf"^long\.csv:1500:{column}: this value is longer than 131,072 characters")


def test_a_named_pipe_as_the_certificate_file_is_refused_at_its_key(tmp_path: Path) -> None:
    """ca_file naming a named pipe is refused at its key when the configuration loads, before any connection."""
    os.mkfifo(tmp_path / "ca.pem")
    config = write_config(tmp_path, delivery="  smtp: {host: 127.0.0.1, port: 2525, security: starttls, "
                                             "ca_file: ca.pem}\n")
    before = files_under(tmp_path)
    result = run_limited("send", "--config", config, cwd=tmp_path)
    result.assert_refused(r"^csp-monitor\.yaml:6:\d+: the certificate file .*ca\.pem is a named pipe \(FIFO\), not "
                          r"a file")
    assert files_under(tmp_path) == before


@pytest.mark.parametrize("template", ["summary.txt.j2", "summary.html.j2", "summary.subject.j2"])
def test_an_email_template_linked_outside_its_folder_is_never_emailed(tmp_path: Path, template: str) -> None:
    """send with a configured templates folder whose summary template links to a secret outside it exits 1, and
    nothing reaches the real mail server (nor the secret the terminal)."""
    from tests.delivery_fixtures import smtp_delivery
    from tests.delivery_fixtures import write_config as write_delivery_config
    from tests.mail_fixtures import LoopbackSmtp

    secret = tmp_path / "secret.txt"
    secret.write_text("the SMTP password is hunter2\n", encoding="utf-8")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / template).symlink_to(secret)
    with LoopbackSmtp() as server:
        config = write_delivery_config(tmp_path, smtp_delivery(server.port), extra="templates: templates\n")
        result = run_limited("send", "--config", config, "--as-of", "2014-03", "--only", "summary",
                             "--now", "2014-04-10T07:00", cwd=tmp_path)
        received = list(server.received)
    result.assert_refused(rf"templates/{re.escape(template)}: this template is a link to .*secret\.txt, outside the "
                          r"templates folder")
    assert received == []
    assert "hunter2" not in result.stdout + result.stderr


OUT_TO_SPECIAL = [
    (["evaluate", "rules.yaml", "--figures", "figures.csv", "--format", "csv", "--out", "OUT"], "--out"),
    (["evaluate", "rules.yaml", "--figures", "figures.csv", "--format", "xlsx", "--out", "OUT"], "--out"),
    (["report", "rules.yaml", "--figures", "figures.csv", "--no-charts", "--out", "OUT"], "--out"),
    (["rules", "test", str(ROOT / "rules" / "harborough-2013-14.test.yaml"), "--junit", "OUT"], "--junit"),
    (["import", "spreadsheet", "figures.csv", "--area", "harborough", "--out", "OUT"], None),
    (["import", "police-uk", "archives", "--out", "OUT"], None),
]


def _special(folder: Path, kind: str) -> Path:
    """A named pipe, or (as root) a private null device, in ``folder``."""
    path = folder / "special"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # what /dev/null is, but ours to lose
    return path


@pytest.mark.parametrize("kind", ["fifo", pytest.param("device", marks=pytest.mark.skipif(
    os.geteuid() != 0, reason="only root can make a device node"))])
@pytest.mark.parametrize(("args", "option"), OUT_TO_SPECIAL, ids=[" ".join(a[:2]) + (" xlsx" if "xlsx" in a else "")
                                                               for a, _ in OUT_TO_SPECIAL])
def test_an_output_that_is_a_device_or_pipe_is_refused_never_replaced(inputs: Path, args: list[str],
                                                                      option: str | None, kind: str) -> None:
    """--out naming a device or a named pipe was replaced by a regular file (run as root, --out /dev/null broke
    the machine); it is refused before any work, and left as it was."""
    (inputs / "archives").mkdir()
    special = _special(inputs, kind)
    before = os.lstat(special)
    result = run_limited(*[str(special.name) if a == "OUT" else a for a in args], cwd=inputs)
    what = r"a named pipe \(FIFO\)" if kind == "fifo" else "a device"
    result.assert_refused(rf"^special: this is {what}, not a file: " + (
        f"give {option} the name of a file to write" if option else "give the file to write the figures to"))
    after = os.lstat(special)
    assert (after.st_mode, after.st_ino, after.st_rdev) == (before.st_mode, before.st_ino, before.st_rdev)


def test_an_atomic_write_never_replaces_a_pipe(tmp_path: Path) -> None:
    """The library's atomic writes refuse a named pipe (NotARegularFile) and leave it a pipe."""
    from csp_monitor.files import NotARegularFile, write_text_atomically

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    with pytest.raises(NotARegularFile, match=r"this is a named pipe \(FIFO\), not a file"):
        write_text_atomically(pipe, "text")
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]
