"""``send``, ``preview``, ``report`` and ``outbox`` on the command line, with folder delivery."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES, ROOT, CliResult
from tests.delivery_fixtures import write_config
from tests.mail_fixtures import free_port

Cli = Callable[..., CliResult]
FOLDER = """
    delivery:
      from: "Harborough CSP monitor <csp-monitor@example.org>"
      folder: sent/
    """


def test_send_delivers_then_a_rerun_sends_nothing_new(cli: Cli, tmp_path: Path) -> None:
    """The first run prints what went to whom; the second, for the same month, sends nothing."""
    config = write_config(tmp_path, FOLDER)
    first = cli("send", "--config", config, "--as-of", "2014-03", "--now", "2014-04-10T07:00")
    assert first.exit_code == 0, first.stderr
    lines = first.stdout.splitlines()
    assert any(line.startswith("sent summary 'Harborough District Community Safety Partnership risk summary, "
                               "March 2014") and "to csp-board@example.org, analyst@example.org" in line
               for line in lines)
    assert any(line.startswith("sent alert ") and "to acquisitive.crime@example.org" in line for line in lines)
    written = sorted(path.suffix for path in (tmp_path / "sent").iterdir())
    assert written.count(".eml") == written.count(".html") == len(lines)
    second = cli("send", "--config", config, "--as-of", "2014-03", "--now", "2014-04-10T08:00")
    assert (second.exit_code, second.stdout) == (0, "nothing new to send for 2014-03\n")


def test_a_dry_run_writes_the_messages_and_records_nothing(cli: Cli, tmp_path: Path) -> None:
    """--dry-run writes .eml and .html files, creates no state store, and a real send still sends everything."""
    config = write_config(tmp_path, FOLDER)
    dry = cli("send", "--config", config, "--as-of", "2014-03", "--dry-run", tmp_path / "dry")
    assert dry.exit_code == 0, dry.stderr
    assert not (tmp_path / "csp-monitor.db").exists()
    emls = sorted((tmp_path / "dry").glob("*.eml"))
    assert emls and len(list((tmp_path / "dry").glob("*.html"))) == len(emls)
    assert all(line.startswith("would send ") for line in dry.stdout.splitlines())
    real = cli("send", "--config", config, "--as-of", "2014-03")
    assert real.exit_code == 0 and real.stdout.count("\nsent ") + real.stdout.startswith("sent ") == len(emls)


def test_preview_renders_the_summary_even_after_it_was_sent(cli: Cli, tmp_path: Path) -> None:
    """preview shows the exact messages without deciding: the summary is there whatever the outbox holds."""
    config = write_config(tmp_path, FOLDER)
    assert cli("send", "--config", config, "--as-of", "2014-03").exit_code == 0
    preview = cli("preview", "--config", config, "--as-of", "2014-03", "--out", tmp_path / "preview")
    assert preview.exit_code == 0, preview.stderr
    assert preview.stdout.startswith("summary 'Harborough District Community Safety Partnership risk summary")
    html = next((tmp_path / "preview").glob("*.html")).read_text(encoding="utf-8")
    assert "cid:" not in html  # the preview embeds its images
    again = cli("send", "--config", config, "--as-of", "2014-03")
    assert again.stdout == "nothing new to send for 2014-03\n"  # the preview decided nothing


def test_report_writes_one_standalone_html_file(cli: Cli, tmp_path: Path) -> None:
    """report writes the HTML report and says what it found."""
    out = tmp_path / "report.html"
    result = cli("report", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--as-of", "2014-03", "--out", out,
                 "--no-charts")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (f"wrote {out}: Of 6 measures with a target, 4 red, 0 amber and 2 green; 4 more are "
                             "monitored without a target.\n")
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "Performance against targets, by priority" in text


def test_outbox_lists_sent_messages_as_a_table_or_json(cli: Cli, tmp_path: Path) -> None:
    """outbox shows each message's status, recipients and the delivery reply."""
    config = write_config(tmp_path, FOLDER)
    cli("send", "--config", config, "--as-of", "2014-03", "--only", "summary", "--now", "2014-04-10T07:00")
    table = cli("outbox", "--config", config)
    assert table.exit_code == 0
    assert table.stdout.splitlines()[0].startswith("#1 SENT     summary 2014-03  Harborough District")
    assert table.stdout.splitlines()[-1] == "1 sent"
    rows = json.loads(cli("outbox", "--config", config, "--format", "json").stdout)
    assert [(row["status"], row["kind"], row["sent_at"]) for row in rows] == [("sent", "summary",
                                                                                "2014-04-10T07:00:00Z")]


def test_an_undeliverable_message_exits_non_zero_and_stays_queued(cli: Cli, tmp_path: Path) -> None:
    """With the mail server down, send says so, exits 1, and outbox shows the message waiting."""
    config = write_config(tmp_path, f"""
        delivery:
          from: "Harborough CSP monitor <csp-monitor@example.org>"
          smtp: {{host: 127.0.0.1, port: {free_port()}, security: none, timeout: 5}}
        """)
    result = cli("send", "--config", config, "--as-of", "2014-03", "--only", "summary", "--now", "2014-04-10T07:00")
    assert result.exit_code == 1
    assert "refused the connection" in result.stdout and "could not be delivered" in result.stderr
    assert "QUEUED" in cli("outbox", "--config", config).stdout


def test_a_bad_configuration_is_reported_without_a_traceback(cli: Cli, tmp_path: Path) -> None:
    """Configuration mistakes are file:line:col messages and exit code 1."""
    config = write_config(tmp_path, FOLDER.replace("folder: sent/", "foldr: sent/"))
    result = cli("send", "--config", config)
    assert result.exit_code == 1
    assert f"{config}:6:3: unknown key 'foldr' (did you mean 'folder'?)" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_bundled_example_configuration_loads(tmp_path: Path) -> None:
    """examples/harborough/csp-monitor.yaml names real files and needs no mail server."""
    from csp_monitor.load.config import figure_files, load_config

    config = load_config(ROOT / "examples" / "harborough" / "csp-monitor.yaml")
    assert config.delivery.method == "folder"
    assert figure_files(config) == [str(HARBOROUGH_FIGURES)]


def test_a_month_without_figures_is_refused_before_anything_is_queued(tmp_path: Path) -> None:
    """send --as-of a month after the latest figures (or before the first), in a process of its own, exits 1
    naming the months there are, and queues and writes nothing: it used to send a 'risk summary, April 2014'
    with none of April in it, and April's real summary would then never have gone."""
    from tests.security.bounded_cli import run_cli

    config = write_config(tmp_path, "delivery:\n  from: m@example.org\n  folder: sent/\n")
    for month, where in (("2014-04", "the latest figures for the rules' measures are for 2014-03"),
                         ("2009-01", "the figures for the rules' measures start in ")):
        for dry in ((), ("--dry-run", tmp_path / "dry")):
            run = run_cli("send", "--config", config, "--as-of", month, *dry)
            assert run.exit_code == 1, run.output
            assert f"--as-of: there are no figures for {month}: {where}" in run.stderr
    assert not (tmp_path / "csp-monitor.db").exists()
    assert not (tmp_path / "sent").exists() and not (tmp_path / "dry").exists()
