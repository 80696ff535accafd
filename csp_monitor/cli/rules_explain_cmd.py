"""``csp-monitor rules explain``: every target and alert in plain English."""

from __future__ import annotations

import click

__all__ = ["explain"]


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
def explain(paths: tuple[str, ...]) -> None:
    """Say every target and alert in PATHS in plain English, for sign-off by the board.

    \b
    Example:
      csp-monitor rules explain rules/harborough-2013-14.yaml rules/harborough-alerts.yaml
    """
    from csp_monitor.authoring.explain import explain_rules
    from csp_monitor.cli.options import echo_rule_warnings
    from csp_monitor.load.rules import load_rules

    rule_set = load_rules(list(paths))
    echo_rule_warnings(rule_set)
    click.echo(explain_rules(rule_set), nl=False)
