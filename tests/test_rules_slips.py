"""Rule mistakes that change meaning do not pass silently: fractions as changes, outdented keys, pasted minus signs,
rules that would judge nothing, and syntax slips all reported in one run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csp_monitor import evaluate, load_figures, load_rules, rules_from_text
from csp_monitor.errors import FiguresError, RulesError
from csp_monitor.load.yaml_source import YamlProblems, parse_yaml
from tests.conftest import HARBOROUGH_FIGURES, ROOT, CliResult

HEAD = "partnership: Harborough\narea: harborough\npriorities:\n  - id: p\n    title: P\n    measures:\n"


def _measure(target: str, better: str = "lower", id_: str = "domestic-burglary") -> str:
    return f"      - id: {id_}\n        name: M\n        better: {better}\n        target: {target}\n"


def test_a_fraction_written_as_a_change_is_read_as_written_but_warned_at_its_place() -> None:
    """change: -0.1 is -0.1%, and a located warning suggests -10%."""
    rules = rules_from_text(HEAD + _measure("{change: -0.1}"), "r.yaml")
    assert rules.priorities[0].measures[0].target is not None
    assert rules.priorities[0].measures[0].target.value == -0.1
    assert rules.warnings == ("r.yaml:10:26: warning: a change of -0.1 is read as -0.1%, less than one percent: if "
                              "it is a fraction meaning a 10% reduction, write -10%; if -0.1% really is the target, "
                              "write -0.1% to say so",)


@pytest.mark.parametrize("target", ["{change: -0.1%}", "{change: -10%}", "{change: -1}", "{change: 0%}",
                                    "{at_most: 0.5}"])
def test_a_change_with_its_percent_sign_or_of_a_whole_percent_is_not_warned(target: str) -> None:
    """Only a bare number between -1 and 1 (not 0) looks like a fraction."""
    assert rules_from_text(HEAD + _measure(target)).warnings == ()


def test_an_unsigned_fraction_on_a_lower_is_better_measure_says_ten_percent() -> None:
    """change: 0.1 where lower is better is refused with advice to write -10% (not -0.1%)."""
    with pytest.raises(RulesError) as caught:
        rules_from_text(HEAD + _measure("{change: 0.1}"), "r.yaml")
    assert str(caught.value) == (
        "r.yaml:10:26: a change of 0.1 is read as 0.1%, a rise, but lower is better for 'domestic-burglary': if 0.1 "
        "is a fraction meaning 10%, write -10% for a reduction, or +10% if a rise of up to 10% really is the target")


def test_an_outdented_tolerance_is_warned_and_says_both_ways_to_write_it() -> None:
    """A tolerance two spaces short after a measure is the priority's: warned at the key, naming both columns."""
    text = HEAD + _measure("{change: -5%}") + "    tolerance: 2\n"
    rules = rules_from_text(text, "r.yaml")
    assert rules.priorities[0].tolerance == 2  # read as YAML says
    assert rules.warnings == (
        "r.yaml:11:5: warning: 'tolerance' here belongs to the priority 'p' (it lines up with that priority's keys), "
        "but it comes straight after the measure 'domestic-burglary', whose keys are in column 9: if it is meant for "
        "the measure 'domestic-burglary', indent it to column 9; if it is meant for the priority 'p', move it above "
        "'measures:'",)


@pytest.mark.parametrize("text", [
    "partnership: H\ntolerance: 2\npriorities:\n  - id: p\n    title: P\n    tolerance: 3\n    measures:\n"
    + _measure("{change: -5%}").replace("        target", "        tolerance: 1\n        target"),
    HEAD + _measure("{change: -5%}") + "recipients:\n  board: [a@example.org]\n",
    HEAD + "      - {id: a, name: A, better: lower, target: {change: -5%}}\n    tolerance: 2\n",
])
def test_keys_at_their_own_level_are_not_warned(text: str) -> None:
    """Tolerances above the measures, keys that belong only where they are, after a one-line measure: no warning."""
    assert rules_from_text(text).warnings == ()


def test_the_shipped_rules_have_no_warnings() -> None:
    """The example rule files are written as they mean."""
    rules = load_rules([ROOT / "rules" / "harborough-2013-14.yaml", ROOT / "rules" / "harborough-alerts.yaml"])
    assert rules.warnings == ()


