"""A council tool written against the public API only type-checks with mypy --strict and runs for real.

``examples/council-tool/monthly_job.py`` is what a developer of another council tool writes: figures from
its own database as Python data, rules from text and from data, evaluate, decide against a SQLite store,
render the HTML report, plan, send through a mail server and read the history. Here it runs against the
bundled Harborough example, a real SQLite warehouse and a real SMTP server (aiosmtpd) on 127.0.0.1.
"""

from __future__ import annotations

import csv
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import HARBOROUGH_ALERTS, HARBOROUGH_FIGURES, HARBOROUGH_RULES, ROOT
from tests.mail_fixtures import LoopbackSmtp

SCRIPT = ROOT / "examples" / "council-tool" / "monthly_job.py"


def _mypy_strict(tmp_path: Path, *files: Path) -> tuple[int, str]:
    """mypy --strict (with the pydantic plugin) over ``files``, finding csp_monitor in the worktree as a user would."""
    from mypy import api

    config = tmp_path / "mypy.ini"
    config.write_text(f"[mypy]\nstrict = True\nplugins = pydantic.mypy\nmypy_path = {ROOT}\n"
                      "[mypy-apscheduler.*,css_inline.*,openpyxl.*,matplotlib.*,pyarrow.*,isal.*]\n"
                      "ignore_missing_imports = True\n", encoding="utf-8")
    stdout, stderr, status = api.run(["--config-file", str(config), "--cache-dir", str(ROOT / ".mypy_cache"),
                                      "--no-error-summary", *map(str, files)])
    return status, stdout + stderr


