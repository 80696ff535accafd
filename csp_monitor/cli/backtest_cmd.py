"""``csp-monitor backtest``: replay rules month by month over past figures."""

from __future__ import annotations

import click

from csp_monitor.cli.options import echo_warnings, load_inputs, month_callback

__all__ = ["backtest"]


@click.command()
@click.argument("rules", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--figures", "figures", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="A figures file (CSV or JSON); repeat for several.")
@click.option("--from", "first", required=True, metavar="YYYY-MM", callback=month_callback,
              help="The first month to judge.")
@click.option("--to", "last", required=True, metavar="YYYY-MM", callback=month_callback,
              help="The last month to judge.")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="How to print the backtest.")
def backtest(rules: tuple[str, ...], figures: tuple[str, ...], first: str, last: str, output_format: str) -> None:
    """Replay RULES month by month over past figures: what would have been red, amber or green, and which
    alerts would have gone out, to whom. Nothing is sent and no state store is touched.

    \b
    Example:
      csp-monitor backtest rules/harborough-2013-14.yaml rules/harborough-alerts.yaml \\
          --figures examples/harborough/figures.csv --from 2013-04 --to 2014-03
    """
    from csp_monitor.authoring.backtest import backtest as run_backtest
    from csp_monitor.authoring.backtest_report import render_backtest_json, render_backtest_table

    rule_set, figure_set = load_inputs(rules, figures)
    result = run_backtest(rule_set, figure_set, first, last)
    echo_warnings(result.warnings)
    if output_format == "json":
        click.echo(render_backtest_json(result))
    else:
        click.echo(render_backtest_table(result), nl=False)
