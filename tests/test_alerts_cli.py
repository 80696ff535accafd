"""The alert commands: decide, alerts, silence and history, on the Harborough example and a real SQLite store."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from csp_monitor import evaluate, load_figures, load_rules, open_store
from tests.conftest import HARBOROUGH_ALERTS, HARBOROUGH_FIGURES, HARBOROUGH_RULES, ROOT

DECIDE = ("decide", HARBOROUGH_RULES, HARBOROUGH_ALERTS, "--figures", HARBOROUGH_FIGURES, "--as-of", "2014-03")
OWNERS = {"total-crime": "community.safety@example.org", "violence-with-injury": "violence@example.org",
          "domestic-burglary": "acquisitive.crime@example.org",
          "theft-of-motor-vehicle": "acquisitive.crime@example.org"}


def expected_key(alert: str, area: str, measure: str, period: str, kind: str) -> str:
    """The notification key as the issue defines it, worked out here independently."""
    identity = "\x1f".join(("csp-monitor-notification-v1", alert, area, measure, period, kind))
    return hashlib.sha256(identity.encode()).hexdigest()


def test_decide_prints_the_notices_due_as_json_then_nothing_the_second_time(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """The first decide for March 2014 tells owners and the board of the four red measures and the board of the
    significant rise in domestic burglary; the second decide tells nobody."""
    state = tmp_path / "state.db"
    first = cli(*DECIDE, "--state", state, "--format", "json", "--now", "2014-04-10T07:00")
    assert first.exit_code == 0, first.stderr
    decision = json.loads(first.stdout)
    rules = load_rules([HARBOROUGH_RULES, HARBOROUGH_ALERTS])
    results = evaluate(rules, load_figures(HARBOROUGH_FIGURES), as_of="2014-03")
    red = [r.measure for r in results.results if r.status == "red"]
    assert red == ["total-crime", "domestic-burglary", "theft-of-motor-vehicle", "violence-with-injury"]
    burglary = results.get("harborough", "domestic-burglary")
    assert burglary is not None and burglary.significance is not None
    assert burglary.significance.verdict == "significant_increase"
    assert decision == {
        "as_of": "2014-03",
        "notifications": [{
            "key": expected_key("off-target", "harborough", measure, "2014-03", "firing"),
            "alert": "off-target", "kind": "firing", "area": "harborough", "measure": measure, "period": "2014-03",
            "recipients": [OWNERS[measure], "csp-board@example.org", "analyst@example.org"],
            "message": results.get("harborough", measure).summary,  # type: ignore[union-attr]
        } for measure in red] + [{
            "key": expected_key("real-rise", "harborough", "domestic-burglary", "2014-03", "firing"),
            "alert": "real-rise", "kind": "firing", "area": "harborough", "measure": "domestic-burglary",
            "period": "2014-03", "recipients": ["csp-board@example.org", "analyst@example.org"],
            "message": burglary.summary,
        }],
        "alerts": [{"alert": "off-target", "area": "harborough", "measure": measure, "state": "firing",
                    "since": "2014-03"} for measure in red] + [
            {"alert": "real-rise", "area": "harborough", "measure": "domestic-burglary", "state": "firing",
             "since": "2014-03"}],
    }
    second = cli(*DECIDE, "--state", state, "--format", "json", "--now", "2014-04-10T08:00")
    assert second.exit_code == 0
    assert json.loads(second.stdout) == {**decision, "notifications": []}


def test_decide_runs_as_the_installed_command(tmp_path: Path) -> None:
    """The console script decides, records, and says nothing new on a rerun (a real process each time)."""
    state = tmp_path / "state.db"
    script = [str(Path(sys.executable).parent / "csp-monitor"), *map(str, DECIDE), "--state", str(state)]
    runs = [subprocess.run(script, cwd=ROOT, capture_output=True, text=True, timeout=120,
                           env={**os.environ, "NO_COLOR": "1"}) for _ in range(2)]
    assert [run.returncode for run in runs] == [0, 0], runs[0].stderr
    assert "5 notices due:" in runs[0].stdout
    assert "No notices due: nothing new to tell anyone." in runs[1].stdout
    assert runs[0].stderr == runs[1].stderr == ""


def test_the_state_store_can_come_from_the_environment(tmp_path: Path, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """CSP_MONITOR_STATE names the store when --state is not given."""
    monkeypatch.setenv("CSP_MONITOR_STATE", str(tmp_path / "env.db"))
    assert cli(*DECIDE, "--now", "2014-04-10T07:00").exit_code == 0
    assert (tmp_path / "env.db").exists()


def test_a_damaged_store_exits_3_with_a_plain_message_and_is_not_touched(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """decide against a file that is not a store exits 3, says why on stderr, and leaves the file as it was."""
    state = tmp_path / "state.db"
    state.write_bytes(b"not a database\n" * 100)
    out = cli(*DECIDE, "--state", state)
    assert out.exit_code == 3
    assert out.stdout == ""
    assert out.stderr == (f"error: {state} is not a csp-monitor state store: it is not a SQLite database (it may be "
                          "damaged, or another kind of file); it was left as it is: restore it from a backup, or give "
                          "a new file name\n")
    assert state.read_bytes() == b"not a database\n" * 100


def test_bad_alert_rules_exit_1_before_the_store_is_opened(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A located alert problem exits 1 and creates no store."""
    alerts = tmp_path / "alerts.yaml"
    alerts.write_text("alerts:\n  - id: a\n    when: {status: [rde]}\n    notify: [owner]\n", encoding="utf-8")
    out = cli("decide", HARBOROUGH_RULES, alerts, "--figures", HARBOROUGH_FIGURES, "--state", tmp_path / "s.db")
    assert out.exit_code == 1
    assert f"{alerts}:3:21: 'rde' is not allowed for 'status'" in out.stderr
    assert not (tmp_path / "s.db").exists()


