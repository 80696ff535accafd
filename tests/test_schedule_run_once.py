"""run-once: every schedule's job, once, now, through the daemon's job function, recorded in the ledger."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest

from csp_monitor.schedule import ledger
from csp_monitor.schedule.configuration import load_schedule_config
from csp_monitor.schedule.jobs import config_for
from csp_monitor.state import open_store
from tests.conftest import CliResult
from tests.daemon_fixtures import add_month, write_partnership

SCHEDULES = """\
schedules:
  - id: monthly-summary
    cron: "0 7 10 * *"
    run: summary
  - id: weekly-exceptions
    cron: "30 8 * * mon"
    run: alerts
"""


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """run-once sets up logging on stderr; put it back so later tests are not writing to a closed capture."""
    logger = logging.getLogger("csp_monitor")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


def test_run_once_sends_the_summary_and_the_alerts_and_says_where(tmp_path: Path, cli: Callable[..., CliResult]
                                                                  ) -> None:
    """Each schedule's job runs once; the output names every message and the file it was written to."""
    config = write_partnership(tmp_path, schedules=SCHEDULES)
    add_month(tmp_path, "2020-04")
    result = cli("run-once", "--config", config)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "monthly-summary (summary): as of 2020-04, queued 1 (1 summary), sent 1 (1 summary)"
    assert lines[1].startswith("  sent summary 'Testshire Community Safety Partnership risk summary, April 2020")
    assert lines[2] == "weekly-exceptions (alerts): as of 2020-04, queued 3 (3 alerts), sent 3 (3 alerts)"
    assert len([line for line in lines if "(written to " in line]) == 4
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 4
    with open_store(tmp_path / "state.db") as store:
        rows = ledger.runs_of(store)
    assert [(r.job_id, r.reason, r.outcome) for r in rows] == [
        ("monthly-summary", "manual", "succeeded"), ("weekly-exceptions", "manual", "succeeded")]
    assert all(r.occurrence.startswith("manual ") for r in rows)

    again = cli("run-once", "--config", config)
    assert again.exit_code == 0
    assert "  nothing new to send for 2020-04" in again.stdout.splitlines()
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 4


def test_a_failing_job_is_reported_and_the_exit_code_says_so(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    """A job that cannot read its figures fails with the file, line and column; run-once exits 1."""
    config = write_partnership(tmp_path, schedules=SCHEDULES)
    (tmp_path / "figures" / "2020-04.csv").write_text(
        "area,measure,period,value\ntestshire,satisfaction-a,2020-04,lots\n", encoding="utf-8")
    result = cli("run-once", "--config", config)
    assert result.exit_code == 1
    failed = [line for line in result.stdout.splitlines() if "FAILED" in line]
    assert len(failed) == 2 and all("2020-04.csv:2:" in line for line in failed)
    with open_store(tmp_path / "state.db") as store:
        assert [r.outcome for r in ledger.runs_of(store)] == ["failed", "failed"]


def test_a_summary_schedule_can_name_its_own_recipients(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    """A summary schedule's 'to' replaces the summary's recipients for its runs."""
    config = write_partnership(tmp_path, schedules=SCHEDULES.replace(
        "    run: summary\n", "    run: summary\n    to: [owners]\n"))
    text = config.read_text(encoding="utf-8")
    (tmp_path / "rules.yaml").write_text((tmp_path / "rules.yaml").read_text(encoding="utf-8").replace(
        "recipients:\n", "recipients:\n  owners: [owner@example.org]\n"), encoding="utf-8")
    settings = load_schedule_config(config)
    assert settings.summary is not None and settings.summary.to == ("board",)
    assert config_for(settings, settings.schedules[0]).summary.to == ["owners"]  # type: ignore[union-attr]
    assert config_for(settings, settings.schedules[1]) is settings
    add_month(tmp_path, "2020-04")
    assert cli("run-once", "--config", config).exit_code == 0
    summaries = [message_from_bytes(path.read_bytes(), policy=default) for path in (tmp_path / "outbox").glob("*.eml")]
    summaries = [m for m in summaries if "risk summary" in str(m["Subject"])]
    assert [str(m["To"]) for m in summaries] == ["owner@example.org"]
    assert text == config.read_text(encoding="utf-8")


def test_a_schedule_naming_an_unknown_list_is_refused_at_its_position(tmp_path: Path,
                                                                      cli: Callable[..., CliResult]) -> None:
    """'to' must name recipient lists of the rules: a misspelt one is reported with a suggestion."""
    config = write_partnership(tmp_path, schedules=SCHEDULES.replace(
        "    run: summary\n", "    run: summary\n    to: [bord]\n"))
    result = cli("run-once", "--config", config)
    assert result.exit_code == 1
    line = next(n for n, text in enumerate(config.read_text().splitlines(), start=1) if "[bord]" in text)
    assert (f"{config}:{line}:10: the schedule 'monthly-summary' sends to 'bord', but the rules name no "
            "recipients list 'bord' (did you mean 'board'?)") in result.stderr
