"""`pip install csp-monitor`, with no extras, does the whole monthly job in a fresh virtual environment.

The project is built into a wheel and installed into a new venv by pip, which brings
the build tools and the core dependencies from its cache; the Harborough example then
runs end to end, and a command that needs an extra names it instead of failing with an
internal error.
"""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.spreadsheet_fixtures import write_workbook

pytestmark = pytest.mark.slow

_EXTRAS = ("openpyxl", "psycopg", "pyarrow", "isal")
_SOURCE = ("pyproject.toml", "setup.py", "README.md", "csp_monitor", "templates")


def _environment() -> dict[str, str]:
    """The caller's environment without anything that would reach the checkout or hide a failure."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "CSP_MONITOR_DEBUG", "VIRTUAL_ENV", "PYTHONHOME"}}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.fixture(scope="module")
def plain_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A new virtual environment with csp-monitor installed by pip without extras; yields its bin folder."""
    base = tmp_path_factory.mktemp("plain-install")
    source = base / "source"
    source.mkdir()
    for name in _SOURCE:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    wheels = base / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(source)],
        capture_output=True, text=True, env=_environment(), timeout=300)
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("csp_monitor-*.whl")
    environment = base / "venv"
    venv.EnvBuilder(with_pip=True).create(environment)
    bin_dir = environment / ("Scripts" if os.name == "nt" else "bin")
    installed = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
                               capture_output=True, text=True, env=_environment(), timeout=900)
    if installed.returncode != 0 and "No matching distribution" in installed.stderr + installed.stdout:
        pytest.skip(f"pip could not reach a package index: {installed.stderr.strip().splitlines()[-1]}")
    assert installed.returncode == 0, installed.stderr
    yield bin_dir


def _run(bin_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(bin_dir / "csp-monitor"), *args], capture_output=True, text=True, cwd=cwd,
                          env=_environment(), timeout=600)


def _example(tmp_path: Path) -> Path:
    """A copy of the Harborough example and the rules it names, laid out as in the project."""
    shutil.copytree(ROOT / "examples" / "harborough", tmp_path / "examples" / "harborough",
                    ignore=shutil.ignore_patterns("outbox", "*.db", "*.db-*", "__pycache__"))
    shutil.copytree(ROOT / "rules", tmp_path / "rules", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "examples" / "harborough"


def test_the_plain_install_has_no_extras(plain_venv: Path, tmp_path: Path) -> None:
    """The fresh environment really lacks every extra's package (so the tests below prove something)."""
    code = ("import importlib.util, csp_monitor;"
            f"print(','.join(m for m in {_EXTRAS!r} if importlib.util.find_spec(m)));"
            "print(csp_monitor.__file__)")
    out = subprocess.run([str(plain_venv / "python"), "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env=_environment(), check=True)
    found, location = out.stdout.splitlines()
    assert found == ""
    assert str(plain_venv.parent) in location  # the installed wheel, not the checkout


def test_run_once_does_the_whole_job_on_the_example(plain_venv: Path, tmp_path: Path) -> None:
    """run-once on the example decides alerts and delivers the summary, with its charts, and the alert emails."""
    example = _example(tmp_path)
    result = _run(plain_venv, "run-once", "--config", str(example / "csp-monitor.yaml"), "--as-of", "2014-03",
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    messages = sorted((example / "outbox").glob("*.eml"))
    parsed = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in messages]
    subjects = [str(message["Subject"]) for message in parsed]
    summaries = [m for m in parsed if "summary" in str(m["Subject"]).lower()]
    assert len(summaries) == 1, subjects
    assert len(parsed) > 1, subjects  # alert emails beside the summary
    images = [part for part in summaries[0].walk() if part.get_content_type() == "image/png"]
    assert len(images) >= 3  # the charts were drawn by the installed matplotlib
    html = summaries[0].get_body(preferencelist=("html",))
    assert html is not None and 'style="' in html.get_content()  # CSS inlined by the installed css-inline
    again = _run(plain_venv, "run-once", "--config", str(example / "csp-monitor.yaml"), "--as-of", "2014-03",
                 cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert sorted((example / "outbox").glob("*.eml")) == messages  # nothing sent twice


def test_xlsx_output_without_its_extra_names_the_extra(plain_venv: Path, tmp_path: Path) -> None:
    """evaluate --format xlsx without openpyxl exits 1 naming csp-monitor[xlsx], writes nothing, and is no internal error."""
    out = tmp_path / "table.xlsx"
    result = _run(plain_venv, "evaluate", str(ROOT / "rules" / "harborough-2013-14.yaml"), "--figures",
                  str(ROOT / "examples" / "harborough" / "figures.csv"), "--as-of", "2014-03",
                  "--format", "xlsx", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 1
    assert "install csp-monitor[xlsx]" in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_a_postgresql_store_without_its_extra_names_the_extra(plain_venv: Path, tmp_path: Path) -> None:
    """open_store on a PostgreSQL URL without psycopg raises MissingExtraError for the postgres extra."""
    code = ("import csp_monitor\n"
            "try:\n"
            "    csp_monitor.open_store('postgresql+psycopg://nobody@127.0.0.1:9/none')\n"
            "except csp_monitor.MissingExtraError as exc:\n"
            "    print(exc.extra, isinstance(exc, csp_monitor.CspMonitorError))\n")
    out = subprocess.run([str(plain_venv / "python"), "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env=_environment(), timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "postgres True"


def test_importing_an_xlsx_spreadsheet_without_its_extra_names_the_extra(plain_venv: Path, tmp_path: Path) -> None:
    """import spreadsheet on a real .xlsx without openpyxl exits 1 naming csp-monitor[xlsx] (or CSV), writing nothing."""
    # Written with the test environment's openpyxl; the plain install must not need it.
    write_workbook(tmp_path / "performance.xlsx", [["measure", "2014-01", "2014-02"], ["burglary", 10, 12]])
    out = tmp_path / "figures.csv"
    result = _run(plain_venv, "import", "spreadsheet", str(tmp_path / "performance.xlsx"), "--area", "harborough",
                  "--out", str(out), cwd=tmp_path)
    assert result.returncode == 1
    assert "csp-monitor[xlsx]" in result.stderr and "internal error" not in result.stderr
    assert not out.exists()
