"""Hostile names and replies are escaped, never run: spreadsheets, terminals and email HTML (issue 13, point 5)."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from csp_monitor.cli.printing import printable
from csp_monitor.render.messages import inline_css
from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES
from tests.delivery_fixtures import ALERTS, smtp_delivery, write_config
from tests.mail_fixtures import Handler, LoopbackSmtp
from tests.security.bounded_cli import assert_refused, run_cli

RULE_FILE = HARBOROUGH_RULES.read_text(encoding="utf-8")
FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1:A9)"]
ESCAPES = "\x1b]2;owned\x07\x1b[2J\x1b[31m\x9b\u202e\x08"


def _rules_with_names(folder: Path, names: dict[str, str]) -> Path:
    text = RULE_FILE
    for old, new in names.items():
        assert f"name: {old}\n" in text
        text = text.replace(f"name: {old}\n", f"name: {json.dumps(new)}\n", 1)
    path = folder / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_names_that_look_like_formulas_are_stored_as_text_in_xlsx(tmp_path: Path) -> None:
    """evaluate --format xlsx stores names starting = + - @ as text cells (type 's'), never as formulas."""
    from openpyxl import load_workbook

    rules = _rules_with_names(tmp_path, dict(zip(["Total Crime", "ASB Reported (Police Data)", "Criminal Damage",
                                                  "User Satisfaction"], FORMULAS, strict=True)))
    out = tmp_path / "results.xlsx"
    run = run_cli("evaluate", rules, "--figures", HARBOROUGH_FIGURES, "--as-of", "2014-03", "--format", "xlsx",
                  "--out", out)
    assert run.exit_code == 0, run.output
    cells = {cell.value: cell.data_type for row in load_workbook(out).active.iter_rows() for cell in row
             if isinstance(cell.value, str)}
    for formula in FORMULAS:
        assert cells[formula] == "s"
    assert "f" not in cells.values()


def test_escape_sequences_in_a_value_are_not_echoed_to_the_terminal(tmp_path: Path) -> None:
    """A figure holding terminal escapes is reported at its cell without any control character."""
    figures = tmp_path / "figures.csv"
    figures.write_text(f"area,measure,period,value\nharborough,domestic-burglary,2013-05,12{ESCAPES}x\n"
                       f"harborough,burglary,2013-13{ESCAPES},4\n", encoding="utf-8")
    run = run_cli("evaluate", HARBOROUGH_RULES, "--figures", figures)
    assert_refused(run, codes=(1,))
    # Spelled out, so the lead sees what is in the cell, and nothing reaches the terminal as a control.
    assert f"{figures}:2:38: the value '12\\x1b]2;owned\\x07\\x1b[2J\\x1b[31m\\x9b\\u202e\\x08x' is not a number" \
        in run.stderr
    assert f"{figures}:3:" in run.stderr
    assert not any(ch in run.output for ch in "\x1b\x07\x9b\u202e\x08")


def test_escape_sequences_in_a_key_are_not_echoed(tmp_path: Path) -> None:
    """An unknown key holding escapes is reported, printable, at its line."""
    rules = tmp_path / "rules.yaml"
    # YAML refuses raw control characters in a file, but a double-quoted key may spell them as escapes.
    rules.write_text(RULE_FILE.replace("tolerance: 5 ", '"toler\\e]2;owned\\a\\e[2J\\x9b\\u202eance": 5 ', 1),
                     encoding="utf-8")
    run = run_cli("rules", "check", rules)
    assert_refused(run, codes=(1,))
    assert f"{rules}:12:1: unknown key 'toler]2;owned" in run.stderr
    assert not any(ch in run.output for ch in "\x1b\x07\x9b\u202e\x08")


def test_an_smtp_reply_with_escapes_is_shown_printable_by_send_and_outbox(tmp_path: Path) -> None:
    """A mail server's reply holding escapes is shown by send and outbox without them."""
    handler = Handler(data_reply="554 5.7.1 \x1b]2;owned\x07\x1b[2Jrejected by policy")
    with LoopbackSmtp(handler=handler) as server:
        config = write_config(tmp_path, smtp_delivery(server.port))
        sent = run_cli("send", "--config", config, "--as-of", "2014-03", "--only", "summary",
                       "--now", "2014-04-10T07:00")
    assert_refused(sent, codes=(1,))
    listed = run_cli("outbox", "--config", config)
    assert listed.exit_code == 0, listed.output
    for run in (sent, listed):
        assert "554 5.7.1 ]2;owned" in run.output and "rejected by policy" in run.output
        assert not any(ch in run.output for ch in "\x1b\x07")


