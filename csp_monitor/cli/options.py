"""Options and helpers shared by the command modules."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from csp_monitor.models.figures import FigureSet
    from csp_monitor.models.rules import RuleSet

__all__ = [
    "as_of_option",
    "echo_rule_warnings",
    "echo_warnings",
    "load_inputs",
    "month_callback",
    "refuse_overwriting_inputs",
    "use_colour",
]

def _check_month(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from csp_monitor.periods import format_month, parse_month

    try:
        return format_month(parse_month(value))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


month_callback = _check_month
"""Validate a YYYY-MM option (a usage error, exit 2, when it is not a month)."""

as_of_option = click.option(
    "--as-of", "as_of", metavar="YYYY-MM", callback=_check_month,
    help="The last month of the year to date (default: the latest month with figures).")


def use_colour() -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def load_inputs(rules_paths: Sequence[str], figures_paths: Sequence[str]) -> tuple[RuleSet, FigureSet]:
    """Load rules and figures, reporting the problems of both at once.

    Rules the figures leave nothing to judge (no measures, or an area the
    figures lack) are refused here, located in the rule files.
    """
    from csp_monitor.authoring.coverage import figures_problems
    from csp_monitor.errors import InputError, Problem
    from csp_monitor.load.figures import load_figures
    from csp_monitor.load.rules import LoadedRuleFile, combine, load_rule_files

    problems: list[Problem] = []
    rules = figures = None
    files: list[LoadedRuleFile] = []
    try:
        if not rules_paths:
            raise InputError([Problem("no rule files were given")])
        files = load_rule_files(list(rules_paths))
        rules = combine(files)
    except InputError as exc:
        problems.extend(exc.problems)
    try:
        figures = load_figures(list(figures_paths))
    except InputError as exc:
        problems.extend(exc.problems)
    if rules is not None and figures is not None:
        problems.extend(figures_problems(files, rules, figures))
    if rules is not None:  # with any problems, so nothing waits for a second run
        echo_rule_warnings(rules)
    if problems or rules is None or figures is None:
        raise InputError(problems)
    return rules, figures


def echo_rule_warnings(rules: RuleSet) -> None:
    """The rule files' located warnings (``file:line:col: warning: ...``), on stderr, once."""
    for warning in rules.warnings:
        click.echo(warning, err=True)


def refuse_overwriting_inputs(out: str | None, inputs: Sequence[str], option: str = "--out") -> None:
    """Refuse, before any work, an output that is a device or pipe, or one of the command's inputs (by any name)."""
    if out is None:
        return
    from csp_monitor.errors import InputError, Problem
    from csp_monitor.files import overwritten_input, special_output

    kind = special_output(out)
    if kind is not None:
        raise InputError([Problem(f"this is {kind}, not a file: give {option} the name of a file to write",
                                  file=out)])
    same = overwritten_input(out, inputs)
    if same is not None:
        also = "" if os.path.abspath(out) == os.path.abspath(same) else f"{same} (by another name), "
        raise InputError([Problem(f"this is {also}an input of this command: writing {option} here would "
                                  "overwrite it; give another file", file=out)])


def echo_warnings(warnings: Sequence[str]) -> None:
    """Warnings go to stderr so they never corrupt JSON or CSV on stdout."""
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
