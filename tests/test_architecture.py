"""The architecture holds: data flows one way, and the CLI stays fast to start."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

# load -> evaluate -> decide -> render -> deliver -> schedule; shared foundations below,
# tools and shells above. A module may import only its own layer or lower ones.
LAYERS = {
    "arguments": 0, "errors": 0, "extras": 0, "frozen": 0, "plain_data": 0, "names": 0, "periods": 0, "files": 0,
    "cron": 0, "models": 0, "statistics": 0, "sandbox": 0,
    "load": 1, "importers": 1,
    "evaluation": 2,
    "state": 3, "alerts": 3,
    "render": 4,
    "delivery": 5,
    "schedule": 6,
    "authoring": 7, "testing": 7,
    "cli": 8, "__main__": 8,
}


def _layer(module: str) -> tuple[int, str] | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "csp_monitor":
        return None
    return LAYERS[parts[1]], parts[1]


def _imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("csp_monitor"):
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names if alias.name.startswith("csp_monitor"))
    return found


MODULES = sorted(p for p in (ROOT / "csp_monitor").rglob("*.py") if p.name != "__init__.py" or p.parent.name != "csp_monitor")


def test_every_package_has_a_layer() -> None:
    """Each top-level part of the package is placed in the layer order."""
    parts = {p.relative_to(ROOT / "csp_monitor").parts[0].removesuffix(".py") for p in MODULES}
    assert parts - {"__init__", "py.typed"} <= set(LAYERS)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_lower_layer_imports_a_higher_one(path: Path) -> None:
    """A module imports only from its own layer or a lower one (load -> evaluate -> decide -> render -> deliver -> schedule)."""
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    own = _layer(module)
    assert own is not None
    for imported in _imports(path):
        other = _layer(imported)
        if other is not None:
            assert other[0] <= own[0], f"{module} ({own[1]}) imports {imported} ({other[1]})"


def test_the_engine_does_no_io() -> None:
    """The evaluate layer and the statistics open no files, sockets, clocks or databases."""
    forbidden = ("open(", "datetime.now", "time.time", "socket", "sqlalchemy", "requests", "urllib", "os.environ")
    for folder in ("evaluation", "statistics"):
        for path in (ROOT / "csp_monitor" / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for word in forbidden:
                assert word not in text, f"{path.relative_to(ROOT)} uses {word}"
