"""A Jinja2 sandbox with limits, for templates that people write.

Partnership leads write alert messages in rule files and may override the
email and report templates; Jinja2's ``ImmutableSandboxedEnvironment`` stops
such a template reaching private attributes or changing data, but not from
running for ever or filling memory: nested loops, chained ``**``,
``"x".center(10**9)`` or a loop that doubles a string each time. This
environment bounds every way a template can do work:

* every ``for`` loop counts its iterations against one budget per render;
* every piece of output, including output captured by ``{% set %}`` blocks and
  macros, counts against an output budget;
* ``*``, ``**``, ``+`` and ``%`` are checked *before* they run, so no string,
  list or number beyond the limits is ever made; ``~`` is checked after;
* calls and filters that pad, repeat, replace or join (``center``, ``ljust``,
  ``indent``, ``format``, ``replace``, ``join``...) are checked before they
  run, and every call's result is checked after;
* ``range`` and ``lipsum`` are capped;
* a model's own fields and properties can be read, but not what every pydantic
  model inherits (``parse_file`` reads any file on the server, ``model_dump``
  and the rest are no business of a message), nor a path's methods
  (``read_text``): a template reaches the data it is given, never the disk;
* every loop step, call, operator and piece of output checks the clock, so a
  render stops after a few seconds however it spends them.

A limit that is reached raises :class:`TemplateLimitError`, a Jinja2
``SecurityError``: the callers turn it into a plain-English template error.
"""

from __future__ import annotations

import contextvars
import copy
import os
import re
import string
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import jinja2
import jinja2.sandbox
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.utils import generate_lorem_ipsum

__all__ = [
    "MESSAGE_LIMITS",
    "TEMPLATE_LIMITS",
    "BoundedSandbox",
    "RenderLimits",
    "TemplateLimitError",
]


class TemplateLimitError(SecurityError):
    """A template went beyond a limit (time, loop steps, output or size) and was stopped."""


@dataclass(frozen=True, slots=True)
class RenderLimits:
    """How much work one render may do."""

    seconds: float
    """Wall-clock time for one render."""
    iterations: int
    """Loop steps, all loops of the render together."""
    output: int
    """Characters written, all output of the render together (captured output included)."""
    text: int
    """The longest string, list or mapping one operation may make."""
    bits: int
    """The largest whole number one operation may make, in bits."""
    width: int
    """The largest padding or width a call may ask for (``center``, ``indent``, ``{:>N}``, ``%Nd``)."""
    range: int
    """The most numbers ``range()`` may give."""


TEMPLATE_LIMITS = RenderLimits(seconds=5.0, iterations=1_000_000, output=50_000_000, text=5_000_000,
                               bits=20_000, width=1_000, range=100_000)
"""Limits for the partnership's own email and report templates (reports embed their charts, so output is large)."""

MESSAGE_LIMITS = RenderLimits(seconds=1.0, iterations=10_000, output=100_000, text=100_000,
                              bits=20_000, width=1_000, range=10_000)
"""Limits for an alert's message template (a message is cut to a few thousand characters anyway)."""


