"""``csp-monitor rules diff``: what a proposed change to the rules would change."""

from __future__ import annotations

import json

import click

from csp_monitor.cli.options import as_of_option, echo_warnings

__all__ = ["diff"]


@click.command()
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@click.option("--also", "also", multiple=True, type=click.Path(dir_okay=False),
              help="A rule file loaded with both OLD and NEW (e.g. the alerts); repeat for several.")
@click.option("--figures", "figures", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="A figures file (CSV or JSON); repeat for several.")
@as_of_option
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="How to print the differences.")
@click.option("--exit-code", "exit_code", is_flag=True, help="Exit with 1 when anything differs (for scripts).")
def diff(old: str, new: str, also: tuple[str, ...], figures: tuple[str, ...], as_of: str | None,
         output_format: str, exit_code: bool) -> None:
    """Show what changing the rules from OLD to NEW would change: statuses, alerts and recipients.

    \b
    Example:
      csp-monitor rules diff rules/harborough-2013-14.yaml proposed.yaml \\
          --also rules/harborough-alerts.yaml --figures examples/harborough/figures.csv --as-of 2014-03
    """
    from csp_monitor.authoring.rule_diff import diff_rules
    from csp_monitor.errors import InputError, Problem
    from csp_monitor.load.figures import load_figures
    from csp_monitor.load.rules import load_rules
    from csp_monitor.models.rules import RuleSet

    problems: list[Problem] = []
    loaded: list[RuleSet] = []
    for files in ([old, *also], [new, *also]):
        try:
            loaded.append(load_rules(files))
        except InputError as exc:
            problems.extend(p for p in exc.problems if p not in problems)
    try:
        figure_set = load_figures(list(figures))
    except InputError as exc:
        problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    old_rules, new_rules = loaded
    for warning in dict.fromkeys([*old_rules.warnings, *new_rules.warnings]):  # files in both: once
        click.echo(warning, err=True)
    result = diff_rules(old_rules, new_rules, figure_set, as_of)
    echo_warnings(result.warnings)
    if output_format == "json":
        click.echo(json.dumps({
            "as_of": result.as_of, "alerts_compared": result.alerts_compared, "unchanged": result.unchanged,
            "measures": [{"area": m.area, "measure": m.measure, "name": m.name,
                          "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in m.changes]}
                         for m in result.measures]}, indent=2, ensure_ascii=False))
    else:
        click.echo(_text(old, new, result), nl=False)
    if exit_code and result.measures:
        raise click.exceptions.Exit(1)


def _text(old: str, new: str, result: object) -> str:
    from csp_monitor.authoring.rule_diff import RuleDiff

    assert isinstance(result, RuleDiff)
    lines = [f"Changing {old} to {new}, judged on the same figures as of {result.as_of}:"]
    areas = {m.area for m in result.measures}
    for measure in result.measures:
        where = f" in {measure.area}" if len(areas) > 1 else ""
        lines.append("")
        lines.append(f"{_clean(measure.name)} ({measure.measure}){where}")
        lines.extend(f"  {change.field}: {_clean(change.old)} -> {_clean(change.new)}" for change in measure.changes)
    lines.append("")
    changed = len(result.measures)
    if changed:
        lines.append(f"{changed} measure{'s' if changed != 1 else ''} would change, {result.unchanged} would not.")
    else:
        lines.append(f"Nothing would change: both judge all {result.unchanged} measures the same way.")
    if not result.alerts_compared:
        lines.append("(No alerts were compared: neither rule set has alert rules.)")
    return "\n".join(lines) + "\n"


def _clean(text: str) -> str:
    import unicodedata

    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
