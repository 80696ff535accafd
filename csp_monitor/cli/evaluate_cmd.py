"""``csp-monitor evaluate``: judge every measure against its target."""

from __future__ import annotations

import click

from csp_monitor.cli.options import as_of_option, echo_warnings, load_inputs, use_colour

__all__ = ["evaluate"]


@click.command()
@click.argument("rules", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--figures", "figures", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="A figures file (CSV or JSON); repeat for several.")
@as_of_option
@click.option("--format", "output_format", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True, help="How to print the results.")
def evaluate(rules: tuple[str, ...], figures: tuple[str, ...], as_of: str | None, output_format: str) -> None:
    """Judge every measure in RULES against its target, year to date.

    \b
    Example:
      csp-monitor evaluate rules/harborough-2013-14.yaml \\
          --figures examples/harborough/figures.csv --as-of 2014-03
    """
    from csp_monitor.evaluation.engine import evaluate as run_evaluation
    from csp_monitor.render.table import render_csv, render_json, render_table

    rule_set, figure_set = load_inputs(rules, figures)
    result = run_evaluation(rule_set, figure_set, as_of)
    echo_warnings(result.warnings)
    if output_format == "json":
        click.echo(render_json(result))
    elif output_format == "csv":
        click.echo(render_csv(result), nl=False)
    else:
        click.echo(render_table(result, colour=use_colour(), warnings=False), nl=False)
