"""One bad input must not stop all delivery: values outside sane ranges are refused at load (issue 13, point 3)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from csp_monitor.statistics.significance import binomial_p_value, significance_of_change
from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES
from tests.delivery_fixtures import ALERTS, smtp_delivery, write_config
from tests.mail_fixtures import LoopbackSmtp
from tests.security.bounded_cli import assert_refused, run_cli

DISPLAY_NAMES = ["Smith, John <john.smith@x.gov.uk>", "Dr. Who <who@x.gov.uk>",
                 '"O\'Brien, Pat" <pat@x.gov.uk>']


def _recipients_file(folder: Path, addresses: list[str]) -> Path:
    path = folder / "recipients.yaml"
    path.write_text("recipients:\n  board:\n" + "".join(f"    - {json.dumps(a)}\n" for a in addresses),
                    encoding="utf-8")
    return path


def test_display_names_pass_rules_check(tmp_path: Path) -> None:
    """Recipients written as Outlook shows them ("Smith, John <...>", "Dr. Who <...>") are valid addresses."""
    recipients = _recipients_file(tmp_path, DISPLAY_NAMES)
    run = run_cli("rules", "check", HARBOROUGH_RULES, recipients)
    assert run.exit_code == 0, run.output


@pytest.mark.parametrize("address", ["Smith <john@x>", "a@b.org, c@d.org", "Jo <jo@x.gov.uk", "=?utf-8?q?x?= <a@b.org>",
                                     "name@", "Bad\u202eName <a@b.org>"])
def test_a_malformed_address_is_refused_at_its_line(tmp_path: Path, address: str) -> None:
    """An address the message could not carry is refused by rules check at file:line:col, exit 1."""
    recipients = _recipients_file(tmp_path, ["ok@x.gov.uk", address])
    run = run_cli("rules", "check", HARBOROUGH_RULES, recipients)
    assert_refused(run, codes=(1,))
    assert f"{recipients}:4:7: " in run.stderr and "is not an email address" in run.stderr


def test_send_delivers_to_display_names_over_real_smtp(tmp_path: Path) -> None:
    """send delivers the summary to recipients with display names; the To header keeps each name intact."""
    recipients = _recipients_file(tmp_path, DISPLAY_NAMES)
    with LoopbackSmtp() as server:
        config = write_config(tmp_path, smtp_delivery(server.port), rules=(HARBOROUGH_RULES, recipients))
        run = run_cli("send", "--config", config, "--as-of", "2014-03", "--only", "summary",
                      "--now", "2014-04-10T07:00")
        assert run.exit_code == 0, run.output
        assert len(server.received) == 1
        received = server.received[0]
    assert sorted(received.rcpt_tos) == ["john.smith@x.gov.uk", "pat@x.gov.uk", "who@x.gov.uk"]
    to = received.message["To"]
    assert [(a.display_name, a.addr_spec) for a in to.addresses] == [
        ("Smith, John", "john.smith@x.gov.uk"), ("Dr. Who", "who@x.gov.uk"), ("O'Brien, Pat", "pat@x.gov.uk")]


def _figures_with(folder: Path, value: str) -> Path:
    lines = HARBOROUGH_FIGURES.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("harborough,domestic-burglary,2013-05,"))
    lines[index] = f"harborough,domestic-burglary,2013-05,{value}"
    path = folder / "figures.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("value", ["1e160", "1e308", "1000000000001"])
def test_a_huge_figure_is_refused_at_its_cell(tmp_path: Path, value: str) -> None:
    """A figure above 1,000,000,000,000 is refused at file:line:col, exit 1 (it overflowed the p-value code)."""
    figures = _figures_with(tmp_path, value)
    run = run_cli("evaluate", HARBOROUGH_RULES, "--figures", figures, "--as-of", "2014-03")
    assert_refused(run, codes=(1,))
    line = figures.read_text(encoding="utf-8").splitlines().index(f"harborough,domestic-burglary,2013-05,{value}") + 1
    assert f"{figures}:{line}:38: the value {value} is too large: figures must be at most 1,000,000,000,000" \
        in run.stderr


def test_the_largest_figure_accepted_still_evaluates(tmp_path: Path) -> None:
    """At the top of the range (10^12) the statistics still work: exit 0, a real rise found."""
    figures = _figures_with(tmp_path, "1000000000000")
    run = run_cli("evaluate", HARBOROUGH_RULES, "--figures", figures, "--as-of", "2014-03")
    assert run.exit_code == 0, run.output
    assert "real rise" in next(line for line in run.stdout.splitlines() if line.startswith("Domestic Burglary"))


def test_the_p_value_code_takes_huge_counts_without_overflow() -> None:
    """The exact tests stay finite for counts far beyond any figure accepted."""
    assert 0.0 <= binomial_p_value(10**160, 2 * 10**160 + 5, 0.5) <= 1.0
    assert significance_of_change(1e160, 1e159).verdict == "significant_increase"


@pytest.mark.parametrize(("entry", "message"), [
    ({"area": "harborough", "measure": "domestic-burglary", "from": "2200-12", "values": [1, 2]},
     "'2200-12' is not a plausible month: the year must be 1900 to 2199"),
    ({"area": "harborough", "measure": "domestic-burglary", "from": "2199-11", "values": [1, 2, 3]},
     "this run of 3 months starting 2199-11 goes past 2199-12, the last month accepted"),
    ({"area": "harborough", "measure": "domestic-burglary", "period": "1899-12", "value": 1},
     "'1899-12' is not a plausible month: the year must be 1900 to 2199"),
    ({"area": "harborough", "measure": "domestic-burglary", "period": "2014-01", "value": 1e160},
     "the value 1e+160 is too large: figures must be at most 1,000,000,000,000"),
])
def test_a_json_figure_outside_the_ranges_is_refused(tmp_path: Path, entry: dict[str, object],
                                                      message: str) -> None:
    """JSON figures with a month outside 1900-2199 (a run included) or a huge value are refused, exit 1."""
    figures = tmp_path / "figures.json"
    figures.write_text(json.dumps({"figures": [entry]}, indent=1), encoding="utf-8")
    run = run_cli("evaluate", HARBOROUGH_RULES, "--figures", figures)
    assert_refused(run, codes=(1,))
    assert f"{figures}:3:" in run.stderr and message in run.stderr


RULE_FILE = HARBOROUGH_RULES.read_text(encoding="utf-8")


@pytest.mark.parametrize(("old", "new"), [
    ("tolerance: 5 ", "tolerance: 1e308 "),
    ("target: {at_least: 85}", "target: {at_most: 1e308}"),
    ("target: {change: -13%}", "target: {at_least: -1e13}"),
])
def test_a_number_outside_the_range_is_refused_by_check_and_explain(tmp_path: Path, old: str, new: str) -> None:
    """Targets and tolerances beyond 10^12 either way are refused at file:line:col by check and explain."""
    assert old in RULE_FILE
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULE_FILE.replace(old, new, 1), encoding="utf-8")
    line = next(i for i, text in enumerate(rules.read_text(encoding="utf-8").splitlines(), 1) if new in text)
    for command in ("check", "explain"):
        run = run_cli("rules", command, rules)
        assert_refused(run, codes=(1,))
        assert f"{rules}:{line}:" in run.stderr
        assert "is outside the range accepted: numbers must be between -1,000,000,000,000 and " \
               "1,000,000,000,000" in run.stderr


@pytest.mark.parametrize("population", ["1e-300", "1e308", "0.5"])
def test_a_peer_population_outside_the_range_is_refused(tmp_path: Path, population: str) -> None:
    """Peer populations must be 1 to 10,000,000,000: 1e-300 and 1e308 overflowed the rates."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULE_FILE + "statistics:\n  peers:\n"
                     f"    populations: {{harborough: {population}, blaby: 100000}}\n"
                     "    groups: {leicestershire: [harborough, blaby]}\n", encoding="utf-8")
    line = len(RULE_FILE.splitlines()) + 3
    run = run_cli("rules", "check", rules)
    assert_refused(run, codes=(1,))
    assert f"{rules}:{line}:" in run.stderr


