"""Where each part of a JSON document is: line and column by key path, found only when a message needs them.

JSON figures files are parsed by the :mod:`json` module (tens of megabytes in
a second or two); positions cost more than parsing, so they are indexed only
for a file that has problems to report. The index walks the text with the
json module's own scanners, so it agrees with the parser on every string and
number, and it reports keys given twice in one object (JSON parsers keep the
last one silently).
"""

from __future__ import annotations

import bisect
import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]

from csp_monitor.errors import Problem
from csp_monitor.load.yaml_source import Path_, Positions

__all__ = ["json_positions"]

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder(parse_int=len)  # only the end of each number is wanted: no int() of 5,000 digits
_MAX_DEPTH = 64  # figures files are four levels deep; deeper parts are skipped, not indexed


class _Walk:
    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.positions = Positions(file)
        self.duplicates: list[Problem] = []
        self.newlines = [index for index, char in enumerate(text) if char == "\n"] if "\n" in text else []

    def place(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_left(self.newlines, offset)
        start = self.newlines[line - 1] + 1 if line else 0
        return line + 1, offset - start + 1

    def skip(self, offset: int) -> int:
        match = _SPACE.match(self.text, offset)
        return match.end() if match else offset

    def value(self, offset: int, path: Path_, depth: int) -> int:
        offset = self.skip(offset)
        self.positions.values[path] = self.place(offset)
        char = self.text[offset : offset + 1]
        if depth < _MAX_DEPTH and char == "{":
            return self.mapping(offset + 1, path, depth + 1)
        if depth < _MAX_DEPTH and char == "[":
            return self.sequence(offset + 1, path, depth + 1)
        _, end = _DECODER.raw_decode(self.text, offset)
        return int(end)

    def mapping(self, offset: int, path: Path_, depth: int) -> int:
        offset = self.skip(offset)
        if self.text.startswith("}", offset):
            return offset + 1
        while True:
            offset = self.skip(offset)
            key, after = scanstring(self.text, offset + 1)
            child = (*path, key)
            if child in self.positions.keys:
                line, column = self.positions.keys[child]
                here_line, here_column = self.place(offset)
                self.duplicates.append(Problem(
                    f"'{key}' is given twice in the same place (first at line {line}, column {column}): "
                    "remove one of them", file=self.positions.file, line=here_line, column=here_column,
                    path=child))
            else:
                self.positions.keys[child] = self.place(offset)
            offset = self.skip(after) + 1  # past the ':'
            offset = self.skip(self.value(offset, child, depth))
            if self.text.startswith("}", offset):
                return offset + 1
            offset += 1  # past the ','

    def sequence(self, offset: int, path: Path_, depth: int) -> int:
        offset = self.skip(offset)
        if self.text.startswith("]", offset):
            return offset + 1
        index = 0
        while True:
            offset = self.skip(self.value(offset, (*path, index), depth))
            if self.text.startswith("]", offset):
                return offset + 1
            offset += 1
            index += 1


def json_positions(text: str, file: str) -> tuple[Positions, list[Problem]]:
    """The positions of every key and value of a valid JSON document, and its keys given twice."""
    walk = _Walk(text, file)
    walk.value(0, (), 0)
    return walk.positions, walk.duplicates
