"""Safe YAML with positions.

Partnership leads write the rule files, so the reader is strict and exact:

* the node tree is composed with a ``SafeLoader`` subclass, so no Python
  object can ever be constructed;
* aliases and anchors are refused (no "billion laughs"), as are explicit tags
  such as ``!!python/object``;
* duplicate keys are refused (YAML itself would silently keep the last one);
* files over a size limit are refused before parsing;
* no implicit type is resolved but null: every scalar reaches pydantic as a
  string, so ``NO`` stays ``"NO"``, ``1:30`` stays ``"1:30"`` and ``012``
  stays ``"012"`` unless the model asks for a number;
* every key path is indexed to its line and column, so a validation error can
  be reported as ``file:line:col``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from csp_monitor.errors import Problem
from csp_monitor.files import FileTooLarge, read_regular

__all__ = [
    "MAX_YAML_BYTES",
    "Located",
    "Positions",
    "YamlProblems",
    "parse_yaml",
    "read_yaml_file",
]

MAX_YAML_BYTES = 2 * 1024 * 1024
"""Rule and configuration files are small; anything larger is refused unread."""

_MAX_NODES = 25_000
_NULLS = re.compile(r"^(?:~|null|Null|NULL|)$")
_SURROGATE = re.compile("[\ud800-\udfff]")

Path_ = tuple[str | int, ...]


@dataclass
class Positions:
    """Line and column (both 1-based) of every key and value, by key path."""

    file: str
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: Path_, *, key: bool = False) -> tuple[int | None, int | None]:
        """The position of ``path``, or of its nearest ancestor that exists."""
        probe = tuple(path)
        while True:
            if key and probe in self.keys:
                return self.keys[probe]
            if probe in self.values:
                return self.values[probe]
            if not probe:
                return (None, None)
            probe = probe[:-1]

    def problem(self, path: Path_, message: str, *, key: bool = False, suggestion: str | None = None,
                severity: str = "error") -> Problem:
        """A :class:`Problem` located at ``path``."""
        line, column = self.locate(path, key=key)
        return Problem(message, file=self.file, line=line, column=column, path=tuple(path),
                       suggestion=suggestion, severity=severity)


@dataclass
class Located:
    """Plain data (dicts, lists, strings, None) with the positions of its parts."""

    data: Any
    positions: Positions


class YamlProblems(Exception):
    """Raised by :func:`parse_yaml` with every problem found while reading."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class _StrictLoader(yaml.SafeLoader):
    """A loader that composes nodes but refuses aliases and anchors."""

    nodes = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        # Count while composing: a 2 MB flow list is a million nodes, which would take
        # most of a minute and hundreds of megabytes to compose before any check.
        self.nodes += 1
        if self.nodes > _MAX_NODES:
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None,
                f"this file has more than {_MAX_NODES:,} entries, far more than a csp-monitor file: "
                "stopped reading here", event.start_mark)
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None,
                "YAML aliases (*name) are not allowed in csp-monitor files: write the value out in full",
                event.start_mark,
            )
        event = self.peek_event()  # type: ignore[no-untyped-call]
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise yaml.composer.ComposerError(
                None, None,
                "YAML anchors (&name) are not allowed in csp-monitor files: write each value out in full",
                event.start_mark,
            )
        return super().compose_node(parent, index)


_STANDARD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:merge",
    "tag:yaml.org,2002:value",
}


def _written_tag(tag: str) -> str:
    """A tag as the file wrote it: ``tag:yaml.org,2002:python/object`` was ``!!python/object``."""
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag


