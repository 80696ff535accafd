"""Find the classic YAML slips line by line, and mend each, so one run reports them all.

A YAML parser stops at its first syntax error, so a file with a dozen slips
would take a dozen rounds of "fix one, run again". Instead, when a file does
not parse, these line-based checks look for the slips partnership leads
make, each with a sure mend that keeps the other lines (and their numbers) as
they are:

* a Tab in the indentation (re-indented like the lines around it);
* no space after a key's colon (``better:lower``);
* ``=`` or nothing where the colon should be (``better = lower``, ``name Domestic Burglary``);
* a value holding ``: `` without quotes (``title: Priority: burglary``);
* a quoted value never closed (``title: "Reduce burglary``);
* a ``{`` or ``[`` never closed on its line (``target: {change: -13%``).

The caller reports each slip, parses the mended text, and, when every slip
had a sure mend, goes on to check what the file says, so mistakes of meaning
are reported in the same run. :class:`Mended` maps columns on mended lines
back to the file's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from csp_monitor.errors import Problem

__all__ = ["Mended", "mend"]

_KEY = r"[A-Za-z_][\w-]*"
_LEAD = re.compile(r"^(\s*(?:-\s+)*)")
_NO_SPACE = re.compile(rf"^(\s*(?:-\s+)*)({_KEY}):(?=[^\s:/\[{{])(.*)$")
_EQUALS = re.compile(rf"^(\s*(?:-\s+)*)({_KEY})(\s*)=(\s*)(\S.*)$")
_NO_COLON = re.compile(rf"^(\s*(?:-\s+)*)({_KEY})(\s+)([^\s:=#][^:]*)$")
_KEY_LINE = re.compile(rf"^(\s*(?:-\s+)*)({_KEY})\s*:(?:\s|$)")
_VALUE = re.compile(rf"^(\s*(?:-\s+)*)({_KEY}):(\s+)(\S.*?)\s*$")


@dataclass
class Mended:
    """The mended text, the slips found, and the columns each mend moved."""

    text: str
    problems: list[Problem]
    sure: bool = True
    """False when some slip could not be mended for certain (the caller then stops at syntax)."""
    shifts: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    """For each mended line: (column in the mended line, columns inserted there), left to right."""

    def original_column(self, line: int, column: int) -> int:
        """The file's own column for a column of a mended line."""
        moved = sum(size for at, size in self.shifts.get(line, []) if at < column)
        return max(1, column - moved)

    def lines_with_problems(self) -> set[int]:
        """The lines a slip was reported on."""
        return {problem.line for problem in self.problems if problem.line is not None}


def _unquoted_end(value: str) -> int | None:
    """Where a value starting with a quote is closed (index after the quote), or None when it never is."""
    quote = value[0]
    index = 1
    while index < len(value):
        char = value[index]
        if quote == '"' and char == "\\":
            index += 2
            continue
        if char == quote:
            if quote == "'" and value[index + 1 : index + 2] == "'":
                index += 2
                continue
            return index + 1
        index += 1
    return None


def _plain_or_quoted(value: str) -> bool:
    """A value with no quotes, or one quoted value from end to end (``"Domestic Burglary"``)."""
    if value[:1] in {'"', "'"}:
        return _unquoted_end(value) == len(value)
    return '"' not in value and "'" not in value