def _warehouse(path: Path) -> Path:
    """The council's own database: the Harborough figures in a table of its own design."""
    lines = [line for line in HARBOROUGH_FIGURES.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE monthly_crime (area TEXT, measure TEXT, month TEXT, count INTEGER)")
        connection.executemany("INSERT INTO monthly_crime VALUES (?, ?, ?, ?)",
                               [(row["area"], row["measure"], row["period"], int(row["value"]))
                                for row in csv.DictReader(lines)])
    connection.close()
    return path


def test_the_council_tool_passes_mypy_strict_with_no_ignore_cast_or_internal_import(tmp_path: Path) -> None:
    """The script type-checks strictly, and needs no csp_monitor.<module> import, cast, Any or type: ignore."""
    source = SCRIPT.read_text(encoding="utf-8")
    for crutch in ("from csp_monitor.", "import csp_monitor.", "cast(", "type: ignore", "Any"):
        assert crutch not in source, crutch
    status, output = _mypy_strict(tmp_path, SCRIPT)
    assert status == 0, output


def test_a_name_csp_monitor_does_not_export_is_a_type_error(tmp_path: Path) -> None:
    """Regression: the lazy ``__getattr__`` made every unknown import an untyped Any; mypy now reports it."""
    code = tmp_path / "typo.py"
    code.write_text("from csp_monitor import evalute, StateStore\n\n\ndef f(store: StateStore) -> None:\n"
                    "    store.close()\n", encoding="utf-8")
    status, output = _mypy_strict(tmp_path, code)
    assert status == 1 and 'Module "csp_monitor" has no attribute "evalute"' in output, output
    assert output.count("error:") == 1, output


def test_the_council_tool_runs_against_harborough_and_a_real_mail_server(tmp_path: Path) -> None:
    """Run for real: the report is written, the board gets its summary and alerts by SMTP, the history records them."""
    rules_folder = tmp_path / "rules"
    rules_folder.mkdir()
    for path in (HARBOROUGH_RULES, HARBOROUGH_ALERTS):
        shutil.copy(path, rules_folder / path.name)
    work = tmp_path / "work"
    work.mkdir()
    warehouse = _warehouse(tmp_path / "warehouse.sqlite")
    with LoopbackSmtp() as server:
        run = subprocess.run([sys.executable, str(SCRIPT), str(warehouse), str(rules_folder), str(work),
                              str(server.port)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
        received = list(server.received)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert "harborough/domestic-burglary: red (+65.4%) significant" in lines, run.stdout
    assert any(line.startswith("notice for csp-board@example.org about total-crime") for line in lines), run.stdout
    report = (work / "report.html").read_text(encoding="utf-8")
    assert report.startswith("<!DOCTYPE html>") and "Domestic Burglary" in report
    subjects = {message.message["Subject"] for message in received}
    assert any("March 2014" in subject for subject in subjects), subjects
    assert any(line.startswith("would send summary") for line in lines), run.stdout
    assert any(line.startswith("would send alert") for line in lines), run.stdout
    sent, _, history = lines[-1].partition(", ")
    assert sent == f"{len(received)} sent" and len(received) > 1, run.stdout
    assert history.endswith(" history entries") and int(history.split()[0]) > len(received), run.stdout
    assert "csp-board@example.org" in {address for message in received for address in message.rcpt_tos}


def test_rule_data_reads_back_as_the_same_rules() -> None:
    """RuleSet.rule_data() is rule-file data that rules_from_data turns back into the same rules."""
    from csp_monitor import load_rules, rules_from_data

    rules = load_rules([HARBOROUGH_RULES, HARBOROUGH_ALERTS])
    again = rules_from_data(rules.rule_data())
    assert again.model_dump(exclude={"files", "content_hash"}) == rules.model_dump(exclude={"files", "content_hash"})


def test_config_from_data_gets_a_files_checks_located_by_key_path(tmp_path: Path) -> None:
    """config_from_data reports every problem as a ConfigError at its key path, never a pydantic ValidationError."""
    import pytest

    from csp_monitor import ConfigError, config_from_data

    with pytest.raises(ConfigError) as caught:
        config_from_data({"rules": ["missing.yaml"], "figures": [], "state": "s.db",
                          "delivery": {"smtp": {"host": "127.0.0.1", "port": "twenty-five"}}, "sumary": {}},
                         base=tmp_path)
    assert sorted(problem.location() for problem in caught.value.problems) == [
        "<config>:delivery.smtp.port", "<config>:figures", "<config>:sumary"]
    config = config_from_data({"rules": [HARBOROUGH_RULES.name], "figures": ["*.csv"], "state": "s.db"},
                              base=HARBOROUGH_RULES.parent)
    assert config.rules == (str(HARBOROUGH_RULES),) and config.state == str(HARBOROUGH_RULES.parent / "s.db")


def test_plan_messages_and_send_once_take_a_tools_own_rules_and_figures(tmp_path: Path) -> None:
    """Given rules= and figures=, a dry run plans from them and never reads the configuration's figure files."""
    from datetime import UTC, datetime

    from csp_monitor import (
        ArgumentError,
        MessagePlan,
        config_from_data,
        load_figures,
        load_rules,
        plan_messages,
    )

    config = config_from_data({"rules": [str(HARBOROUGH_RULES)], "figures": ["no-such-file.csv"],
                               "state": str(tmp_path / "s.db"), "summary": {"to": ["board"], "charts": False}},
                              base=tmp_path)
    rules = load_rules([HARBOROUGH_RULES, HARBOROUGH_ALERTS])
    plan = plan_messages(config, as_of="2014-03", now=datetime(2014, 4, 10, tzinfo=UTC), rules=rules,
                         figures=load_figures(HARBOROUGH_FIGURES))
    assert plan.as_of == "2014-03" and plan.messages[0].kind == "summary"
    assert MessagePlan.model_validate_json(plan.model_dump_json()) == plan
    import pytest

    with pytest.raises(ArgumentError, match="figures must be a FigureSet"):
        plan_messages(config, as_of="2014-03", figures=[], rules=rules)  # type: ignore[arg-type]


def test_render_report_gives_the_html_page_the_report_command_writes(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """render_report(rules, figures, evaluation) is the page `csp-monitor report` writes, byte for byte."""
    from csp_monitor import evaluate, load_figures, load_rules, render_report

    rules, figures = load_rules(HARBOROUGH_RULES), load_figures(HARBOROUGH_FIGURES)
    html = render_report(rules, figures, evaluate(rules, figures, as_of="2014-03"), charts=False)
    out = cli("report", str(HARBOROUGH_RULES), "--figures", str(HARBOROUGH_FIGURES), "--as-of", "2014-03",
              "--no-charts", "--out", str(tmp_path / "report.html"))
    assert out.exit_code == 0, out.stderr
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == html