@pytest.mark.parametrize("text", ["plain", "tab\tand\nline", "caf\u00e9 \u2014 \U0001f600"])
def test_printable_text_is_unchanged(text: str) -> None:
    """Ordinary text, tabs, line breaks and any printable Unicode pass through as they are."""
    assert printable(text) == text


def test_colour_codes_are_kept_only_when_asked() -> None:
    """Colour (SGR) survives for a colour terminal; every other escape never does."""
    text = "\x1b[31mred\x1b[0m\x1b]2;t\x07\x1b[2J"
    assert printable(text) == "red]2;t[2J"
    assert printable(text, keep_colour=True) == "\x1b[31mred\x1b[0m]2;t[2J"


class _Structure(HTMLParser):
    """The sequence of tags and the text of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []
        self.alts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.alts.extend(value or "" for name, value in attrs if name == "alt")

    def handle_endtag(self, tag: str) -> None:
        self.tags.append("/" + tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Structure:
    parser = _Structure()
    parser.feed(html)
    parser.close()
    return parser


def test_a_quote_in_a_measure_name_leaves_the_inlined_html_intact() -> None:
    """Inlining CSS around text such as 'Total ="Crime' keeps every tag; < and > in attributes are escaped."""
    page = ('<html><head><style>p {{ color: red }}</style></head><body><p>{name}</p>'
            '<img alt="{alt}" src="cid:x"><p>and "more</p><table><tr><td>1</td></tr></table></body></html>')
    plain = _parse(inline_css(page.format(name="Total Crime", alt="Chart of Total Crime")))
    html = inline_css(page.format(name='Total ="Crime', alt="Chart of a&lt;b&gt; =&quot;x"))
    hostile = _parse(html)
    assert hostile.tags == plain.tags
    assert 'Total ="Crime' in hostile.text
    assert hostile.alts == ['Chart of a<b> ="x']
    assert 'alt="Chart of a&lt;b&gt; =&quot;x"' in html


def test_preview_email_html_survives_a_hostile_measure_name(tmp_path: Path) -> None:
    """The rendered summary email with a measure named 'Total ="Crime' parses to the same tags as without."""
    structures = []
    for name in ("Total Crime", 'Total ="Crime'):
        folder = tmp_path / ("hostile" if '"' in name else "plain")
        folder.mkdir()
        rules = _rules_with_names(folder, {"Total Crime": name})
        config = write_config(folder, """
            delivery:
              from: "Harborough CSP monitor <csp-monitor@example.org>"
              folder: sent/
            """, rules=(rules, ALERTS))
        run = run_cli("preview", "--config", config, "--as-of", "2014-03", "--out", folder / "preview")
        assert run.exit_code == 0, run.output
        summary = next(line for line in run.stdout.splitlines() if line.startswith("summary "))
        html = Path(summary.rsplit(": ", 1)[1]).with_suffix(".html").read_text(encoding="utf-8")
        structures.append(_parse(html))
    assert structures[1].tags == structures[0].tags
    assert any('Total ="Crime' in text for text in structures[1].text)


def test_a_carriage_return_cannot_overwrite_a_printed_line() -> None:
    """A carriage return (which would let a value print over the start of its line) is dropped."""
    assert printable("ok\rFAKE") == "okFAKE"
