"""``csp-monitor rules new``: start a commented rule file from a few answers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

__all__ = ["new"]


def _default_year_start() -> str:
    """The April that starts the current financial year (a default for the question only)."""
    from datetime import date

    today = date.today()
    year = today.year if today.month >= 4 else today.year - 1
    return f"{year}-04"


@click.command()
@click.option("--partnership", help="The partnership's name, e.g. 'Harborough District Community Safety Partnership'.")
@click.option("--area", help="The area as the figures name it, e.g. harborough.")
@click.option("--year-starts", "year_starts", metavar="YYYY-MM",
              help="The first month of the reporting year (default: this financial year's April).")
@click.option("--tolerance", type=click.FloatRange(min=0), help="The amber band in percentage points (default 5).")
@click.option("--owner", help="The email address of whoever answers for the first priority.")
@click.option("--out", "out", type=click.Path(dir_okay=False),
              help="Write the new file here (never over an existing file); without it the file is printed.")
def new(partnership: str | None, area: str | None, year_starts: str | None, tolerance: float | None,
        owner: str | None, out: str | None) -> None:
    """Start a new rule file, with comments explaining every line.

    Give the answers as options, or run it in a terminal and it asks.

    \b
    Example:
      csp-monitor rules new --partnership "Harborough District Community Safety Partnership" \\
          --area harborough --year-starts 2025-04 --out rules/harborough-2025-26.yaml
    """
    from csp_monitor.authoring.scaffold import NewRuleFile, scaffold_rule_file

    asking = sys.stdin.isatty() and partnership is None
    if partnership is None:
        if not asking:
            raise click.UsageError("give --partnership NAME (or run the command in a terminal to be asked)")
        partnership = click.prompt("The partnership's name")
        area = click.prompt("The area, as the figures name it (leave empty for every area)", default="",
                            show_default=False) or None
        year_starts = click.prompt("The first month of the reporting year (YYYY-MM)",
                                   default=year_starts or _default_year_start())
        tolerance = click.prompt("The amber band, in percentage points", default=tolerance if tolerance is not None
                                 else 5.0, type=click.FloatRange(min=0))
        owner = click.prompt("The email address of the first priority's owner (leave empty to fill in later)",
                             default="", show_default=False) or None
    schema = "../docs/schema/rules.schema.json"
    if out is not None:
        schema_file = Path("docs/schema/rules.schema.json").resolve()
        schema = Path(os.path.relpath(schema_file, Path(out).resolve().parent)).as_posix()
    answers = NewRuleFile(partnership=partnership, area=area, year_starts=year_starts or _default_year_start(),
                          tolerance=5.0 if tolerance is None else tolerance, owner=owner, schema=schema,
                          file_name=out or "rules.yaml")
    text = scaffold_rule_file(answers)
    if out is None:
        click.echo(text, nl=False)
        return
    _write(out, text)
    click.echo(f"wrote {out}: check it with  csp-monitor rules check {out}")
    if not Path("docs/schema/rules.schema.json").exists():
        click.echo("so that your editor checks it as you type, also run:  csp-monitor schema --write docs/schema")


def _write(out: str, text: str) -> None:
    from csp_monitor.files import create_text_exclusively

    try:
        Path(out).parent.mkdir(parents=True, exist_ok=True)  # `--out rules/x.yaml` in a new folder, as the guide does
        create_text_exclusively(out, text)
    except FileExistsError:
        raise click.ClickException(
            f"{out} already exists: csp-monitor never overwrites a rule file; choose another name, or move "
            "the old file away first") from None
    except OSError as exc:
        raise click.FileError(out, hint=exc.strerror or str(exc)) from None
