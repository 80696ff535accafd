"""The daemon's install instructions: the unit and docs/daemon.md agree, and the /etc example works as copied."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from jsonschema import Draft7Validator

from csp_monitor.load.config import load_config, summary_recipients
from csp_monitor.load.rules import load_rules
from tests.conftest import ROOT

UNIT = ROOT / "examples" / "csp-monitor.service"
DOCS = ROOT / "docs" / "daemon.md"
ETC_EXAMPLE = ROOT / "examples" / "etc" / "csp-monitor.yaml"
_PIP = re.compile(r"/opt/csp-monitor/bin/pip install '?(csp-monitor(?:\[[a-z,]+\])?)'?")


def test_the_unit_and_the_docs_give_the_same_install_lines_with_psycopg_for_postgresql() -> None:
    """Regression: the unit installed csp-monitor[daemon,email,charts] and the docs csp-monitor[all]; now both
    give the same lines: the plain install (which brings the daemon's packages) and one with the postgres
    extra, which brings psycopg."""
    in_unit, in_docs = _PIP.findall(UNIT.read_text(encoding="utf-8")), _PIP.findall(DOCS.read_text(encoding="utf-8"))
    assert in_unit == in_docs == ["csp-monitor", "csp-monitor[postgres]"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert any(requirement.startswith("psycopg") for requirement in project["optional-dependencies"]["postgres"])
    assert any(requirement.startswith("APScheduler") for requirement in project["dependencies"])
    assert "examples/etc/csp-monitor.yaml" in DOCS.read_text(encoding="utf-8")
    assert "etc/csp-monitor.yaml /etc/csp-monitor/" in UNIT.read_text(encoding="utf-8")


def _install(etc: Path) -> Path:
    """Copy the example into ``etc`` as the docs say, with the Harborough rules as the partnership's."""
    etc.mkdir(parents=True)
    shutil.copy(ETC_EXAMPLE, etc / "csp-monitor.yaml")
    (etc / "rules").mkdir()
    shutil.copy(ROOT / "rules" / "harborough-2013-14.yaml", etc / "rules" / "targets.yaml")
    shutil.copy(ROOT / "rules" / "harborough-alerts.yaml", etc / "rules" / "alerts.yaml")
    return etc / "csp-monitor.yaml"


def test_the_etc_example_works_when_copied_paths_resolving_beside_it(tmp_path: Path) -> None:
    """Copied into a folder of its own, the example's rules resolve beside it (not beside the source), the
    state store and drop folder stay where the unit expects them, and its summary recipients exist."""
    config_path = _install(tmp_path / "etc" / "csp-monitor")
    config = load_config(config_path)
    assert config.rules == (str(tmp_path / "etc" / "csp-monitor" / "rules" / "targets.yaml"),
                            str(tmp_path / "etc" / "csp-monitor" / "rules" / "alerts.yaml"))
    assert config.state == "/var/lib/csp-monitor/csp-monitor.db"
    rules = load_rules(config.rules)
    assert summary_recipients(config, rules.recipients)
    schema = json.loads((ROOT / "docs" / "schema" / "config.schema.json").read_text(encoding="utf-8"))
    assert list(Draft7Validator(schema).iter_errors(yaml.safe_load(ETC_EXAMPLE.read_text()))) == []


def test_status_reads_the_copied_example_from_any_working_folder(tmp_path: Path) -> None:
    """`csp-monitor status` run from / (as systemd does not, and people do) accepts the copied example."""
    config_path = _install(tmp_path / "etc" / "csp-monitor")
    result = subprocess.run([sys.executable, "-m", "csp_monitor.cli", "status", "--config", str(config_path),
                             "--format", "json"], cwd="/", capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert [schedule["id"] for schedule in status["schedules"]] == ["monthly-summary", "weekly-exceptions"]
    assert status["drop_folders"][0]["folder"] == "/srv/csp-monitor/incoming"
