"""The Python examples in docs/ run as written (paths pointed at test folders) and pass mypy --strict."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT, SHARED
from tests.test_public_api_council_tool import _mypy_strict


def _examples(name: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "docs" / name).read_text(encoding="utf-8"), flags=re.S)


def test_every_docs_python_example_imports_only_the_public_api() -> None:
    """No example in docs/ imports from inside the package: what it shows is what csp_monitor exports."""
    for name in ("alerts.md", "importing-data.md", "summaries-and-delivery.md"):
        for code in _examples(name):
            assert re.findall(r"from csp_monitor\.\w+|import csp_monitor\.", code) == [], name


def test_the_docs_python_examples_pass_mypy_strict(tmp_path: Path) -> None:
    """Each example type-checks as a council tool's code would."""
    files = []
    for name in ("alerts.md", "importing-data.md", "summaries-and-delivery.md"):
        for index, code in enumerate(_examples(name)):
            path = tmp_path / f"{name.removesuffix('.md').replace('-', '_')}_{index}.py"
            path.write_text(code, encoding="utf-8")
            files.append(path)
    status, output = _mypy_strict(tmp_path, *files)
    assert len(files) == 3 and status == 0, output


def test_the_alerts_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    """docs/alerts.md's example decides March 2014 and prints one line per recipient."""
    [code] = _examples("alerts.md")
    monkeypatch.chdir(ROOT)
    exec(code.replace('"csp-monitor.db"', repr(str(tmp_path / "csp-monitor.db"))), {})
    lines = capsys.readouterr().out.splitlines()
    assert "csp-board@example.org ['total-crime'" in "\n".join(lines) and len(lines) >= 3, lines


def test_the_delivery_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """docs/summaries-and-delivery.md's example sends March 2014 with a configuration named csp-monitor.yaml."""
    [code] = _examples("summaries-and-delivery.md")
    (tmp_path / "csp-monitor.yaml").write_text(
        f"rules: [{ROOT / 'rules' / 'harborough-2013-14.yaml'}, {ROOT / 'rules' / 'harborough-alerts.yaml'}]\n"
        f"figures: [{ROOT / 'examples' / 'harborough' / 'figures.csv'}]\nstate: state.db\n"
        "delivery: {folder: outbox}\nsummary: {to: [board], charts: false}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    exec(code, {})
    out = capsys.readouterr().out
    assert out.startswith("sent summary 'Harborough District Community Safety Partnership risk summary, March 2014"), out
    assert len(list((tmp_path / "outbox").glob("*.eml"))) > 1


def test_the_police_uk_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/importing-data.md's example imports the real Leicestershire archive with the ONS lookup."""
    archive = SHARED / "data" / "police-uk" / "leicestershire-street-2019-12_2022-10.zip"
    lookup = SHARED / "data" / "lookups" / "lad17-csp17-pfa17.csv"
    if not archive.exists() or not lookup.exists():
        pytest.skip("the full police.uk archive is in ../shared/data, absent here")
    [code] = _examples("importing-data.md")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(code.replace('"leicestershire-street-2019-12_2022-10.zip"', repr(str(archive)))
         .replace('"lad17-csp17-pfa17.csv"', repr(str(lookup))), namespace)
    result = namespace["result"]
    assert result.figures[("harborough", "burglary", "2021-04")] > 0  # type: ignore[attr-defined]
    assert (tmp_path / "figures.csv").exists()
