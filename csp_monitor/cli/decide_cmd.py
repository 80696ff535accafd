"""``csp-monitor decide``: evaluate, decide alerts against the state store, print the notices due."""

from __future__ import annotations

from datetime import datetime

import click

from csp_monitor.cli.options import as_of_option, echo_warnings, load_inputs, use_colour
from csp_monitor.cli.state_options import format_option, now_option, open_state, state_option

__all__ = ["decide"]


@click.command()
@click.argument("rules", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--figures", "figures", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="A figures file (CSV or JSON); repeat for several.")
@as_of_option
@state_option
@format_option("table", "json")
@now_option
def decide(rules: tuple[str, ...], figures: tuple[str, ...], as_of: str | None, state: str, output_format: str,
           now: datetime) -> None:
    """Evaluate RULES (with their alerts), decide alerts against the state store, and print the notices due.

    Everything is recorded in the store in one transaction. Deciding the same
    month again prints no notice that was already decided.

    \b
    Example:
      csp-monitor decide rules/harborough-2013-14.yaml rules/harborough-alerts.yaml \\
          --figures examples/harborough/figures.csv --as-of 2014-03 --state csp-monitor.db
    """
    from csp_monitor.alerts.record import evaluate_and_decide
    from csp_monitor.render.alert_tables import decision_json, decision_table

    rule_set, figure_set = load_inputs(rules, figures)
    if not rule_set.alerts:
        echo_warnings(["the rules have no alerts: add an 'alerts:' section or an alerts file "
                       "(see docs/alerts.md)"])
    with open_state(state) as store:
        decision = evaluate_and_decide(store, rule_set, figure_set, now=now, as_of=as_of)
    echo_warnings(decision.warnings)
    if output_format == "json":
        click.echo(decision_json(decision))
    else:
        click.echo(decision_table(decision, colour=use_colour()), nl=False)
