"""``csp-monitor rules``: check (and, later, explain, test, diff) rule files."""

from __future__ import annotations

import click

from csp_monitor.cli import LazyGroup

__all__ = ["rules"]

RULES_COMMANDS: dict[str, str] = {
    "check": "csp_monitor.cli.rules_cmd:check",
}


@click.group(cls=LazyGroup, lazy=RULES_COMMANDS)
def rules() -> None:
    """Check, explain, test and compare rule files."""


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
def check(paths: tuple[str, ...]) -> None:
    """Validate rule files; report every problem as FILE:LINE:COL."""
    from csp_monitor.load.rules import load_rules

    rule_set = load_rules(list(paths))
    measures = rule_set.measures()
    targets = sum(1 for _, m in measures if m.target is not None)
    click.echo(
        f"OK: {len(paths)} file{'s' if len(paths) != 1 else ''}, {len(rule_set.priorities)} priorities, "
        f"{len(measures)} measures ({targets} with targets, {len(measures) - targets} monitored)")
