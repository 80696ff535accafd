"""A missing optional package is a plain error naming its extra (exit code 1), never an internal error.

The package is made unimportable for one test by putting ``None`` in ``sys.modules``
(what Python does for a module that cannot be imported); everything else is real.
tests/integration/test_plain_install.py checks the same in a real install without extras.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from csp_monitor import CspMonitorError, MissingExtraError, open_store
from csp_monitor.extras import CORE_PACKAGES, EXTRAS, extra_for, require
from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES, CliResult
from tests.spreadsheet_fixtures import write_workbook


def _block(monkeypatch: pytest.MonkeyPatch, package: str) -> None:
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, package, None)


def _run_a_command_importing(cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch, module: str) -> CliResult:
    """Run a CLI command, added for this test alone, that imports ``module`` while its package is unimportable."""
    import click

    from csp_monitor import cli as cli_module

    @click.command()
    def broken() -> None:
        importlib.import_module(module)

    _block(monkeypatch, module.partition(".")[0])
    cli_module.cli.add_command(broken, "broken-for-test")
    try:
        return cli("broken-for-test")
    finally:
        cli_module.cli.commands.pop("broken-for-test")


def test_missing_extra_error_names_the_extra() -> None:
    """MissingExtraError is a CspMonitorError with exit code 1 whose message says what to install."""
    error = MissingExtraError("openpyxl", extra="xlsx", purpose="writing an .xlsx workbook")
    assert isinstance(error, CspMonitorError) and error.exit_code == 1
    assert error.message == ("writing an .xlsx workbook needs openpyxl, which is not installed: "
                             "install csp-monitor[xlsx] (pip install 'csp-monitor[xlsx]')")
    assert (error.package, error.extra) == ("openpyxl", "xlsx")


def test_require_raises_for_a_missing_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """require() raises MissingExtraError for an absent optional package and returns for a present one."""
    require("openpyxl", purpose="reading")
    _block(monkeypatch, "openpyxl")
    with pytest.raises(MissingExtraError) as caught:
        require("openpyxl", purpose="reading")
    assert caught.value.extra == "xlsx"


def test_every_extra_package_maps_to_a_declared_extra() -> None:
    """Each optional package maps to an extra that pyproject.toml declares, and none is also core."""
    import tomllib

    from tests.conftest import ROOT

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = project["optional-dependencies"]
    for package, extra in EXTRAS.items():
        assert extra in declared, extra
        assert package not in CORE_PACKAGES
    assert extra_for("pyarrow.csv") == "fast" and extra_for("sqlalchemy") is None


def test_core_dependencies_do_the_whole_job() -> None:
    """The scheduler, the state store, the time zones, charts and email styling are core dependencies."""
    import tomllib

    from tests.conftest import ROOT

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {requirement.split(">")[0].split("<")[0].split("[")[0].lower() for requirement in project["dependencies"]}
    assert {"apscheduler", "sqlalchemy", "tzdata", "matplotlib", "css-inline"} <= names
    assert any(r.startswith("APScheduler>=3.11,<4") for r in project["dependencies"])


def test_evaluate_xlsx_without_openpyxl_names_the_extra(
        cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """evaluate --format xlsx without openpyxl exits 1, names csp-monitor[xlsx] and writes no file."""
    _block(monkeypatch, "openpyxl")
    out = tmp_path / "table.xlsx"
    result = cli("evaluate", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--as-of", "2014-03",
                 "--format", "xlsx", "--out", out)
    assert result.exit_code == 1
    assert "error: writing an .xlsx workbook needs openpyxl" in result.stderr
    assert "install csp-monitor[xlsx]" in result.stderr and "internal error" not in result.stderr
    assert not out.exists()


def test_import_spreadsheet_xlsx_without_openpyxl_names_the_extra(
        cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """import spreadsheet on a real .xlsx without openpyxl exits 1 naming csp-monitor[xlsx] and writes nothing."""
    write_workbook(tmp_path / "performance.xlsx", [["measure", "2014-01", "2014-02"], ["burglary", 10, 12]])
    _block(monkeypatch, "openpyxl")
    out = tmp_path / "figures.csv"
    result = cli("import", "spreadsheet", tmp_path / "performance.xlsx", "--area", "harborough", "--out", out)
    assert result.exit_code == 1
    assert "csp-monitor[xlsx]" in result.stderr and "internal error" not in result.stderr
    assert not out.exists()


def test_open_store_on_postgresql_without_psycopg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """open_store on a PostgreSQL URL without psycopg raises MissingExtraError for csp-monitor[postgres]."""
    _block(monkeypatch, "psycopg")
    with pytest.raises(MissingExtraError) as caught:
        open_store("postgresql+psycopg://nobody@127.0.0.1:9/none")
    assert caught.value.extra == "postgres"
    assert "install csp-monitor[postgres]" in caught.value.message


def test_an_unguarded_import_of_an_extra_is_not_an_internal_error(
        cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch) -> None:
    """Should any command import an extra's package unguarded, the CLI still names the extra and exits 1."""
    result = _run_a_command_importing(cli, monkeypatch, "pyarrow.csv")
    assert result.exit_code == 1
    assert "install csp-monitor[fast]" in result.stderr and "internal error" not in result.stderr


def test_a_missing_core_package_says_the_installation_is_incomplete(
        cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch) -> None:
    """A core package missing (a broken install) is reported as such with exit 1, not as a bug."""
    result = _run_a_command_importing(cli, monkeypatch, "css_inline")
    assert result.exit_code == 1
    assert "installation is incomplete" in result.stderr and "internal error" not in result.stderr