def _mark(node: Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _has_explicit_tag(node: Node, text: str) -> bool:
    """True when the source wrote a ``!tag`` on this node (PyYAML keeps no flag for it)."""
    start = node.start_mark.index
    return text[start : start + 1] == "!"


def parse_yaml(text: str, file: str = "<input>") -> Located:
    """Parse YAML text into plain data plus positions; raise :class:`YamlProblems`."""
    if "\t" in text:
        problems = []
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.lstrip(" ")
            if stripped.startswith("\t"):
                problems.append(Problem(
                    "a tab is used for indentation here: YAML only allows spaces, so indent with spaces",
                    file=file, line=number, column=len(line) - len(stripped) + 1))
        if problems:
            raise YamlProblems(problems)
    loader: _StrictLoader | None = None
    try:
        loader = _StrictLoader(text)
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise YamlProblems([_yaml_problem(exc, file)]) from None
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        raise YamlProblems([Problem(
            f"this file contains a control character (code {exc.character:#04x}) that YAML does not allow: "
            "remove it, or save the file as plain text", file=file, line=before.count("\n") + 1,
            column=len(before) - (before.rfind("\n") + 1) + 1)]) from None
    except yaml.YAMLError as exc:
        raise YamlProblems([Problem(f"this is not valid YAML: {exc}", file=file)]) from None
    finally:
        if loader is not None:
            loader.dispose()
    positions = Positions(file)
    found: list[Problem] = []
    if root is None:
        return Located(None, positions)
    count = [0]
    data = _convert(root, (), positions, found, text, count)
    if found:
        raise YamlProblems(found)
    return Located(data, positions)


def _convert(node: Node, path: Path_, positions: Positions, problems: list[Problem], text: str,
             count: list[int]) -> Any:
    count[0] += 1
    if count[0] > _MAX_NODES:
        if count[0] == _MAX_NODES + 1:
            problems.append(Problem("this file has too many entries to be a csp-monitor file",
                                    file=positions.file))
        return None
    positions.values[path] = _mark(node)
    if node.tag not in _STANDARD_TAGS or _has_explicit_tag(node, text):
        line, column = _mark(node)
        problems.append(Problem(
            f"the YAML tag '{_written_tag(node.tag)}' is not allowed: csp-monitor files hold plain values only",
            file=positions.file, line=line, column=column, path=path))
        return None
    if isinstance(node, ScalarNode):
        if node.style is None and _NULLS.match(node.value):
            return None
        if _SURROGATE.search(node.value):
            # An escape such as "\uD800" is half a character: it could be neither printed nor saved.
            line, column = _mark(node)
            problems.append(Problem(
                f"this text holds the escape \\u{ord(_SURROGATE.findall(node.value)[0]):04X}, half of a character "
                "(a lone surrogate): write the character itself", file=positions.file, line=line, column=column,
                path=path))
            return None
        return node.value
    if isinstance(node, SequenceNode):
        return [
            _convert(child, (*path, index), positions, problems, text, count)
            for index, child in enumerate(node.value)
        ]
    if isinstance(node, MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line, column = _mark(key_node)
            if not isinstance(key_node, ScalarNode):
                problems.append(Problem("a key must be a plain word, not a list or mapping",
                                        file=positions.file, line=line, column=column, path=path))
                continue
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(Problem("YAML merge keys (<<) are not allowed: write the keys out in full",
                                        file=positions.file, line=line, column=column, path=path))
                continue
            key = key_node.value
            child_path = (*path, key)
            if key in result:
                first_line, first_column = positions.keys[child_path]
                problems.append(Problem(
                    f"'{key}' is given twice in the same place (first at line {first_line}, "
                    f"column {first_column}): remove one of them",
                    file=positions.file, line=line, column=column, path=child_path))
                continue
            positions.keys[child_path] = (line, column)
            result[key] = _convert(value_node, child_path, positions, problems, text, count)
        return result
    return None  # pragma: no cover


def _source_line(mark: yaml.Mark | None) -> str:
    """The text of the line a mark points into (PyYAML keeps the whole text for string input)."""
    buffer = getattr(mark, "buffer", None)
    if mark is None or not isinstance(buffer, str):
        return ""
    start = buffer.rfind("\n", 0, mark.pointer) + 1
    end = buffer.find("\n", mark.pointer)
    return buffer[start : end if end >= 0 else len(buffer)].rstrip("\0\r")


_KEY_THEN_COLON = re.compile(r"^(\s*(?:-\s+)?)([A-Za-z_][\w-]*):\s+(.*:\s.*?)\s*$")


def _yaml_problem(exc: yaml.MarkedYAMLError, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    problem = (exc.problem or "").strip()
    context = (exc.context or "").strip()
    if "aliases" in problem or "anchors" in problem or "stopped reading here" in problem:
        message = problem
    elif "found character '\\t'" in problem:
        message = "a tab character is not allowed here: YAML only allows spaces for indentation"
    elif "mapping values are not allowed" in problem:
        quoted = _KEY_THEN_COLON.match(_source_line(exc.problem_mark))
        if quoted and '"' not in quoted.group(3):
            message = (f"the value of '{quoted.group(2)}' contains ': ', which YAML reads as another key: put the "
                       f'value in quotes, {quoted.group(2)}: "{quoted.group(3)}"')
        else:
            message = ("a ':' appears where YAML did not expect one: check the indentation, or put the "
                       "value in quotes if it contains ': '")
    elif "expected <block end>" in problem or "did not find expected key" in problem:
        message = "the indentation is inconsistent here: line it up with the entries around it"
    elif "could not find expected ':'" in problem:
        mark = exc.context_mark or mark
        text = _source_line(mark).strip()
        words = text.split(None, 1)
        if len(words) == 2 and re.fullmatch(r"[A-Za-z_][\w-]*", words[0]) and '"' not in text and "'" not in text:
            message = (f"'{text}' has no ':' after its key: write it as '{words[0]}: {words[1]}'")
        else:
            message = "a key is missing its ':' (or a quoted value is not closed)"
    elif "found undefined tag handle" in problem or "found unknown escape" in problem:
        message = f"this is not valid YAML: {problem}"
    elif "found unexpected end of stream" in problem:
        if "quoted scalar" in context and exc.context_mark is not None:
            mark = exc.context_mark
            quote = _source_line(mark)[mark.column : mark.column + 1] or '"'
            message = f"this quoted value is never closed: add the closing {quote} at the end of the value"
        else:
            message = "the file ends inside a quoted value: close the quote"
    elif "expected a single document" in problem or "expected a single document" in context:
        message = "a file must hold one YAML document: remove the extra '---'"
    elif context in {"while parsing a flow mapping", "while parsing a flow sequence"} and exc.context_mark:
        opening, closing = ("{", "}") if "mapping" in context else ("[", "]")
        where = exc.problem_mark.line + 1 if exc.problem_mark else None
        mark = exc.context_mark
        if "<stream end>" in problem or where is None:
            message = f"this '{opening}' is never closed: add the missing '{closing}'"
        else:
            message = (f"this '{opening}' is not closed before line {where}: add the missing '{closing}', and "
                       "separate the entries inside with commas")
    else:
        detail = problem if not context else f"{context}, {problem}"
        message = f"this is not valid YAML: {detail}"
    line = mark.line + 1 if mark else None
    column = mark.column + 1 if mark else None
    return Problem(message, file=file, line=line, column=column)


def read_yaml_file(path: str | Path, *, max_bytes: int = MAX_YAML_BYTES, display: str | None = None) -> Located:
    """Read and parse a YAML file; raise :class:`YamlProblems` for anything wrong."""
    name = display or str(path)
    try:
        raw = read_regular(path, max_bytes)  # never a FIFO or device: they would block or never end
    except FileNotFoundError:
        raise YamlProblems([Problem("no such file", file=name)]) from None
    except IsADirectoryError:
        raise YamlProblems([Problem("this is a folder, not a file", file=name)]) from None
    except FileTooLarge:
        raise YamlProblems([Problem(
            f"this file is larger than {max_bytes // 1024} KiB, too large to be a csp-monitor file",
            file=name)]) from None
    except OSError as exc:
        raise YamlProblems([Problem(f"cannot be read: {exc.strerror}", file=name)]) from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        column = len(raw[line_start : exc.start].decode("utf-8", errors="replace")) + 1
        byte = raw[exc.start : exc.start + 1]
        guess = byte.decode("cp1252", errors="replace")
        hint = (f" (the byte {byte.hex()} here is '{guess}' in a Windows or Latin-1 file)"
                if guess.isprintable() and guess != "\ufffd" else "")
        raise YamlProblems([Problem(f"this file is not UTF-8 text{hint}: save it as UTF-8",
                                    file=name, line=line, column=column)]) from None
    if "\x00" in text:
        raise YamlProblems([Problem("this file contains binary data, not YAML text", file=name)])
    return parse_yaml(text, name)
