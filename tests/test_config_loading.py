"""The monitor configuration file: the issue's minimum loads; mistakes are located, in plain English."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from csp_monitor.errors import ConfigError
from csp_monitor.load.config import figure_files, load_config, read_password, summary_recipients
from tests.conftest import HARBOROUGH_FIGURES, ROOT

MINIMUM = """\
rules: [../rules/harborough-2013-14.yaml]
figures: [figures/*.csv]
state: csp-monitor.db              # a SQLite path or an SQLAlchemy URL
delivery:
  from: "Harborough CSP monitor <csp-monitor@example.org>"
  smtp: {host: 127.0.0.1, port: 8025, security: none}   # none (loopback only) | starttls | tls; username and password_env optional
  # folder: outbox/                # instead of smtp: write .eml and .html files, the embedded default
summary:
  to: [board]                      # recipient lists named in the rules
"""


def _project(tmp_path: Path, config: str, name: str = "csp-monitor.yaml") -> Path:
    """A folder laid out like the issue's example: rules/ beside the config's folder, figures/ inside it."""
    (tmp_path / "rules").mkdir(exist_ok=True)
    (tmp_path / "rules" / "harborough-2013-14.yaml").write_text(
        (ROOT / "rules" / "harborough-2013-14.yaml").read_text(encoding="utf-8")
        + "recipients:\n  board: [csp-board@example.org, analyst@example.org]\n", encoding="utf-8")
    monitor = tmp_path / "monitor"
    (monitor / "figures").mkdir(parents=True, exist_ok=True)
    (monitor / "figures" / "2013.csv").write_bytes(HARBOROUGH_FIGURES.read_bytes())
    path = monitor / name
    path.write_text(config, encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [str(problem) for problem in caught.value.problems]


def test_the_issues_minimum_loads_as_written(tmp_path: Path) -> None:
    """The example from the issue loads, with every path relative to the configuration file."""
    path = _project(tmp_path, MINIMUM)
    config = load_config(path)
    assert config.rules == (str(tmp_path / "rules" / "harborough-2013-14.yaml"),)
    assert config.state == str(path.parent / "csp-monitor.db")
    assert figure_files(config) == [str(path.parent / "figures" / "2013.csv")]
    smtp = config.delivery.smtp
    assert smtp is not None and (smtp.host, smtp.effective_port, smtp.security) == ("127.0.0.1", 8025, "none")
    assert config.delivery.from_ == "Harborough CSP monitor <csp-monitor@example.org>"
    from csp_monitor.load.rules import load_rules

    rules = load_rules(config.rules)
    assert summary_recipients(config, rules.recipients) == ("csp-board@example.org", "analyst@example.org")


def test_without_delivery_messages_go_to_an_outbox_folder_beside_the_file(tmp_path: Path) -> None:
    """The embedded default needs no mail server: a folder named outbox next to the configuration."""
    path = _project(tmp_path, "rules: ../rules/harborough-2013-14.yaml\nfigures: figures/2013.csv\n"
                              "state: csp-monitor.db\n")
    config = load_config(path)
    assert config.delivery.method == "folder"
    assert config.delivery.folder == str(path.parent / "outbox")
    assert config.summary is None


def test_a_database_url_is_kept_as_it_is(tmp_path: Path) -> None:
    """An SQLAlchemy URL is not mistaken for a path."""
    url = "postgresql+psycopg://csp@db.example.org/csp"
    config = load_config(_project(tmp_path, MINIMUM.replace("csp-monitor.db", url)))
    assert config.state == url and config.state_is_url


def test_every_mistake_is_reported_at_once_with_its_place(tmp_path: Path) -> None:
    """A misspelt key, a bad address and a bad security value are all reported, file:line:col."""
    path = _project(tmp_path, MINIMUM.replace("summary:", "sumary:").replace("@example.org>", "@example>")
                    .replace("security: none", "security: ssl"))
    problems = _problems(path)
    assert len(problems) == 3
    assert any(p.startswith(f"{path}:5:9: ") and "is not an email address" in p for p in problems)
    assert any(p.startswith(f"{path}:6:") and "'ssl' is not allowed for 'security'" in p for p in problems)
    assert f"{path}:8:1: unknown key 'sumary' (did you mean 'summary'?)" in problems


def test_a_repeated_schedule_id_is_reported_with_the_files_other_mistakes(tmp_path: Path, cli: Any) -> None:
    """A schedule id used twice is reported in the same run as a misspelt key, not only once the rest is
    mended (the model's own check runs only on valid data); the command exits 1 and sends nothing."""
    path = _project(tmp_path, MINIMUM.replace("summary:", "sumary:") + (
        "schedules:\n"
        "  - {id: monthly, cron: '0 7 10 * *', run: summary}\n"
        "  - {id: monthly, cron: '30 8 * * mon', run: alerts}\n"))
    problems = _problems(path)
    assert problems == [f"{path}:8:1: unknown key 'sumary' (did you mean 'summary'?)",
                        f"{path}:12:10: the schedule id 'monthly' is already used at line 11: ids must be unique"]
    result = cli("send", "--config", path, "--dry-run", tmp_path / "dry")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert f"{path}:12:10: the schedule id 'monthly'" in result.stdout + result.stderr
    assert not (tmp_path / "dry").exists()


def test_plain_smtp_is_allowed_only_to_this_machine(tmp_path: Path) -> None:
    """security: none to another host is refused, pointing at the key."""
    problems = _problems(_project(tmp_path, MINIMUM.replace("host: 127.0.0.1", "host: smtp.example.org")))
    assert len(problems) == 1 and "unencrypted" in problems[0] and ":6:" in problems[0]


def test_a_password_in_the_file_is_refused_with_the_reason(tmp_path: Path) -> None:
    """A password: key is not merely unknown: the message says where a password belongs."""
    path = _project(tmp_path, MINIMUM.replace("security: none}", "security: none, password: hunter2}"))
    (problem,) = _problems(path)
    assert "never written in the configuration file" in problem and "password_env" in problem
    assert "hunter2" not in problem


def test_a_missing_rule_file_and_figures_are_located(tmp_path: Path) -> None:
    """A rule file that does not exist is found at load time; figures that match nothing at run time."""
    path = _project(tmp_path, MINIMUM.replace("harborough-2013-14.yaml", "harborugh.yaml"))
    (problem,) = _problems(path)
    assert problem.startswith(f"{path}:1:9: ") and "does not exist" in problem
    config = load_config(_project(tmp_path, MINIMUM.replace("figures/*.csv", "figures/*.json")))
    with pytest.raises(ConfigError, match=r"csp-monitor.yaml:2:\d+: no figures file matches"):
        figure_files(config)


def test_an_unknown_recipient_list_is_located_with_a_suggestion(tmp_path: Path) -> None:
    """summary.to names lists from the rules; a misspelt one is reported at its place with a did-you-mean."""
    config = load_config(_project(tmp_path, MINIMUM.replace("to: [board]", "to: [bord, someone@example.org]")))
    with pytest.raises(ConfigError) as caught:
        summary_recipients(config, {"board": ["csp-board@example.org"]})
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (9, 8)
    assert problem.suggestion == "'board'"


def test_the_password_comes_from_the_environment_or_a_file(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """password_env reads a variable (an unset one is an error); password_file reads the file's first line."""
    smtp = "{host: smtp.example.org, security: starttls, username: csp, password_env: CSP_TEST_SMTP}"
    config = load_config(_project(tmp_path, MINIMUM.replace(
        "{host: 127.0.0.1, port: 8025, security: none}", smtp)))
    monkeypatch.delenv("CSP_TEST_SMTP", raising=False)
    with pytest.raises(ConfigError, match="CSP_TEST_SMTP is not set"):
        read_password(config)
    monkeypatch.setenv("CSP_TEST_SMTP", "from-the-environment")
    assert read_password(config) == "from-the-environment"
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\nignored\n", encoding="utf-8")
    os.chmod(secret, 0o600)
    config = load_config(_project(tmp_path, MINIMUM.replace(
        "{host: 127.0.0.1, port: 8025, security: none}",
        f"{{host: smtp.example.org, username: csp, password_file: {secret}}}")))
    assert read_password(config) == "from-a-file"


def test_a_username_without_a_password_source_is_an_error(tmp_path: Path) -> None:
    """A login name needs password_env or password_file."""
    (problem,) = _problems(_project(tmp_path, MINIMUM.replace("security: none}", "security: none, username: csp}")))
    assert "needs a password" in problem


def test_an_empty_or_non_mapping_file_is_explained(tmp_path: Path) -> None:
    """An empty file and a list instead of a mapping each get a plain message at line 1."""
    assert "is empty" in _problems(_project(tmp_path, "", "empty.yaml"))[0]
    assert "must be a mapping" in _problems(_project(tmp_path, "- rules\n", "list.yaml"))[0]


def test_a_relative_configuration_path_that_is_not_there_names_the_folder_looked_in(tmp_path: Path) -> None:
    """run-once --config csp-monitor.yaml from another folder (a process of its own) says which folder it looked
    in, so that the wrong working directory is plain; exit 1, no traceback."""
    from tests.security.bounded_cli import run_cli

    run = run_cli("run-once", "--config", "csp-monitor.yaml", cwd=tmp_path)
    assert run.exit_code == 1, run.output
    assert run.stderr == f"csp-monitor.yaml: no such file (looked in {tmp_path})\n1 problem found.\n"