def _state_store(tmp_path: Path) -> Path:
    state = tmp_path / "state.db"
    run = run_cli("decide", HARBOROUGH_RULES, ALERTS, "--figures", HARBOROUGH_FIGURES, "--as-of", "2014-03",
                  "--state", state)
    assert run.exit_code == 0, run.output
    return state


@pytest.mark.parametrize(("statement", "shown"), [
    ("UPDATE schema_version SET version = 'abc'", "schema_version table gives no version number"),
    ("UPDATE alert_states SET recipients = 'not json'", "a row of the state store's alert_states table is damaged"),
    ("UPDATE alert_states SET last_notified_at = 'yesterday' WHERE last_notified_at IS NOT NULL",
     "a row of the state store's alert_states table is damaged"),
    ("UPDATE alert_states SET state = 'exploded'", "a row of the state store's alert_states table is damaged"),
])
def test_a_corrupt_state_store_exits_3_not_70(tmp_path: Path, statement: str, shown: str) -> None:
    """A hand-edited or damaged state row stops the run with exit 3 and says which table, not an internal error."""
    state = _state_store(tmp_path)
    with sqlite3.connect(state) as connection:
        assert connection.execute(statement).rowcount > 0
    run = run_cli("alerts", "--state", state)
    assert_refused(run, codes=(3,))
    assert shown in run.stderr


