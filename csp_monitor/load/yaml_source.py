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
  be reported as ``file:line:col``;
* nesting deeper than :data:`MAX_DEPTH` is refused with its place, before
  Python's own recursion limit is anywhere near;
* a number written with a word processor's minus sign (U+2212, or an en or
  em dash: ``−13%``) is read with a plain minus, and a warning says where;
* a value wrapped in a word processor's curly quotes (``“board@example.org”``)
  is read as the text inside them, and a warning says where;
* a file saved as UTF-16 ("Unicode" in Notepad or Excel) is refused as such.
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
from csp_monitor.load.yaml_repair import Mended, mend

__all__ = [
    "MAX_DEPTH",
    "MAX_YAML_BYTES",
    "Located",
    "Positions",
    "YamlProblems",
    "parse_yaml",
    "read_yaml_file",
]

MAX_YAML_BYTES = 2 * 1024 * 1024
"""Rule and configuration files are small; anything larger is refused unread."""

MAX_DEPTH = 40
"""The deepest nesting of lists and mappings read; rule files need about eight levels."""

_DASHES = {"\u2212": "U+2212 minus sign", "\u2013": "en dash", "\u2014": "em dash", "\ufe63": "small hyphen-minus",
           "\uff0d": "full-width hyphen-minus"}
_DASHED_NUMBER = re.compile(r"^(\s*)([\u2212\u2013\u2014\ufe63\uff0d])(\s*(?:\d+(?:\.\d*)?|\.\d+)\s*%?\s*)$")
# A value a word processor wrapped in its curly quotes, read as the text inside them: “...” or ‘...’.
_CURLY_QUOTED = re.compile("^\u201c(.*)\u201d$|^\u2018(.*)\u2019$", re.DOTALL)
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
    warnings: list[Problem] = field(default_factory=list)
    """Things read in a way the writer may not have meant (a word processor's minus sign), located."""


class YamlProblems(Exception):
    """Raised by :func:`parse_yaml` with every problem found while reading."""

    def __init__(self, problems: list[Problem], *, mended: Located | None = None) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems
        self.mended = mended
        """The document as it reads once each syntax slip is mended, when every mend was sure (else None)."""


class _TooDeep(yaml.composer.ComposerError):
    """Nesting deeper than MAX_DEPTH: refused before the composer's recursion goes further."""


class _StrictLoader(yaml.SafeLoader):
    """A loader that composes nodes but refuses aliases, anchors and deep nesting."""

    depth = 0

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
        if self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent):
            if self.depth >= MAX_DEPTH:
                raise _TooDeep(None, None, f"lists and mappings are nested more than {MAX_DEPTH} deep here, "
                               "far deeper than any csp-monitor file needs: check the brackets and indentation",
                               self.peek_event().start_mark)  # type: ignore[no-untyped-call]
            self.depth += 1
            try:
                return self._compose_checked(parent, index)
            finally:
                self.depth -= 1
        return self._compose_checked(parent, index)

    def _compose_checked(self, parent: Node | None, index: Any) -> Node | None:
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
    """Parse YAML text into plain data plus positions; raise :class:`YamlProblems` with every problem found.

    When the text is not valid YAML, every classic slip is found line by line
    and mended (see :mod:`csp_monitor.load.yaml_repair`), and the parser is
    run again past each remaining error, so one run reports them all. When
    every slip had a sure mend, the mended document is given to the caller as
    :attr:`YamlProblems.mended`, to check what it says in the same run.
    """
    small = len(text) <= _LOOK_PAST_BYTES
    if "\t" not in text:
        try:
            root = _compose(text)
        except yaml.MarkedYAMLError as exc:
            if not small:  # far beyond a rule file: the first error is enough, and parsing again costs
                raise YamlProblems([_yaml_problem(exc, file)]) from None
        except yaml.YAMLError:
            pass  # look for every slip, not just this first one
        else:
            return _located(root, text, file)
    return _parse_mended(text, file, _MAX_ROUNDS if small else 1)


_MAX_ROUNDS = 25
"""How many syntax errors past the line-based checks are looked for before stopping."""

_LOOK_PAST_BYTES = 200_000
"""Past this size (far beyond a rule or configuration file) the parser is not run again past each error."""


def _compose(text: str) -> Node | None:
    loader = _StrictLoader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _parse_mended(text: str, file: str, rounds: int) -> Located:
    """Report every slip: the line-based checks' first, then the parser's, each line set aside in turn."""
    mended = mend(text, file)
    problems = list(mended.problems)
    reported = mended.lines_with_problems()
    lines = mended.text.split("\n")
    sure = mended.sure
    for _ in range(rounds):
        try:
            root = _compose("\n".join(lines))
        except yaml.MarkedYAMLError as exc:
            problem = _yaml_problem(exc, file)
            # Past too deep a nesting or a second document, nothing further would be an independent slip.
            if isinstance(exc, _TooDeep) or problem.message.startswith("a file must hold one YAML document") \
                    or problem.line is None or not 0 < problem.line <= len(lines):
                problems.append(problem)
                break
            if problem.line not in reported:
                problems.append(Problem(problem.message, file=file, line=problem.line,
                                        column=mended.original_column(problem.line, problem.column or 1)))
                reported.add(problem.line)
            aside = lines[problem.line - 1]
            if aside.strip() in {"", "#"}:
                break  # nothing left to set aside there: stop rather than loop
            sure = False
            unlinked = _without_link(aside, problem)
            if unlinked is not None:  # an anchor or alias: drop just it, so its block reads on as before
                lines[problem.line - 1] = unlinked
                continue
            # Set the line aside (a comment keeps every line number) and look past it.
            lines[problem.line - 1] = " " * (len(aside) - len(aside.lstrip())) + "#"
        except yaml.reader.ReaderError as exc:
            raise YamlProblems([*problems, _reader_problem(exc, text, file)]) from None
        except yaml.YAMLError as exc:
            raise YamlProblems([*problems, Problem(f"this is not valid YAML: {exc}", file=file)]) from None
        else:
            if not problems:  # a Tab only in a value, say: the file was valid after all
                return _located(root, text, file)
            located, found = _convert_root(root, "\n".join(lines), file)
            _unmove_positions(located.positions, mended)
            # A key given twice is dropped, not guessed at: what the file says can still be checked.
            raise YamlProblems([*problems, *(_unmoved(p, mended) for p in found)], mended=located if sure else None)
    raise YamlProblems(problems)


