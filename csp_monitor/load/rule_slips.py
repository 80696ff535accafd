"""Slips that load but change what a rule means: warnings at ``file:line:col``, found while a rule file is read.

* ``change: -0.1``: a fraction meant as 10% is read as -0.1%, a target nobody
  sets on purpose;
* a key outdented (or indented) onto another level than the block it follows:
  a ``tolerance`` two spaces short after a measure silently becomes its
  priority's, and applies to every measure of the priority.

They are warnings, not errors, because each can be meant; each says how to
write it so that the warning goes.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from csp_monitor.errors import Problem
from csp_monitor.load.validation import allowed_keys, what_is_at
from csp_monitor.load.yaml_source import Located
from csp_monitor.models.rules import RuleFile

__all__ = ["rule_slips"]

Path_ = tuple[str | int, ...]

_BARE_NUMBER = re.compile(r"^\s*([+-]?)\s*(\d*\.\d+|\d+\.?\d*)\s*$")
_BLOCK_KEY_PREFIX = re.compile(r"^(?:\s*-\s+|\s*)*$")


def rule_slips(located: Located, text: str) -> list[Problem]:
    """Every fraction written as a change and every key that lands on another level than the block before it."""
    return [*_fraction_changes(located), *_level_changes(located, text)]


def _at(data: Any, path: Path_) -> Any:
    for segment in path:
        if isinstance(segment, int) and isinstance(data, list) and 0 <= segment < len(data):
            data = data[segment]
        elif isinstance(segment, str) and isinstance(data, dict) and segment in data:
            data = data[segment]
        else:
            return None
    return data


def _fraction_changes(located: Located) -> list[Problem]:
    """``change: -0.1`` is -0.1%: warn, and say it is -10% if a tenth was meant."""
    warnings: list[Problem] = []
    priorities = _at(located.data, ("priorities",))
    for p_index, priority in enumerate(priorities if isinstance(priorities, list) else []):
        measures = priority.get("measures") if isinstance(priority, dict) else None
        for m_index, measure in enumerate(measures if isinstance(measures, list) else []):
            target = measure.get("target") if isinstance(measure, dict) else None
            written = target.get("change") if isinstance(target, dict) else None
            bare = _BARE_NUMBER.match(written) if isinstance(written, str) else None
            if bare is None:
                continue
            sign, number = bare.group(1), float(bare.group(2))
            if not 0 < number < 1:
                continue
            if not sign and measure.get("better") == "lower":
                continue  # refused as an error already, with the same advice
            percent = f"{number * 100:g}"
            shown = f"{sign}{bare.group(2)}"
            meaning = "reduction" if sign == "-" else "rise"
            warnings.append(located.positions.problem(
                ("priorities", p_index, "measures", m_index, "target", "change"),
                f"a change of {shown} is read as {shown}%, less than one percent: if it is a fraction meaning "
                f"a {percent}% {meaning}, write {sign or '+'}{percent}%; if {shown}% really is the target, "
                f"write {shown}% to say so", severity="warning"))
    return warnings


def _is_block_key(lines: list[str], position: tuple[int, int]) -> bool:
    """Whether a key starts its line (after indentation and ``- ``), as in a block mapping, not inside ``{...}``."""
    line, column = position
    if not 0 < line <= len(lines):
        return False
    return bool(_BLOCK_KEY_PREFIX.match(lines[line - 1][: column - 1]))


def _level_changes(located: Located, text: str) -> list[Problem]:
    """A key right after a deeper block that would be allowed, and is missing, in that block: probably outdented."""
    keys = located.positions.keys
    lines = text.splitlines()
    ordered = sorted(keys, key=lambda path: keys[path])
    warnings: list[Problem] = []
    for before, path in itertools.pairwise(ordered):
        parent, name = path[:-1], path[-1]
        if len(before) <= len(path) or before[: len(parent)] != parent or not _is_block_key(lines, keys[path]):
            continue
        block = before[:-1]
        while len(block) > len(parent):
            mapping = _at(located.data, block)
            if isinstance(mapping, dict) and mapping and isinstance(name, str) and name not in mapping \
                    and name in allowed_keys(RuleFile, block):
                first = next(iter(mapping))
                if _is_block_key(lines, keys[(*block, first)]):
                    warnings.append(_level_warning(located, path, block, before[len(parent)]))
                break
            block = block[:-1]
    return warnings


def _level_warning(located: Located, path: Path_, block: Path_, opener: str | int) -> Problem:
    parent, name = path[:-1], path[-1]
    mapping = _at(located.data, block)
    column = located.positions.keys[(*block, next(iter(mapping)))][1]
    owner = what_is_at(RuleFile, parent) or "entry"
    owner_id = _at(located.data, (*parent, "id"))
    owner_text = "the whole file" if not parent else (
        f"the {owner} '{owner_id}'" if isinstance(owner_id, str) else f"this {owner}")
    lines_up = "the file's top-level keys" if not parent else f"that {owner}'s keys"
    kind = what_is_at(RuleFile, block) or "entry"
    block_id = mapping.get("id") if isinstance(mapping, dict) else None
    block_text = f"the {kind} '{block_id}'" if isinstance(block_id, str) else f"a {kind}"
    move = f"move it above '{opener}:'" if isinstance(opener, str) else "move it above the list"
    return located.positions.problem(
        path,
        f"'{name}' here belongs to {owner_text} (it lines up with {lines_up}), but it comes straight after "
        f"{block_text}, whose keys are in column {column}: if it is meant for {block_text}, indent it to "
        f"column {column}; if it is meant for {owner_text}, {move}", key=True, severity="warning")
