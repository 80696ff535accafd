"""``csp-monitor report``: the standalone HTML risk report."""

from __future__ import annotations

import click

from csp_monitor.cli.options import (
    as_of_option,
    echo_warnings,
    load_inputs,
    refuse_overwriting_inputs,
)

__all__ = ["report"]


@click.command()
@click.argument("rules", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--figures", "figures", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="A figures file (CSV or JSON); repeat for several.")
@as_of_option
@click.option("--out", "out", required=True, metavar="FILE", type=click.Path(dir_okay=False),
              help="The HTML file to write, e.g. report.html.")
@click.option("--templates", "templates", metavar="DIR", type=click.Path(file_okay=False, exists=True),
              help="A folder of templates that override the built-in ones.")
@click.option("--charts/--no-charts", default=True, show_default=True, help="Draw the charts.")
def report(rules: tuple[str, ...], figures: tuple[str, ...], as_of: str | None, out: str,
           templates: str | None, charts: bool) -> None:
    """Write the risk report for RULES as one standalone HTML file: headline, exceptions with charts,
    and the full table by priority. No scripts, no external resources: it can be emailed or published.

    \b
    Example:
      csp-monitor report rules/harborough-2013-14.yaml --figures examples/harborough/figures.csv \\
          --as-of 2014-03 --out report.html
    """
    from pathlib import Path

    from csp_monitor.evaluation.engine import evaluate
    from csp_monitor.files import write_bytes_atomically
    from csp_monitor.render.messages import render_report
    from csp_monitor.render.summary import build_summary, previous_evaluation

    templates_read = [str(path) for path in Path(templates).rglob("*")] if templates else []
    refuse_overwriting_inputs(out, [*rules, *figures, *templates_read])
    rule_set, figure_set = load_inputs(rules, figures)
    evaluation = evaluate(rule_set, figure_set, as_of=as_of)
    echo_warnings(evaluation.warnings)
    summary = build_summary(rule_set, figure_set, evaluation,
                            previous=previous_evaluation(rule_set, figure_set, evaluation), charts=charts)
    html = render_report(summary, templates=templates)
    target = Path(out)
    if target.parent and not target.parent.exists():
        raise click.BadParameter(f"the folder {target.parent} does not exist", param_hint="--out")
    write_bytes_atomically(target, html.encode("utf-8"))
    click.echo(f"wrote {target}: {summary.headline.sentence}")