_LINK = re.compile(r"[&*][^\s,\[\]{}]+")


def _without_link(line: str, problem: Problem) -> str | None:
    """``line`` with the anchor (``&name``) or alias (``*name``) the problem is at blanked out, if it is one."""
    if "YAML anchors" not in problem.message and "YAML aliases" not in problem.message:
        return None
    link = _LINK.match(line, (problem.column or 1) - 1)
    if link is None:
        return None
    # Same length, so every column after it stays put: an alias becomes an empty value (~).
    blank = ("~" if link.group().startswith("*") else "").ljust(len(link.group()))
    return line[: link.start()] + blank + line[link.end():]


def _unmoved(problem: Problem, mended: Mended) -> Problem:
    if problem.line is None or problem.column is None:
        return problem
    return Problem(problem.message, file=problem.file, line=problem.line,
                   column=mended.original_column(problem.line, problem.column), path=problem.path,
                   suggestion=problem.suggestion, severity=problem.severity)


def _unmove_positions(positions: Positions, mended: Mended) -> None:
    for table in (positions.keys, positions.values):
        for path, (line, column) in table.items():
            table[path] = (line, mended.original_column(line, column))


def _reader_problem(exc: yaml.reader.ReaderError, text: str, file: str) -> Problem:
    before = text[: exc.position]
    return Problem(
        f"this file contains a control character (code {exc.character:#04x}) that YAML does not allow: "
        "remove it, or save the file as plain text", file=file, line=before.count("\n") + 1,
        column=len(before) - (before.rfind("\n") + 1) + 1)


def _located(root: Node | None, text: str, file: str) -> Located:
    """Plain data and positions from a composed node tree; raise :class:`YamlProblems` for what it may not hold."""
    located, found = _convert_root(root, text, file)
    if found:
        raise YamlProblems(found)
    return located


def _convert_root(root: Node | None, text: str, file: str) -> tuple[Located, list[Problem]]:
    """Plain data and positions from a composed node tree, and what it holds that csp-monitor files may not."""
    positions = Positions(file)
    found: list[Problem] = []
    if root is None:
        return Located(None, positions), found
    walk = _Walk(positions, found, text)
    data = _convert(root, (), walk)
    return Located(data, positions, walk.warnings), found


@dataclass
class _Walk:
    """What converting one node tree carries along."""

    positions: Positions
    problems: list[Problem]
    text: str
    warnings: list[Problem] = field(default_factory=list)
    count: int = 0


def _convert(node: Node, path: Path_, walk: _Walk) -> Any:
    positions, problems, text, warnings = walk.positions, walk.problems, walk.text, walk.warnings
    walk.count += 1
    if walk.count > _MAX_NODES:
        if walk.count == _MAX_NODES + 1:
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
        curly = _CURLY_QUOTED.match(node.value) if node.style is None else None
        if curly:
            inner = curly.group(1) if curly.group(1) is not None else curly.group(2)
            line, column = _mark(node)
            warnings.append(Problem(
                f"{node.value} is written with a word processor's curly quotes, not the '\"' key: it is read as "
                f"{inner} (type straight quotes, or none, to silence this note)",
                file=positions.file, line=line, column=column, path=path, severity="warning"))
            return inner
        dashed = _DASHED_NUMBER.match(node.value)
        if dashed:
            plain = f"{dashed.group(1)}-{dashed.group(3)}"
            line, column = _mark(node)
            warnings.append(Problem(
                f"'{node.value.strip()}' is written with a word processor's {_DASHES[dashed.group(2)]}, not the "
                f"'-' key: it is read as -{dashed.group(3).strip()} (type the '-' key to silence this note)",
                file=positions.file, line=line, column=column, path=path, severity="warning"))
            return plain
        return node.value
    if isinstance(node, SequenceNode):
        return [
            _convert(child, (*path, index), walk)
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
            result[key] = _convert(value_node, child_path, walk)
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
    if isinstance(exc, _TooDeep) or "aliases" in problem or "anchors" in problem or "stopped reading here" in problem:
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
        # A relative name is looked up from the current folder, which is not always the one the writer thinks.
        where = "" if Path(path).is_absolute() else f" (looked in {Path.cwd()})"
        raise YamlProblems([Problem(f"no such file{where}", file=name)]) from None
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
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise YamlProblems([Problem("this file is UTF-16 text (saved as 'Unicode'): save it as UTF-8 (in Notepad, "
                                    "Save As with the encoding UTF-8)", file=name, line=1, column=1)])
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