def _missing_closers(value: str) -> str:
    """The brackets a flow value opens on its line and never closes, as the text that would close them."""
    stack: list[str] = []
    quote: str | None = None
    for char in value:
        if quote is not None:
            if char == quote:
                quote = None
            continue
        if char in "\"'":
            quote = char
        elif char in "{[":
            stack.append("}" if char == "{" else "]")
        elif char in "}]" and stack and stack[-1] == char:
            stack.pop()
        elif char == "#" and not stack:
            break
    return "".join(reversed(stack))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def mend(text: str, file: str) -> Mended:
    """Every classic slip in ``text``, with the text mended where the mend is sure."""
    lines = text.split("\n")
    result = Mended(text, [])
    block_scalar_indent: int | None = None  # inside a literal (|) or folded (>) value: not YAML syntax
    previous_key_indent: int | None = None
    for index, raw in enumerate(lines):
        number = index + 1
        line = raw.rstrip("\r")
        stripped = line.strip()
        if block_scalar_indent is not None:
            if not stripped or _indent(line.replace("\t", " ")) > block_scalar_indent:
                continue
            block_scalar_indent = None
        if not stripped or stripped.startswith("#"):
            continue

        def report(message: str, column: int, *, number: int = number) -> None:
            result.problems.append(Problem(message, file=file, line=number, column=column))

        if line[: len(line) - len(line.lstrip(" \t"))].count("\t"):
            lead = line[: len(line) - len(line.lstrip(" \t"))]
            report("a tab is used for indentation here: YAML only allows spaces, so indent with spaces",
                   lead.index("\t") + 1)
            wanted = _tab_indent(lines, index)
            line = " " * wanted + line[len(lead):]
            result.shifts.setdefault(number, []).append((1, wanted - len(lead)))
        lead = _LEAD.match(line).group(1)  # type: ignore[union-attr]
        body = line[len(lead):]
        shown = body.strip()
        if (found := _EQUALS.match(line)) and ":" not in found.group(2) and not _KEY_LINE.match(line):
            key, value = found.group(2), found.group(5)
            report(f"'{shown}' uses '=' where YAML needs ':': write it as '{key}: {value}'",
                   len(found.group(1)) + len(key) + len(found.group(3)) + 1)
            at = len(found.group(1)) + len(key)
            line = line[:at] + ":" + " " * max(1, len(found.group(3)) + len(found.group(4))) + value
        elif (found := _NO_SPACE.match(line)) and not found.group(3).startswith("//"):
            key = found.group(2)
            report(f"a space is missing after the ':' of '{key}': write '{key}: {found.group(3).strip()}'",
                   len(found.group(1)) + len(key) + 2)
            at = len(found.group(1)) + len(key) + 1
            line = line[:at] + " " + line[at:]
            result.shifts.setdefault(number, []).append((at + 1, 1))
        elif (found := _NO_COLON.match(line)) and previous_key_indent == len(found.group(1)) \
                and not found.group(1).rstrip(" ").endswith("-") and _plain_or_quoted(found.group(4).strip()):
            key, value = found.group(2), found.group(4).strip()
            report(f"'{shown}' has no ':' after its key: write it as '{key}: {value}'", len(found.group(1)) + 1)
            at = len(found.group(1)) + len(key)
            line = line[:at] + ":" + line[at:]
            result.shifts.setdefault(number, []).append((at + 1, 1))
        value_match = _VALUE.match(line)
        if value_match:
            value = value_match.group(4)
            value_column = len(value_match.group(1)) + len(value_match.group(2)) + 1 + len(value_match.group(3)) + 1
            if value in {"|", ">", "|-", ">-", "|+", ">+"}:
                block_scalar_indent = len(value_match.group(1))
            elif value[0] in "\"'":
                if _unquoted_end(value) is None:
                    report(f"this quoted value is never closed: add the closing {value[0]} at the end of the value",
                           value_column)
                    line = line.rstrip() + value[0]
            elif value[0] in "{[":
                closers = _missing_closers(value)
                if closers and not _continues(lines, index, len(value_match.group(1))):
                    report(f"this '{value[0]}' is never closed: add the missing '{closers}' at the end of the line",
                           value_column)
                    line = line.rstrip() + closers
            elif ": " in value.split(" #", 1)[0] and not value.startswith(("&", "*", "!", "#")):
                plain = value.split(" #", 1)[0].rstrip()
                key = value_match.group(2)
                report(f"the value of '{key}' contains ': ', which YAML reads as another key: put the value in "
                       f'quotes, {key}: "{plain}"', value_column)
                if '"' in plain:
                    result.sure = False
                else:
                    start = value_column - 1
                    line = line[:start] + '"' + plain + '"' + line[start + len(plain):]
                    result.shifts.setdefault(number, []).append((value_column, 1))
        if _KEY_LINE.match(line):
            key_match = _KEY_LINE.match(line)
            previous_key_indent = len(key_match.group(1)) if key_match else previous_key_indent
        lines[index] = line + ("\r" if raw.endswith("\r") else "")
    # Each mend is made left of none made later on its line, so its column is already the mended line's;
    # the slips were reported in those columns too: give them the file's own.
    result.problems = [Problem(p.message, file=p.file, line=p.line,
                               column=result.original_column(p.line, p.column) if p.line and p.column else p.column)
                       for p in result.problems]
    result.text = "\n".join(lines)
    return result


def _continues(lines: list[str], index: int, indent: int) -> bool:
    """Whether the next line is indented deeper, so a bracket may rightly close there."""
    for following in lines[index + 1:]:
        if following.strip() and not following.strip().startswith("#"):
            return _indent(following.replace("\t", " ")) > indent
    return False


def _tab_indent(lines: list[str], index: int) -> int:
    """The indentation a Tab-indented line most likely meant: that of the nearest space-indented line around it."""
    for step in (-1, 1):
        probe = index + step
        while 0 <= probe < len(lines):
            neighbour = lines[probe]
            if neighbour.strip() and not neighbour.strip().startswith("#") and "\t" not in neighbour[:_indent(neighbour) + 1]:
                width = _indent(neighbour)
                if step == -1 and neighbour.rstrip().endswith(":"):
                    width += 2  # the line above opens a block: one level in
                return width
            probe += step
    return 0