@pytest.mark.parametrize(("written", "name"), [("\u221213%", "U+2212 minus sign"), ("\u2013 13%", "en dash"),
                                               ("\u201413%", "em dash")])
def test_a_word_processor_minus_is_read_as_minus_with_a_note(written: str, name: str) -> None:
    """A pasted minus sign or dash before a number is a minus, and the warning names the character and place."""
    rules = rules_from_text(HEAD + _measure(f"{{change: {written}}}"), "r.yaml")
    assert rules.priorities[0].measures[0].target is not None
    assert rules.priorities[0].measures[0].target.value == -13
    assert rules.priorities[0].measures[0].target.sign_written
    assert rules.warnings == (f"r.yaml:10:26: warning: '{written}' is written with a word processor's {name}, not "
                              "the '-' key: it is read as -13% (type the '-' key to silence this note)",)


@pytest.mark.parametrize(("opening", "closing"), [("\u201c", "\u201d"), ("\u2018", "\u2019")])
def test_a_value_in_curly_quotes_is_read_as_the_text_inside_with_a_note(opening: str, closing: str) -> None:
    """A word processor's curly quotes around a value (an owner's address) are quotes, not part of it, and the
    warning says where."""
    rules = rules_from_text(HEAD.replace("title: P", f"title: P\n    owner: {opening}lead@example.org{closing}")
                            + _measure("{change: -5%}"), "r.yaml")
    assert rules.priorities[0].owner == "lead@example.org"
    assert rules.warnings == (f"r.yaml:6:12: warning: {opening}lead@example.org{closing} is written with a word "
                              "processor's curly quotes, not the '\"' key: it is read as lead@example.org (type "
                              "straight quotes, or none, to silence this note)",)


def test_curly_quotes_inside_text_are_left_alone() -> None:
    """Curly quotes within a title, or in straight quotes, are the writer's punctuation: kept, no note."""
    title = "The \u201cSafer Streets\u201d plan"
    rules = rules_from_text(HEAD.replace("title: P", f"title: {title}") + _measure("{change: -5%}")
                            .replace("name: M", "name: '\u201cM\u201d'"))
    assert rules.priorities[0].title == title
    assert rules.priorities[0].measures[0].name == "\u201cM\u201d"
    assert rules.warnings == ()


def test_a_rule_file_saved_by_word_loads_with_notes_and_a_utf16_one_is_named(tmp_path: Path) -> None:
    """rules check (a process of its own) reads a file with a byte order mark, CRLF line ends, curly quotes and
    an en dash, warning at each slip's place (exit 0); a file saved as UTF-16 is refused as UTF-16 (exit 1)."""
    from tests.security.bounded_cli import run_cli

    text = (HEAD.replace("partnership: Harborough", "partnership: \u201cHarborough\u201d")
            + _measure("{change: \u201313%}"))
    word = tmp_path / "word.yaml"
    word.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    run = run_cli("rules", "check", word, "--figures", HARBOROUGH_FIGURES)
    assert run.exit_code == 0, run.output
    assert run.stdout.startswith("OK (2 warnings): 1 file")
    assert f"{word}:1:14: warning: \u201cHarborough\u201d is written with a word processor's curly quotes" \
        in run.stderr
    assert f"{word}:10:26: warning: '\u201313%' is written with a word processor's en dash" in run.stderr
    unicode = tmp_path / "unicode.yaml"
    unicode.write_bytes(text.encode("utf-16"))
    figures = tmp_path / "figures.csv"
    figures.write_bytes(HARBOROUGH_FIGURES.read_text(encoding="utf-8").encode("utf-16"))
    run = run_cli("evaluate", unicode, "--figures", figures)
    assert run.exit_code == 1, run.output
    assert sorted(run.stderr.splitlines()) == sorted([
        "2 problems found.",
        f"{figures}:1:1: this file is UTF-16 text (Excel's 'Unicode Text'): save it as 'CSV UTF-8'",
        f"{unicode}:1:1: this file is UTF-16 text (saved as 'Unicode'): save it as UTF-8 (in Notepad, Save As with "
        "the encoding UTF-8)"])


