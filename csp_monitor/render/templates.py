"""The Jinja2 environments that render emails and reports.

Two rules keep a name such as ``<script>`` or ``{{ 7*7 }}`` in a rule file
from ever running:

* data is only ever passed to templates as variables, never compiled as
  template source;
* every template is autoescaped unless it is a text part (``*.txt.j2``) or a
  subject line (``*.subject.j2``). ``select_autoescape`` would look only at
  the last extension and leave ``summary.html.j2`` unescaped, so autoescaping
  is on by default and turned off by name.

Undefined variables are errors (``StrictUndefined``), so a misspelt name in a
template fails loudly instead of printing nothing. A partnership may override
any built-in template by putting a file of the same name in its own folder
(the configuration's ``templates:``); those files are written by people, not
by us, so they run in Jinja2's ``ImmutableSandboxedEnvironment``, which
refuses access to private attributes and to methods that change data, with
limits on time, loop steps, output and sizes (:mod:`csp_monitor.sandbox`).

Any template problem becomes a :class:`~csp_monitor.errors.TemplateError`
that names the template file and line.
"""

from __future__ import annotations

import functools
import importlib.resources
import os
import types
from collections.abc import Callable, Mapping
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import jinja2

from csp_monitor.errors import TemplateError
from csp_monitor.files import not_regular
from csp_monitor.sandbox import TEMPLATE_LIMITS, BoundedSandbox, TemplateLimitError

__all__ = [
    "TEXT_SUFFIXES",
    "builtin_templates",
    "is_text_template",
    "render_template",
    "template_environment",
]

TEXT_SUFFIXES = (".txt.j2", ".subject.j2", ".txt", ".subject")
"""Templates whose output is plain text: the only ones not autoescaped."""

_BUILTIN_PREFIX = "csp_monitor.templates"


def is_text_template(name: str | None) -> bool:
    """Whether ``name`` is a text part or subject template (not autoescaped)."""
    return name is not None and name.endswith(TEXT_SUFFIXES)


def _autoescape(name: str | None) -> bool:
    return not is_text_template(name)


def builtin_templates() -> Traversable:
    """The folder of built-in templates: the installed package, else the source tree."""
    try:
        root = importlib.resources.files(_BUILTIN_PREFIX)
        if root.joinpath("summary.html.j2").is_file():
            return root
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - depends on how it is installed
        pass
    return Path(__file__).resolve().parents[2] / "templates"


class _ResourceLoader(jinja2.BaseLoader):
    """Loads templates from a package resource folder (which may be inside a zip)."""

    def __init__(self, root: Traversable) -> None:
        self.root = root

    def get_source(self, environment: jinja2.Environment, template: str
                   ) -> tuple[str, str | None, Callable[[], bool] | None]:
        parts = [part for part in template.split("/") if part]
        if not parts or any(part in {".", ".."} or "\\" in part for part in parts):
            raise jinja2.TemplateNotFound(template)
        node = self.root
        for part in parts:
            node = node.joinpath(part)
        if not node.is_file():
            raise jinja2.TemplateNotFound(template)
        filename = str(node) if isinstance(node, Path) else f"{_BUILTIN_PREFIX}/{template}"
        return node.read_text(encoding="utf-8"), filename, lambda: True

    def list_templates(self) -> list[str]:
        return sorted(entry.name for entry in self.root.iterdir() if entry.is_file())


