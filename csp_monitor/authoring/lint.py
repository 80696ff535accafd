"""Rules that load but probably do not say what was meant: warnings, located, for ``rules check``.

These are not errors, because a partnership could mean them; but each is far
more often a slip than a decision, and costs nothing to confirm.
"""

from __future__ import annotations

from collections.abc import Sequence

from csp_monitor.errors import Problem
from csp_monitor.load.rules import LoadedRuleFile

__all__ = ["rule_warnings"]


def rule_warnings(files: Sequence[LoadedRuleFile]) -> list[Problem]:
    """Every likely slip in the files: a level target that points the other way from 'better'."""
    warnings: list[Problem] = []
    for file in files:
        for p_index, priority in enumerate(file.model.priorities):
            for m_index, measure in enumerate(priority.measures):
                target = measure.target
                if target is None or target.kind == "change":
                    continue
                floor = target.kind == "at_least"
                if floor == (measure.better == "higher"):
                    continue
                other = "at_most" if floor else "at_least"
                value = f"{target.value:g}"
                warnings.append(file.source.positions.problem(
                    ("priorities", p_index, "measures", m_index, "target", target.kind),
                    f"{measure.better} is better for '{measure.id}', yet its target is "
                    f"{target.kind.replace('_', ' ')} {value}: did you mean {{{other}: {value}}}, or 'better: "
                    f"{'higher' if measure.better == 'lower' else 'lower'}'?", severity="warning"))
    return warnings
