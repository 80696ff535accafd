"""``csp-monitor rules``: check (and, later, explain, test, diff) rule files."""

from __future__ import annotations

import click

from csp_monitor.cli import LazyGroup

__all__ = ["rules"]

RULES_COMMANDS: dict[str, str] = {
    "check": "csp_monitor.cli.rules_cmd:check",
    "diff": "csp_monitor.cli.rules_diff_cmd:diff",
    "explain": "csp_monitor.cli.rules_explain_cmd:explain",
    "new": "csp_monitor.cli.rules_new_cmd:new",
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
@click.option("--figures", "figures", multiple=True, type=click.Path(dir_okay=False),
              help="Also warn about measures these figures (CSV or JSON) have nothing for; repeat for several.")
@click.option("--each-file", is_flag=True,
              help="Check each file on its own, not as one rule set (for pre-commit hooks in a repository "
                   "holding several partnerships' rules).")
def check(paths: tuple[str, ...], figures: tuple[str, ...], each_file: bool) -> None:
    """Validate rule files; report every problem as FILE:LINE:COL.

    \b
    Examples:
      csp-monitor rules check rules/harborough-2013-14.yaml rules/harborough-alerts.yaml
      csp-monitor rules check rules/*.yaml --figures examples/harborough/figures.csv
    """
    from csp_monitor.load.rules import combine, load_rule_files

    files = load_rule_files(list(paths))
    if each_file:
        if figures:
            raise click.UsageError("--figures needs the files as one rule set: leave out --each-file")
        slips = sorted((w for file in files for w in file.warnings), key=lambda problem: problem.sort_key())
        for warning in slips:
            click.echo(str(warning), err=True)
        label = f"OK ({_count(len(slips), 'warning')})" if slips else "OK"
        click.echo(f"{label}: {_count(len(files), 'file')} checked one by one")
        return
    rule_set = combine(files)
    from csp_monitor.authoring.lint import rule_warnings

    warnings = [warning for file in files for warning in file.warnings]
    warnings.extend(rule_warnings(files))
    if figures:
        from csp_monitor.authoring.coverage import figures_coverage, figures_problems
        from csp_monitor.errors import RulesError
        from csp_monitor.load.figures import load_figures

        figure_set = load_figures(list(figures))
        errors = figures_problems(files, rule_set, figure_set)
        coverage = figures_coverage(files, rule_set, figure_set)
        if errors:  # each measure's own warning with it, unless the area alone says it all
            raise RulesError([*errors, *warnings, *(w for w in coverage if w.path != ("area",))])
        warnings.extend(coverage)
    for warning in sorted(warnings, key=lambda problem: problem.sort_key()):
        click.echo(str(warning), err=True)
    measures = rule_set.measures()
    targets = sum(1 for _, m in measures if m.target is not None)
    alerts = f", {_count(len(rule_set.alerts), 'alert')}" if rule_set.alerts else ""
    label = f"OK ({_count(len(warnings), 'warning')})" if warnings else "OK"
    click.echo(
        f"{label}: {_count(len(paths), 'file')}, {_count(len(rule_set.priorities), 'priority', 'priorities')}, "
        f"{_count(len(measures), 'measure')} ({targets} with {'a target' if targets == 1 else 'targets'}, "
        f"{len(measures) - targets} monitored){alerts}")


def _count(number: int, word: str, plural: str | None = None) -> str:
    return f"{number} {word if number == 1 else plural or word + 's'}"