class _FolderLoader(jinja2.FileSystemLoader):
    """A partnership's templates folder: only regular files inside it, never a link leading out of it.

    A template is emailed to the board: a link in the folder to a file
    elsewhere (a key, a password file) must not be read and sent. Links that
    stay inside the folder are fine.
    """

    def __init__(self, folder: str) -> None:
        super().__init__(folder, encoding="utf-8", followlinks=False)
        self.folder = os.path.realpath(folder)

    def get_source(self, environment: jinja2.Environment, template: str
                   ) -> tuple[str, str, Callable[[], bool]]:
        pieces = jinja2.loaders.split_template_path(template)
        path = os.path.join(self.folder, *pieces)
        if os.path.lexists(path):
            real = os.path.realpath(path)
            if os.path.commonpath([real, self.folder]) != self.folder:
                raise TemplateError(f"this template is a link to {real}, outside the templates folder: copy the "
                                    "file into the folder instead", template=path)
            try:
                kind = not_regular(real)
            except OSError:
                kind = "a link to nothing"
            if kind is not None:
                raise TemplateError(f"this is {kind}, not a template file", template=path)
        return super().get_source(environment, template)


@functools.lru_cache(maxsize=8)
def _cached_environment(override: str | None) -> jinja2.Environment:
    loader: jinja2.BaseLoader = _ResourceLoader(builtin_templates())
    options: dict[str, Any] = {
        "autoescape": _autoescape,
        "undefined": jinja2.StrictUndefined,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "keep_trailing_newline": True,
        "auto_reload": False,
    }
    if override is None:
        return jinja2.Environment(loader=loader, **options)
    # The partnership's own folder first; anything it does not override is built in.
    user = _FolderLoader(override)
    return BoundedSandbox(limits=TEMPLATE_LIMITS, loader=jinja2.ChoiceLoader([user, loader]), **options)


def template_environment(override: str | os.PathLike[str] | None = None) -> jinja2.Environment:
    """The environment for the built-in templates, or the sandboxed one with a user folder first."""
    if override is not None:
        folder = Path(override)
        if not folder.is_dir():
            raise TemplateError("the templates folder does not exist", template=str(folder))
        return _cached_environment(str(folder.resolve()))
    return _cached_environment(None)


def render_template(environment: jinja2.Environment, name: str, context: Mapping[str, Any]) -> str:
    """Render one template; any problem becomes a :class:`TemplateError` naming file and line."""
    try:
        template = environment.get_template(name)
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template not found: {exc.name}", template=name) from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error: {exc.message}",
                            template=exc.filename or exc.name or name, line=exc.lineno) from None
    try:
        return template.render(context)
    except jinja2.TemplateSyntaxError as exc:  # an included template
        raise TemplateError(f"template syntax error: {exc.message}",
                            template=exc.filename or exc.name or name, line=exc.lineno) from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template not found: {exc.name}",
                            **_where(exc.__traceback__, template.filename or name)) from None
    except TemplateLimitError as exc:
        raise TemplateError(f"the template was stopped: {exc}",
                            **_where(exc.__traceback__, template.filename or name)) from None
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateError(f"the template tried something unsafe and was stopped: {exc}",
                            **_where(exc.__traceback__, template.filename or name)) from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"the template uses something that does not exist: {exc.message}",
                            **_where(exc.__traceback__, template.filename or name)) from None
    except (TypeError, ValueError, AttributeError, ArithmeticError, LookupError) as exc:
        raise TemplateError(f"the template failed: {type(exc).__name__}: {exc}",
                            **_where(exc.__traceback__, template.filename or name)) from None
    except jinja2.TemplateError as exc:  # any other refusal of Jinja's at run time ("extended multiple times")
        raise TemplateError(f"the template failed: {exc.message or type(exc).__name__}",
                            **_where(exc.__traceback__, template.filename or name)) from None


def _where(trace: types.TracebackType | None, fallback: str) -> dict[str, Any]:
    """The innermost template frame of a traceback (Jinja2 rewrites them to template lines)."""
    found: dict[str, Any] = {"template": fallback, "line": None}
    while trace is not None:
        filename = trace.tb_frame.f_code.co_filename
        if filename.endswith((".j2", ".html", ".txt", ".css")) or filename.startswith(_BUILTIN_PREFIX):
            found = {"template": filename, "line": trace.tb_lineno}
        trace = trace.tb_next
    return found
