"""The public API: a small, sorted, importable surface."""

from __future__ import annotations

import subprocess
import sys

import csp_monitor


def test_all_is_sorted_and_unique() -> None:
    """``__all__`` is sorted and lists each name once."""
    assert list(csp_monitor.__all__) == sorted(set(csp_monitor.__all__))


def test_all_lists_exactly_the_exports() -> None:
    """``__all__`` names every lazily exported name and the version, nothing else."""
    assert set(csp_monitor.__all__) == {*csp_monitor._EXPORTS, "__version__"}


def test_every_public_name_resolves() -> None:
    """Every name in ``__all__`` can be imported from the package."""
    for name in csp_monitor.__all__:
        assert getattr(csp_monitor, name) is not None, name


def test_unknown_name_is_an_attribute_error() -> None:
    """Asking for a private or missing name fails like any module attribute."""
    try:
        csp_monitor.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_errors_share_one_root() -> None:
    """Every exported error derives from CspMonitorError."""
    errors = [getattr(csp_monitor, n) for n in csp_monitor.__all__ if n.endswith("Error")]
    assert errors and all(issubclass(e, csp_monitor.CspMonitorError) for e in errors)


def test_import_is_light() -> None:
    """Importing the package or the CLI loads neither pydantic nor any heavy module."""
    code = (
        "import sys, csp_monitor, csp_monitor.cli;"
        "heavy = [m for m in ('pydantic', 'sqlalchemy', 'apscheduler', 'matplotlib', 'openpyxl', 'jinja2')"
        " if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_evaluate_stays_the_function_after_the_engine_is_imported() -> None:
    """Regression: importing the engine's package must not replace ``csp_monitor.evaluate`` with a module."""
    code = ("import csp_monitor.evaluation.engine, csp_monitor, inspect;"
            "from csp_monitor import evaluate;"
            "print(inspect.isfunction(evaluate))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
