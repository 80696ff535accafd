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


def _type_checking_namespace(module_name: str) -> dict[str, object]:
    """The module's globals plus the names it imports only for type checkers (to resolve its annotations)."""
    import ast
    import importlib
    import inspect

    module = importlib.import_module(module_name)
    namespace = dict(vars(module))
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            exec(compile(ast.Module(body=node.body, type_ignores=[]), module_name, "exec"), namespace)
    return namespace


def _classes_in(annotation: object, found: set[type]) -> None:
    import typing

    origin = typing.get_origin(annotation)
    if origin is not None:
        for argument in typing.get_args(annotation):
            _classes_in(argument, found)
        if isinstance(origin, type):
            found.add(origin)
    elif isinstance(annotation, type):
        found.add(annotation)


def _annotations_of(thing: object) -> list[object]:
    """The annotations of a public function, or of a public class's fields, methods and properties."""
    import dataclasses
    import inspect
    import typing

    def hints(function: object) -> list[object]:
        module = getattr(function, "__module__", "") or ""
        if not module.startswith("csp_monitor"):
            return []
        return list(typing.get_type_hints(function, localns=_type_checking_namespace(module)).values())

    if not isinstance(thing, type):
        return hints(thing) if callable(thing) else []
    found: list[object] = []
    fields = getattr(thing, "model_fields", None)
    if fields is not None:
        found.extend(field.annotation for field in fields.values())
    elif dataclasses.is_dataclass(thing):
        found.extend(hints(thing))
    for name, member in inspect.getmembers(thing):
        if name.startswith("_") and name != "__init__":
            continue
        function = member.fget if isinstance(member, property) else member
        if inspect.isfunction(function) or inspect.ismethod(function):
            found.extend(hints(function))
    return found


def test_every_type_the_api_takes_or_gives_is_exported() -> None:
    """Every csp_monitor class reachable from a public function's or model's annotations is in ``__all__``."""
    todo = [getattr(csp_monitor, name) for name in csp_monitor.__all__ if name != "__version__"]
    seen: set[type] = set()
    missing: dict[str, str] = {}
    while todo:
        thing = todo.pop()
        for annotation in _annotations_of(thing):
            classes: set[type] = set()
            _classes_in(annotation, classes)
            for cls in classes - seen:
                if cls.__module__.startswith("csp_monitor"):
                    seen.add(cls)
                    todo.append(cls)
                    if cls.__name__ not in csp_monitor.__all__:
                        missing[cls.__name__] = f"{cls.__module__} (used by {getattr(thing, '__name__', thing)})"
    assert not missing, missing
    assert {"StateStore", "AlertStatus", "Significance", "SpcResult", "YearEndProjection", "TargetSummary",
            "PlannedMessage", "Attempt", "PoliceUkImport"} <= {cls.__name__ for cls in seen}


def test_version_comes_from_the_installed_metadata() -> None:
    """``csp_monitor.__version__`` is the version pip recorded, the one ``csp-monitor --version`` prints."""
    from importlib.metadata import version

    assert csp_monitor.__version__ == version("csp-monitor")
    out = subprocess.run([sys.executable, "-m", "csp_monitor.cli", "--version"], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == f"csp-monitor, version {csp_monitor.__version__}"