def test_half_a_character_in_json_is_refused_where_it_is(tmp_path: Path) -> None:
    """A JSON string spelling an unpaired surrogate (found by the fuzz test) is refused at file:line:col, exit 1."""
    figures = tmp_path / "figures.json"
    figures.write_text('[{"area": "harborough", "measure": "domestic-burglary",\n'
                       ' "period": "2014-01", "value": 1, "note\\ud800": 2}]', encoding="utf-8")
    run = run_cli("evaluate", HARBOROUGH_RULES, "--figures", figures)
    assert_refused(run, codes=(1,))
    assert f"{figures}:2:35: this text holds half of a character" in run.stderr


def test_a_corrupt_outbox_row_exits_3_not_70(tmp_path: Path) -> None:
    """outbox with a damaged message row says which table is damaged and exits 3."""
    config = write_config(tmp_path, """
        delivery:
          from: "Harborough CSP monitor <csp-monitor@example.org>"
          folder: sent/
        """)
    sent = run_cli("send", "--config", config, "--as-of", "2014-03", "--only", "summary")
    assert sent.exit_code == 0, sent.output
    with sqlite3.connect(tmp_path / "csp-monitor.db") as connection:
        assert connection.execute("UPDATE outbox SET recipients = '{not json'").rowcount == 1
    run = run_cli("outbox", "--config", config)
    assert_refused(run, codes=(3,))
    assert "a row of the state store's outbox table is damaged" in run.stderr


def _display_name_partnership(folder: Path, port: int) -> Path:
    """Harborough's rules and alerts with an owner and the board written with display names, delivering to ``port``."""
    rules = folder / "rules.yaml"
    rules.write_text(HARBOROUGH_RULES.read_text(encoding="utf-8").replace(
        "owner: acquisitive.crime@example.org", 'owner: "Smith, John <acquisitive.crime@example.org>"'),
        encoding="utf-8")
    alerts = folder / "alerts.yaml"
    alerts.write_text(ALERTS.read_text(encoding="utf-8").replace(
        "board: [csp-board@example.org, analyst@example.org]",
        'board: ["Board, CSP <csp-board@example.org>", "Dr. Who <analyst@example.org>"]'), encoding="utf-8")
    return write_config(folder, smtp_delivery(port), rules=(rules, alerts), extra=(
        "timezone: Europe/London\nschedules:\n"
        '  - {id: monthly-summary, cron: "0 7 10 * *", run: summary}\n'
        '  - {id: weekly-alerts, cron: "30 8 * * mon", run: alerts}\n'))


@pytest.mark.parametrize("command", ["send", "run-once"])
def test_every_message_to_display_names_arrives_over_real_smtp(tmp_path: Path, command: str) -> None:
    """With an owner and the board written as 'Smith, John <...>' and 'Dr. Who <...>', send and run-once deliver
    every message the dry run lists (the summary and each alert), exit 0: none is stopped by another."""
    with LoopbackSmtp() as server:
        config = _display_name_partnership(tmp_path, server.port)
        planned = run_cli("send", "--config", config, "--as-of", "2014-03", "--dry-run", tmp_path / "planned")
        assert planned.exit_code == 0, planned.output
        expected = sorted(line.split("' to ", 1)[1].split(": written to", 1)[0]
                          for line in planned.stdout.splitlines() if line.startswith("would send "))
        assert len(expected) == 6 and any("acquisitive.crime@example.org" in to for to in expected)
        run = run_cli(command, "--config", config, "--as-of", "2014-03")
        assert run.exit_code == 0, run.output
        received = list(server.received)
    assert sorted(", ".join(r.rcpt_tos) for r in received) == expected
    for message in (r.message for r in received):
        names = {address.addr_spec: address.display_name for address in message["To"].addresses}
        assert names.get("csp-board@example.org", "Board, CSP") == "Board, CSP"
        assert names.get("analyst@example.org", "Dr. Who") == "Dr. Who"
        assert names.get("acquisitive.crime@example.org", "Smith, John") == "Smith, John"