def test_a_bad_now_is_a_usage_error(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """--now that is not a date and time exits 2."""
    out = cli(*DECIDE, "--state", tmp_path / "s.db", "--now", "tomorrow")
    assert out.exit_code == 2 and "'tomorrow' is not a date and time" in out.stderr


def test_alerts_lists_what_is_firing_with_reasons_and_silences(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """After a decision and a silence, alerts shows each firing alert, whom it told and the silence's reason."""
    state = tmp_path / "state.db"
    cli(*DECIDE, "--state", state, "--now", "2014-04-10T07:00")
    added = cli("silence", "add", "--state", state, "--until", "2014-05-31", "--reason", "Operation Nightjar",
                "--by", "Jo Bloggs", "--measure", "domestic-burglary", "--now", "2014-04-11T09:00")
    assert added.exit_code == 0
    assert added.stdout == "Added silence 1: measure domestic-burglary until 2014-05-31 23:00 UTC.\n"
    out = cli("alerts", "--state", state, "--now", "2014-04-12T00:00")
    assert out.exit_code == 0
    lines = out.stdout.splitlines()
    assert lines[0] == "FIRING (5)"
    assert lines[1] == "  off-target  harborough / domestic-burglary  since 2014-03  [high]"
    # `decide` records the notice but queues no email, so alerts does not claim anyone was told.
    assert lines[3] == ("      last notice 2014-03 (2014-04-10 07:00 UTC) for acquisitive.crime@example.org, "
                        "csp-board@example.org, analyst@example.org: no email queued")
    assert lines[4] == ("      silenced by Jo Bloggs until 2014-05-31 23:00 UTC (silence 1): Operation Nightjar; it "
                        "applies from the next decision")
    as_json = json.loads(cli("alerts", "--state", state, "--format", "json", "--now", "2014-04-12T00:00").stdout)
    assert [(a["alert"], a["measure"], a["state"], a["silence"] and a["silence"]["id"]) for a in as_json] == [
        ("off-target", "domestic-burglary", "firing", 1), ("off-target", "theft-of-motor-vehicle", "firing", None),
        ("off-target", "total-crime", "firing", None), ("off-target", "violence-with-injury", "firing", None),
        ("real-rise", "domestic-burglary", "firing", 1)]


def test_silence_list_and_expire(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A silence is listed while in force, can be ended early by name, and stays listed with --all."""
    state = tmp_path / "state.db"
    open_store(state).close()  # a store made by a first run: silences are added to an existing store
    cli("silence", "add", "--state", state, "--until", "2014-04-30", "--reason", "known", "--by", "Jo",
        "--alert", "off-target", "--now", "2014-04-11T09:00")
    listed = cli("silence", "list", "--state", state, "--now", "2014-04-12T00:00")
    assert listed.stdout == "   1  alert off-target  until 2014-04-30 23:00 UTC  by Jo: known\n"
    ended = cli("silence", "expire", "1", "--state", state, "--by", "Sam", "--now", "2014-04-13T00:00")
    assert ended.exit_code == 0 and ended.stdout == "Ended silence 1 (alert off-target).\n"
    assert cli("silence", "list", "--state", state, "--now", "2014-04-14T00:00").stdout == "No silences.\n"
    everything = json.loads(cli("silence", "list", "--state", state, "--all", "--format", "json").stdout)
    assert [(s["id"], s["expired_by"], s["expired_at"]) for s in everything] == [(1, "Sam", "2014-04-13T00:00:00Z")]
    again = cli("silence", "expire", "1", "--state", state, "--by", "Sam", "--now", "2014-04-14T00:00")
    assert again.exit_code == 1 and "silence 1 has already ended (2014-04-13T00:00:00Z)" in again.stderr


def test_a_silence_longer_than_90_days_is_refused(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """silence add refuses an end more than 90 days ahead, exit 1, with the latest date allowed."""
    open_store(tmp_path / "s.db").close()
    out = cli("silence", "add", "--state", tmp_path / "s.db", "--until", "2015-01-01", "--reason", "x", "--by",
              "Jo", "--area", "harborough", "--now", "2014-04-11T09:00")
    assert out.exit_code == 1
    assert out.stderr.splitlines() == [
        "--until: a silence can last at most 90 days (until 2014-07-10), so that no alert is forgotten: add a new "
        "one when it ends if it is still needed", "1 problem found."]


def test_a_silenced_alert_is_decided_but_not_notified(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """With a silence on domestic burglary, decide records it as silenced and tells nobody about it."""
    state = tmp_path / "state.db"
    open_store(state).close()
    cli("silence", "add", "--state", state, "--until", "2014-05-31", "--reason", "known", "--by", "Jo",
        "--measure", "domestic-burglary", "--now", "2014-04-01T00:00")
    decision = json.loads(cli(*DECIDE, "--state", state, "--format", "json", "--now", "2014-04-10T07:00").stdout)
    assert "domestic-burglary" not in [n["measure"] for n in decision["notifications"]]
    assert {"alert": "off-target", "area": "harborough", "measure": "domestic-burglary", "state": "silenced",
            "since": "2014-03"} in decision["alerts"]


def test_history_shows_who_was_told_what_under_which_rules(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """history lists each notice with its recipients and the rule set's hash."""
    state = tmp_path / "state.db"
    cli(*DECIDE, "--state", state, "--now", "2014-04-10T07:00")
    rules = load_rules([HARBOROUGH_RULES, HARBOROUGH_ALERTS])
    entries = json.loads(cli("history", "--state", state, "--format", "json").stdout)
    notified = [e for e in entries if e["event"] == "notified"]
    assert len(notified) == 5 and {e["rule_hash"] for e in notified} == {rules.content_hash}
    assert {e["at"] for e in notified} == {"2014-04-10T07:00:00Z"}
    text = cli("history", "--state", state, "--limit", "1").stdout
    assert text.startswith("2014-04-10 07:00 UTC  ") and f"[rules {rules.content_hash[:12]}]" in text
    assert len(text.splitlines()) == 1


def test_the_commands_are_listed_without_importing_sqlalchemy() -> None:
    """csp-monitor --help lists decide, alerts, silence and history and never imports SQLAlchemy."""
    code = ("import sys; from csp_monitor.cli import run; run(['--help']); "
            "print('sqlalchemy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().endswith("False")
    for name in ("decide", "alerts", "silence", "history"):
        assert f"  {name} " in out.stdout


def test_reading_and_silencing_commands_never_create_a_store(tmp_path: Path) -> None:
    """alerts, history and silence add/list (processes of their own) given a store that is not there (run in
    the wrong folder) exit 3 naming the folder looked in, and create nothing: a silence kept in a new store would
    silence nothing the daemon decides."""
    from tests.security.bounded_cli import run_cli

    for args in (("alerts",), ("history",), ("silence", "list"),
                 ("silence", "add", "--until", "2014-04-30", "--reason", "known", "--by", "Jo", "--alert",
                  "off-target", "--now", "2014-04-11T09:00")):
        run = run_cli(*args, "--state", "csp-monitor.db", cwd=tmp_path)
        assert run.exit_code == 3, run.output
        assert run.stderr == (f"error: there is no state store at csp-monitor.db (looked in {tmp_path}): give the "
                              "path the configuration's 'state:' names (or --config FILE); a store is created by "
                              "the first run (send, run-once or the daemon)\n")
    assert list(tmp_path.iterdir()) == []


def test_alerts_history_and_silences_read_the_store_the_configuration_names(tmp_path: Path) -> None:
    """With --config, from another folder, the commands use the configuration's state store (its path is
    relative to the file), as the daemon does."""
    from tests.delivery_fixtures import write_config
    from tests.security.bounded_cli import run_cli

    config = write_config(tmp_path / "partnership", "delivery:\n  from: m@example.org\n  folder: sent/\n")
    assert run_cli("send", "--config", config, "--as-of", "2014-03", "--now", "2014-04-10T07:00").exit_code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    alerts = run_cli("alerts", "--config", config, cwd=elsewhere)
    assert alerts.exit_code == 0 and alerts.stdout.startswith("FIRING ("), alerts.output
    history = run_cli("history", "--config", config, cwd=elsewhere)
    assert history.exit_code == 0 and "notified" in history.stdout, history.output
    added = run_cli("silence", "add", "--config", config, "--until", "2014-04-30", "--reason", "known", "--by", "Jo",
                    "--measure", "domestic-burglary", "--now", "2014-04-11T09:00", cwd=elsewhere)
    assert added.stdout == "Added silence 1: measure domestic-burglary until 2014-04-30 23:00 UTC.\n", added.output
    assert "measure domestic-burglary" in run_cli("silence", "list", "--config", config, "--now",
                                                  "2014-04-12T00:00", cwd=elsewhere).stdout
    assert list(elsewhere.iterdir()) == []


def test_a_silence_with_a_misspelt_name_is_refused(tmp_path: Path) -> None:
    """silence add refuses an alert, area or measure one slip from one the store knows (did you mean), and with
    --config one the rules do not have; nothing is added. A measure the rules have but that never fired is
    accepted."""
    from tests.delivery_fixtures import write_config
    from tests.security.bounded_cli import run_cli

    config = write_config(tmp_path, "delivery:\n  from: m@example.org\n  folder: sent/\n")
    assert run_cli("send", "--config", config, "--as-of", "2014-03", "--now", "2014-04-10T07:00").exit_code == 0
    state = tmp_path / "csp-monitor.db"
    base = ("silence", "add", "--until", "2014-04-30", "--reason", "known", "--by", "Jo", "--now", "2014-04-11T09:00")
    typo = run_cli(*base, "--state", state, "--alert", "off-targt", "--area", "harborugh")
    assert typo.exit_code == 1
    assert typo.stderr.splitlines() == [
        "--alert: no alert is called 'off-targt', so the silence would silence nothing (did you mean 'off-target'?)",
        "--area: no area is called 'harborugh', so the silence would silence nothing (did you mean 'harborough'?)",
        "2 problems found."]
    unknown = run_cli(*base, "--config", config, "--measure", "burglary")
    assert unknown.exit_code == 1
    assert "--measure: the rules have no measure 'burglary', so the silence would silence nothing: they have " \
        in unknown.stderr
    assert run_cli("silence", "list", "--state", state, "--all").stdout == "No silences.\n"
    quiet = run_cli(*base, "--config", config, "--measure", "user-satisfaction")
    assert quiet.exit_code == 0, quiet.output