class _Budget:
    """What one render has spent so far."""

    __slots__ = ("deadline", "iterations", "limits", "output")

    def __init__(self, limits: RenderLimits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.seconds
        self.iterations = 0
        self.output = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateLimitError(f"the template took longer than {self.limits.seconds:g} seconds")


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("csp_monitor_template_budget",
                                                                         default=None)

# Methods of str that make text longer in proportion to a number given, and the argument that is the number.
_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
# Filters whose number arguments are sizes or widths, never data.
_WIDTH_FILTERS = frozenset({"center", "indent", "wordwrap", "truncate", "tojson", "pprint", "batch", "slice",
                            "filesizeformat"})
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_DIGITS = re.compile(r"\d+")


def _size(value: Any) -> int:
    """The size of a made value, for the limits: characters, items or 0."""
    if isinstance(value, (str, bytes, list, tuple, dict, set, frozenset)):
        return len(value)
    return 0


class _BoundedCodeGenerator(CodeGenerator):
    """Compiles templates so that loops, output and ``~`` report to the environment."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        # Jinja2 allows no new node types: the iterable becomes a call of environment.bounded_loop.
        counted = copy.copy(node)
        counted.iter = nodes.Call(nodes.EnvironmentAttribute("bounded_loop", lineno=node.lineno), [node.iter],
                                  [], None, None, lineno=node.lineno)
        super().visit_For(counted, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_text(")
        super().visit_Concat(node, frame)
        self.write(")")

    def _output_const_repr(self, group: Iterable[Any]) -> str:
        return f"environment.bounded_output({super()._output_const_repr(group)})"

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        self.write("environment.bounded_output(")
        super()._output_child_pre(node, frame, finalize)

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        super()._output_child_post(node, frame, finalize)
        self.write(")")


class _BoundedTemplate(jinja2.Template):
    """A template whose every render runs on a fresh budget."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        environment = self.environment
        assert isinstance(environment, BoundedSandbox)
        if _BUDGET.get() is not None:  # an include or import inside a render: same budget
            return super().render(*args, **kwargs)
        token = _BUDGET.set(_Budget(environment.limits))
        try:
            return super().render(*args, **kwargs)
        except RecursionError:
            raise TemplateLimitError("the template calls itself too deeply") from None
        except MemoryError:
            raise TemplateLimitError("the template needed too much memory") from None
        finally:
            _BUDGET.reset(token)


class BoundedSandbox(jinja2.sandbox.ImmutableSandboxedEnvironment):
    """The immutable sandbox, with every way of doing work bounded by :class:`RenderLimits`."""

    code_generator_class = _BoundedCodeGenerator
    template_class = _BoundedTemplate
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *, limits: RenderLimits = TEMPLATE_LIMITS, **options: Any) -> None:
        super().__init__(**options)
        self.limits = limits
        self.filters = {name: self._bounded_filter(name, function) for name, function in self.filters.items()}
        self.globals["range"] = self._range
        self.globals["lipsum"] = self._lipsum

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        """Jinja2's rules, and no pydantic machinery or path methods (``result['parse_file']('/etc/...')``)."""
        if not super().is_safe_attribute(obj, attr, value):
            return False
        from pydantic import BaseModel

        model = obj if isinstance(obj, type) else type(obj)
        if issubclass(model, BaseModel) and hasattr(BaseModel, attr):
            return False
        return not (isinstance(obj, PurePath | os.PathLike) and callable(value))

    # Budget ------------------------------------------------------------------------------------------

    @staticmethod
    def _tick() -> None:
        budget = _BUDGET.get()
        if budget is not None:
            budget.tick()

    def _refuse(self, what: str) -> TemplateLimitError:
        return TemplateLimitError(what)

    def _check_made(self, value: Any) -> Any:
        """Refuse a value made by an operation that is beyond the size limits."""
        if _size(value) > self.limits.text:
            raise self._refuse(f"the template made a text or list longer than {self.limits.text:,} items")
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > self.limits.bits:
            raise self._refuse("the template made a number too large to handle")
        return value

    def _check_width(self, number: Any) -> None:
        if isinstance(number, int) and not isinstance(number, bool) and abs(number) > self.limits.width:
            raise self._refuse(f"the template asked for a width of {number:,}; the most allowed is "
                               f"{self.limits.width:,}")

    def _check_format(self, pattern: Any, arguments: Any = ()) -> None:
        """Refuse a format string (``%`` or ``{}``) whose widths or precisions are beyond the limit."""
        if not isinstance(pattern, str):
            return
        for width, precision in _PERCENT_SPEC.findall(pattern):
            if "*" in (width, precision):
                for argument in arguments if isinstance(arguments, tuple) else (arguments,):
                    self._check_width(argument)
            for number in (width, precision):
                if number.isdigit():
                    self._check_width(int(number))
        if "{" in pattern:
            try:
                fields = list(string.Formatter().parse(pattern))
            except ValueError:
                return  # not a valid {} format: str.format will say so
            for _, _, spec, _ in fields:
                if spec and "{" in spec:
                    raise self._refuse("the template nests a replacement field inside a format spec")
                for number in _DIGITS.findall(spec or ""):
                    self._check_width(int(number))

    def _check_replace(self, text: Any, old: Any, new: Any) -> None:
        if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
            count = len(text) + 1 if old == "" else text.count(old)
            if len(text) + count * (len(new) - len(old)) > self.limits.text:
                raise self._refuse(f"the replacement would make a text longer than {self.limits.text:,} characters")

    def _check_join(self, separator: Any, items: Any) -> None:
        if isinstance(items, (list, tuple)):
            if len(items) > self.limits.text:
                raise self._refuse(f"the template joins more than {self.limits.text:,} items")
            total = len(str(separator)) * len(items) + sum(len(item) if isinstance(item, str) else 20
                                                         for item in items)
            if total > self.limits.text:
                raise self._refuse(f"the join would make a text longer than {self.limits.text:,} characters")

    # Hooks called by compiled templates -------------------------------------------------------------------

    def bounded_loop(self, iterable: Any) -> Iterator[Any]:
        """A for loop's iterable, each step counted and timed."""
        budget = _BUDGET.get()
        if budget is None:
            yield from iterable
            return
        limit = budget.limits.iterations
        for item in iterable:
            budget.iterations += 1
            if budget.iterations > limit:
                raise self._refuse(f"the template's loops ran more than {limit:,} steps")
            budget.tick()
            yield item

    def bounded_output(self, value: Any) -> Any:
        """A piece of output, counted and timed."""
        budget = _BUDGET.get()
        if budget is not None:
            budget.output += len(value) if isinstance(value, str) else 0
            if budget.output > budget.limits.output:
                raise self._refuse(f"the template wrote more than {budget.limits.output:,} characters")
            budget.tick()
        return value

    def bounded_text(self, value: Any) -> Any:
        """The result of ``~``."""
        self._tick()
        return self._check_made(value)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self._tick()
        numbers = (int, float)
        if operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0 \
                and abs(left) > 1 and left.bit_length() * right > self.limits.bits:
            raise self._refuse("a power in the template is too large")
        if operator == "*":
            for sequence, count in ((left, right), (right, left)):
                if _size(sequence) and isinstance(count, int) and _size(sequence) * count > self.limits.text:
                    raise self._refuse(f"a repetition in the template would be longer than {self.limits.text:,}")
            if isinstance(left, int) and isinstance(right, int) \
                    and left.bit_length() + right.bit_length() > self.limits.bits:
                raise self._refuse("a product in the template is too large")
        if operator == "+" and not isinstance(left, numbers) and _size(left) + _size(right) > self.limits.text:
            raise self._refuse(f"the template made a text or list longer than {self.limits.text:,} items")
        if operator == "%" and isinstance(left, str):
            self._check_format(left, right)
        return self._check_made(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        __self._tick()
        target = getattr(__obj, "__wrapped__", __obj)  # the sandbox wraps str.format
        owner = getattr(target, "__self__", None)
        name = getattr(target, "__name__", "")
        if isinstance(owner, str):
            if name in _WIDTH_METHODS:
                for argument in (*args, *kwargs.values()):
                    __self._check_width(argument)
            elif name in {"format", "format_map"}:
                __self._check_format(owner)
            elif name == "replace" and len(args) >= 2:
                __self._check_replace(owner, args[0], args[1])
            elif name == "join" and args:
                if isinstance(args[0], Iterator):  # look at the items once, then join the same items
                    args = (list(args[0]), *args[1:])
                __self._check_join(owner, args[0])
            elif name == "translate":
                raise __self._refuse("str.translate is not allowed in templates")
        result = super().call(__context, __obj, *args, **kwargs)
        return __self._check_made(result)

    # Filters and globals -----------------------------------------------------------------------------------

    def _bounded_filter(self, name: str, function: Any) -> Any:
        passes_context = hasattr(function, "jinja_pass_arg")
        environment = self

        def bounded(*args: Any, **kwargs: Any) -> Any:
            environment._tick()
            given = args[1:] if passes_context else args
            value, options = (given[0], given[1:]) if given else (None, ())
            if name in _WIDTH_FILTERS:
                for argument in (*options, *kwargs.values()):
                    environment._check_width(argument)
            elif name == "format":
                environment._check_format(value, tuple(options))
            elif name == "replace" and len(options) >= 2:
                environment._check_replace(value, options[0], options[1])
            elif name == "join":
                environment._check_join(options[0] if options else kwargs.get("d", ""),
                                        value if isinstance(value, (list, tuple)) else None)
            return environment._check_made(function(*args, **kwargs))

        bounded.__dict__.update(getattr(function, "__dict__", {}))
        bounded.__name__ = getattr(function, "__name__", name)
        return bounded

    def _range(self, *args: int) -> range:
        numbers = range(*args)
        if len(numbers) > self.limits.range:
            raise self._refuse(f"range() in the template gives more than {self.limits.range:,} numbers")
        return numbers

    def _lipsum(self, n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
        for number in (n, min, max):
            self._check_width(number)
        if n * max > self.limits.text // 10:
            raise self._refuse("lipsum() in the template asks for too much text")
        return generate_lorem_ipsum(n=n, html=html, min=min, max=max)

