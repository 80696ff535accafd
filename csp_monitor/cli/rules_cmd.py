"""``csp-monitor rules``: check (and, later, explain, test, diff) rule files."""

from __future__ import annotations

import click

from csp_monitor.cli import LazyGroup

__all__ = ["rules"]

RULES_COMMANDS: dict[str, str] = {
    "check": "csp_monitor.cli.rules_cmd:check",
    "explain": "csp_monitor.cli.rules_explain_cmd:explain",
    "test": "csp_monitor.cli.rules_test_cmd:test",
}


RULES_HELP: dict[str, str] = {
    "check": "Validate rule files; report every problem as FILE:LINE:COL.",
    "diff": "Show what a change to the rules would change: statuses, alerts, recipients.",
    "explain": "Say every target and alert in plain English, for sign-off.",
    "new": "Start a new rule file, with comments, from a few questions.",
    "test": "Run rule tests (*.test.yaml); exit 1 if any fails.",
}


class _RulesGroup(LazyGroup):
    """The ``rules`` group: one-line help from RULES_HELP, without importing each command."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, RULES_HELP.get(name, "")) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=_RulesGroup, lazy=RULES_COMMANDS)
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