def test_a_dash_inside_text_is_left_alone() -> None:
    """An en dash in a title is punctuation: kept, and not warned about."""
    rules = rules_from_text(HEAD.replace("title: P", "title: Burglary \u2013 homes") + _measure("{change: -5%}"))
    assert rules.priorities[0].title == "Burglary \u2013 homes"
    assert rules.warnings == ()


def test_warnings_are_printed_once_on_stderr_by_evaluate(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    """evaluate prints each rule warning once, as file:line:col: warning:, on stderr only."""
    rules = tmp_path / "r.yaml"
    rules.write_text(HEAD.replace("harborough\npriorities", "harborough\nyear_starts: 2013-04\npriorities")
                     + _measure("{change: -0.13}"), encoding="utf-8")
    result = cli("evaluate", rules, "--figures", HARBOROUGH_FIGURES, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count(f"{rules}:11:26: warning: a change of -0.13 is read as -0.13%") == 1
    assert "a change of -0.13" not in result.stdout  # stdout is the JSON alone


def test_rules_with_no_measures_are_refused_by_evaluate() -> None:
    """Priorities without measures: nothing to evaluate is an error, not an empty table."""
    rules = rules_from_text("partnership: H\narea: harborough\npriorities:\n  - {id: p, title: P}\n", "r.yaml")
    with pytest.raises(FiguresError, match="the rules have no measures, so there is nothing to evaluate"):
        evaluate(rules, load_figures(HARBOROUGH_FIGURES), as_of="2014-03")


def test_an_area_without_figures_is_refused_even_with_an_as_of_month(cli: Callable[..., CliResult],
                                                                     tmp_path: Path) -> None:
    """With --as-of, an area the figures lack exits 1 naming the areas they have (it printed no_data rows)."""
    rules = tmp_path / "r.yaml"
    rules.write_text(HEAD.replace("area: harborough", "area: leicestershire") + _measure("{change: -5%}"),
                     encoding="utf-8")
    result = cli("evaluate", rules, "--figures", HARBOROUGH_FIGURES, "--as-of", "2014-03")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{rules}:2:7: the figures have nothing for the area 'leicestershire', so every measure would be " \
           "'no data': the figures cover harborough" in result.stderr


def test_evaluate_locates_an_area_without_figures_in_the_rule_file(tmp_path: Path) -> None:
    """The library's evaluate() refuses an area the figures lack at the rule file's area line and column."""
    rules = tmp_path / "r.yaml"
    rules.write_text(HEAD.replace("area: harborough", "area: harborugh") + _measure("{change: -5%}"), encoding="utf-8")
    with pytest.raises(FiguresError) as caught:
        evaluate(load_rules(rules), load_figures(HARBOROUGH_FIGURES), as_of="2014-03")
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.column, problem.path) == (str(rules), 2, 7, ("area",))
    assert str(problem).startswith(f"{rules}:2:7: the figures have nothing for the area 'harborugh'")


def test_evaluate_locates_measures_without_figures_at_the_first_measure() -> None:
    """Measures the figures lack are refused at the first measure's id; rules with no measures at 'priorities'."""
    rules = rules_from_text(HEAD + _measure("{change: -5%}", id_="domestic-burglry"), "r.yaml")
    with pytest.raises(FiguresError) as caught:
        evaluate(rules, load_figures(HARBOROUGH_FIGURES), as_of="2014-03")
    assert str(caught.value.problems[0]).startswith("r.yaml:7:13: the figures for harborough have none of the "
                                                    "rules' measures (domestic-burglry)")
    empty = rules_from_text("partnership: H\narea: harborough\npriorities:\n  - {id: p, title: P}\n", "r.yaml")
    with pytest.raises(FiguresError) as caught:
        evaluate(empty, load_figures(HARBOROUGH_FIGURES), as_of="2014-03")
    assert str(caught.value.problems[0]).startswith("r.yaml:3:1: the rules have no measures")


def test_rules_from_data_locate_an_area_without_figures_by_its_key() -> None:
    """Rules given as Python data have no lines: the problem names the key, <rules>: area."""
    from csp_monitor import rules_from_data

    rules = rules_from_data({"partnership": "H", "area": "harborugh", "priorities": [
        {"id": "p", "title": "P", "measures": [{"id": "domestic-burglary", "name": "M", "better": "lower"}]}]})
    with pytest.raises(FiguresError, match=r"^<rules>:area: the figures have nothing for the area 'harborugh'"):
        evaluate(rules, load_figures(HARBOROUGH_FIGURES), as_of="2014-03")


def test_send_locates_an_area_without_figures_in_the_rule_file(tmp_path: Path) -> None:
    """csp-monitor send (in a process of its own) reports the rule file's line and column, exit 1, no traceback."""
    from tests.security.bounded_cli import run_cli

    rules = tmp_path / "r.yaml"
    rules.write_text(HEAD.replace("area: harborough", "area: harborugh") + _measure("{change: -5%}"), encoding="utf-8")
    config = tmp_path / "csp-monitor.yaml"
    config.write_text(f"rules: [r.yaml]\nfigures: [{HARBOROUGH_FIGURES}]\nstate: s.db\n"
                      "delivery: {from: m@example.org, folder: out/}\n", encoding="utf-8")
    for args in (("--dry-run", tmp_path / "dry"), ()):
        run = run_cli("send", "--config", config, *args)
        assert run.exit_code == 1, run.output
        assert f"{rules}:2:7: the figures have nothing for the area 'harborugh'" in run.stderr
        assert "Traceback" not in run.output
    assert not (tmp_path / "s.db").exists() and not (tmp_path / "out").exists()


def test_a_tab_and_a_missing_colon_are_reported_together() -> None:
    """Two syntax slips on different lines come in one run, each at its place."""
    text = "partnership: H\npriorities:\n\t- id: p\n    title P\n"
    with pytest.raises(YamlProblems) as caught:
        parse_yaml(text, "r.yaml")
    assert [str(p) for p in caught.value.problems] == [
        "r.yaml:3:1: a tab is used for indentation here: YAML only allows spaces, so indent with spaces",
        "r.yaml:4:5: 'title P' has no ':' after its key: write it as 'title: P'",
    ]


def test_syntax_slips_with_sure_mends_let_the_meaning_be_checked_in_the_same_run() -> None:
    """A missing space after a colon and a misspelt value: both reported, the value's column as in the file."""
    with pytest.raises(RulesError) as caught:
        rules_from_text(HEAD + _measure("{change: -5%}").replace("better: lower", "better:lowr"), "r.yaml")
    assert [str(p) for p in caught.value.problems] == [
        "r.yaml:9:16: 'lowr' is not allowed for 'better': use one of 'lower', 'higher' (did you mean 'lower'?)",
        "r.yaml:9:16: a space is missing after the ':' of 'better': write 'better: lowr'",
    ]


def test_the_twelve_mistake_file_reports_all_twelve_in_one_run(cli: Callable[..., CliResult]) -> None:
    """The corpus file with twelve classic mistakes gets twelve located messages from one rules check."""
    path = ROOT / "tests" / "corpus" / "rules" / "90-twelve-classic-mistakes.yaml"
    result = cli("rules", "check", path)
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith(f"{path}:")]
    assert len(lines) == 12 and len({line.split(": ")[0] for line in lines}) == 12
    assert result.stderr.endswith("12 problems found.\n")


