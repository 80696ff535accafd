"""The one error tree of csp-monitor.

Every error the library raises on purpose is a :class:`CspMonitorError`. The
command line turns them into messages and exit codes; nothing else prints.

::

    CspMonitorError
    ├── InputError                 bad input a person can fix (exit code 1)
    │   ├── RulesError             a rule, alert rule or rule-test file
    │   ├── FiguresError           a figures file (CSV, JSON, spreadsheet, police.uk)
    │   ├── ConfigError            a monitor configuration file
    │   └── ArgumentError          an argument of a library call (as_of, now, areas, a path)
    ├── StateError                 the state store is corrupt, newer or locked
    ├── TemplateError              a Jinja2 template could not be rendered
    ├── DeliveryError              a message could not be delivered
    └── MissingExtraError          an optional package is not installed (names the extra; exit code 1)

Input errors carry every :class:`Problem` found in the input at once, each
with a file, line, column, key path and an optional suggestion, and render as
``file:line:col: message`` lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from csp_monitor.plain_data import PlainData

__all__ = [
    "ArgumentError",
    "ConfigError",
    "CspMonitorError",
    "DeliveryError",
    "FiguresError",
    "InputError",
    "MissingExtraError",
    "Problem",
    "RulesError",
    "StateError",
    "TemplateError",
    "shown_value",
]


@dataclass(frozen=True, slots=True)
class Problem(PlainData):
    """One problem in an input file, located as precisely as we can."""

    message: str
    file: str = "<input>"
    line: int | None = None
    column: int | None = None
    path: tuple[str | int, ...] = field(default=())
    suggestion: str | None = None
    severity: str = "error"  # "error" or "warning"

    def location(self) -> str:
        """``file:line:col`` (or as much of it as is known); without a line, ``file:key.path[0]``."""
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        elif self.path:  # data given from Python has no lines: its key path says where
            parts.append("".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in self.path)
                         .removeprefix("."))
        return ":".join(parts)

    def __str__(self) -> str:
        label = "warning: " if self.severity == "warning" else ""
        text = f"{self.location()}: {label}{self.message}"
        if self.suggestion:
            text += f" (did you mean {self.suggestion}?)"
        return text

    def sort_key(self) -> tuple[str, int, int, str]:
        """Order problems as a reader meets them: by file, line, column."""
        return (self.file, self.line or 0, self.column or 0, self.message)


class CspMonitorError(Exception):
    """The root of every error csp-monitor raises on purpose."""

    exit_code = 1
    as_of: str | None = None
    """The month a run was judging when it failed, once known (the daemon retries that month, not a later one)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(CspMonitorError):
    """Input a person can fix; carries every problem found, not just the first."""

    kind = "input"

    def __init__(self, problems: Iterable[Problem] | str, *, file: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems, file=file or "<input>")]
        self.problems: tuple[Problem, ...] = tuple(sorted(problems, key=Problem.sort_key))
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid input")

    @classmethod
    def from_problems(cls, problems: Sequence[Problem]) -> InputError:
        """Build the error; callers raise it only when ``problems`` is non-empty."""
        return cls(problems)


class RulesError(InputError):
    """A rule file, alert rule file or rule-test file is not valid."""

    kind = "rules"


class FiguresError(InputError):
    """A figures file is not valid."""

    kind = "figures"


class ConfigError(InputError):
    """A monitor configuration file is not valid."""

    kind = "config"


class ArgumentError(InputError):
    """An argument of a library call is of the wrong kind or value (problems located at ``<arguments>``)."""

    kind = "arguments"

    def __init__(self, message: str, *, argument: str) -> None:
        super().__init__([Problem(message, file="<arguments>", path=(argument,))])
        self.argument = argument


class StateError(CspMonitorError):
    """The state store cannot be used: corrupt, from a newer version, or locked."""

    def __init__(self, message: str, *, store: str | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.store = store
        self.reason = reason
        """What kind of problem, when known: ``unreachable`` (the database server cannot be reached: worth
        trying again), ``permission`` (the file or its folder cannot be read or written), ``damaged``
        (not a usable store: left as it is), ``in-use`` (another daemon holds it), ``upgrade`` (a database an older
        csp-monitor wrote, opened read-only), ``new`` (an empty database opened read-only: no run has created the
        tables yet)."""


class TemplateError(CspMonitorError):
    """A template could not be loaded or rendered."""

    def __init__(self, message: str, *, template: str | None = None, line: int | None = None) -> None:
        where = template or "<template>"
        if line is not None:
            where += f":{line}"
        super().__init__(f"{where}: {message}")
        self.template = template
        self.line = line


class DeliveryError(CspMonitorError):
    """A message could not be delivered (after the retries allowed).

    ``unknown`` means the whole message was sent and the server's answer never came (a timeout or a dropped
    connection after the end of the message): the server may have taken it.
    """

    def __init__(self, message: str, *, permanent: bool = False, reply: str | None = None,
                 unknown: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.reply = reply
        self.unknown = unknown


class OutputError(CspMonitorError):
    """A file could not be written: the disk is full, read-only or over quota, or the folder refuses it.

    Outputs are written beside the target and moved into place only when whole, so when this is raised
    nothing half-written is left and a file already at ``path`` is as it was.
    """

    def __init__(self, message: str, *, path: str, reason: str) -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason
        """Why, in plain words: 'the disk is full', 'permission denied'..."""


class MissingExtraError(CspMonitorError):
    """An optional package is not installed; the message names the extra that installs it."""

    def __init__(self, package: str, *, extra: str, purpose: str) -> None:
        super().__init__(f"{purpose} needs {package}, which is not installed: "
                         f"install csp-monitor[{extra}] (pip install 'csp-monitor[{extra}]')")
        self.package = package
        self.extra = extra
        self.purpose = purpose


def shown_value(text: str, most: int = 40) -> str:
    """``text`` as a message quotes it: control characters spelled out (``\\x00``), thousands of characters shortened."""
    if len(text) > most:
        return f"{shown_value(text[: most // 2])}... ({len(text):,} characters)"
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)
