"""``csp-monitor evaluate``: judge every measure against its target."""

from __future__ import annotations

import click

from csp_monitor.cli.options import (
    as_of_option,
    echo_warnings,
    load_inputs,
    refuse_overwriting_inputs,
    use_colour,
)

__all__ = ["evaluate"]


@click.command()
@click.argument("rules", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--figures", "figures", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="A figures file (CSV or JSON); repeat for several.")
@as_of_option
@click.option("--format", "output_format", type=click.Choice(["table", "json", "csv", "xlsx"]), default="table",
              show_default=True, help="How to give the results (xlsx needs --out).")
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
              help="Write the results to this file instead of printing them (required for xlsx).")
@click.option("--include", "include", type=click.Choice(["series"]), multiple=True,
              help="With --format json: also give each SPC chart's monthly series (periods and values).")
def evaluate(rules: tuple[str, ...], figures: tuple[str, ...], as_of: str | None, output_format: str,
             out: str | None, include: tuple[str, ...]) -> None:
    """Judge every measure in RULES against its target, year to date.

    \b
    Example:
      csp-monitor evaluate rules/harborough-2013-14.yaml \\
          --figures examples/harborough/figures.csv --as-of 2014-03
    """
    from csp_monitor.evaluation.engine import evaluate as run_evaluation
    from csp_monitor.render.table import evaluation_rows, render_csv, render_json, render_table

    if include and output_format != "json":
        raise click.UsageError("--include series goes with --format json")
    if output_format == "xlsx" and out is None:
        raise click.UsageError("--format xlsx writes a spreadsheet: give the file with --out FILE.xlsx")
    refuse_overwriting_inputs(out, [*rules, *figures])
    rule_set, figure_set = load_inputs(rules, figures)
    result = run_evaluation(rule_set, figure_set, as_of=as_of)
    echo_warnings(result.warnings)
    if output_format == "xlsx":
        from csp_monitor.render.table import evaluation_title
        from csp_monitor.render.xlsx_table import write_xlsx_table

        assert out is not None
        path = write_xlsx_table(evaluation_rows(result), out,
                                title=evaluation_title(result))
        click.echo(f"wrote {path}")
        return
    if output_format == "json" and out is not None:
        from csp_monitor.files import atomic_path
        from csp_monitor.render.table import write_json

        with atomic_path(out) as temporary, open(temporary, "wb") as stream:
            write_json(result, stream, include_series="series" in include)
            stream.write(b"\n")
        click.echo(f"wrote {out}")
        return
    if output_format == "json":
        text = render_json(result, include_series="series" in include) + "\n"
    elif output_format == "csv":
        text = render_csv(result)
    else:
        text = render_table(result, colour=use_colour() and out is None, warnings=False)
    if out is None:
        click.echo(text, nl=False)
    else:
        from csp_monitor.files import write_text_atomically

        write_text_atomically(out, text)
        click.echo(f"wrote {out}")