_PIECES = st.sampled_from([*" \t\n:-{}[]\"'#=|>abc12%.,&*!\u2212\u2013", "partnership: ", "priorities:\n", "  - id: ",
                           "    measures:\n", "      - ", "better", "target: {change: ", "tolerance: "])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=60).map("".join))
def test_any_text_gives_rules_or_located_problems(text: str) -> None:
    """Whatever the text, mending and re-parsing end in rules or in problems each with a real line and column."""
    try:
        rules_from_text(text, "r.yaml")
    except RulesError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.line is None or problem.line >= 1
            assert problem.column is None or problem.column >= 1


def test_rules_check_each_file_shows_the_warnings(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    """The pre-commit mode (--each-file) warns too, and counts the warnings in its OK line."""
    path = tmp_path / "r.yaml"
    path.write_text(HEAD + _measure("{change: -0.2}"), encoding="utf-8")
    result = cli("rules", "check", "--each-file", path)
    assert result.exit_code == 0
    assert result.stdout == "OK (1 warning): 1 file checked one by one\n"
    assert result.stderr == (f"{path}:10:26: warning: a change of -0.2 is read as -0.2%, less than one percent: if it "
                             "is a fraction meaning a 20% reduction, write -20%; if -0.2% really is the target, write "
                             "-0.2% to say so\n")
