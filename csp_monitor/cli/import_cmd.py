"""``csp-monitor import``: figures from police.uk archives and partnership spreadsheets.

The summary of an import (what was read, what is missing, what looks wrong)
goes to stderr, so that stdout stays free for a pipeline; the figures go to
the ``--out`` file, written atomically. A progress bar shows on stderr only
when stderr is a terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

__all__ = ["import_group"]


@click.group(name="import")
def import_group() -> None:
    """Import figures from police.uk archives or spreadsheets."""


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=1, label="Counting", file=sys.stderr, show_percent=True,
                           show_eta=True) as bar:
        state = {"done": 0}

        def update(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - state["done"])
            state["done"] = done

        yield update


@import_group.command(name="police-uk")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="The figures CSV to write (area,measure,period,value,flag,reason).")
@click.option("--lookup", type=click.Path(dir_okay=False),
              help="The ONS LAD17-CSP17-PFA17 lookup CSV: count per partnership rather than per district.")
@click.option("--skip-malformed", is_flag=True,
              help="Skip malformed rows (each is reported) instead of stopping the import.")
@click.option("--area-by", type=click.Choice(["district", "force"]), default="district", show_default=True,
              help="Count per district (or partnership, with --lookup) or per police force.")
@click.option("--keep-outside-areas", is_flag=True,
              help="Keep districts outside the forces' own areas (a few border rows each).")
@click.option("--engine", type=click.Choice(["auto", "arrow", "python", "checked"]), default="auto",
              show_default=True, help="How to count: Arrow when installed, else pure Python.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Files counted in parallel (default: one per core for large imports).")
@click.option("--no-progress", is_flag=True, help="Never show a progress bar.")
def police_uk(paths: tuple[str, ...], out: str, lookup: str | None, skip_malformed: bool, area_by: str,
              keep_outside_areas: bool, engine: str, workers: int | None, no_progress: bool) -> None:
    """Count police.uk street-level crime files into monthly figures.

    PATHS are police.uk zip archives, folders of them (or of extracted
    YYYY-MM/YYYY-MM-<force>-street.csv files) or single street CSVs.
    Measures are police.uk's crime type slugs (burglary, vehicle-crime, ...)
    plus total-crime (every type but anti-social behaviour).

    \b
    Example:
      csp-monitor import police-uk leicestershire-street.zip \\
          --lookup lad17-csp17-pfa17.csv --out figures.csv
    """
    from csp_monitor.importers.police_uk import import_police_uk

    with _progress(not no_progress) as progress:
        result = import_police_uk(
            list(paths), out=out, lookup=lookup, skip_malformed=skip_malformed, area_by=area_by,
            keep_outside_areas=keep_outside_areas, engine=engine, workers=workers, progress=progress)
    for warning in result.warnings:
        click.echo(str(warning), err=True)
    for line in result.summary():
        click.echo(line, err=True)
    click.echo(f"Wrote {len(result.figures):,} figures to {out}.", err=True)


@import_group.command(name="spreadsheet")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="The figures CSV to write (area,measure,period,value).")
@click.option("--area", help="The area the whole table covers, when it has no Area column.")
@click.option("--sheet", help="The worksheet to read (default: the first).")
def spreadsheet(file: str, out: str, area: str | None, sheet: str | None) -> None:
    """Import a wide table: one row per measure, one column per month (xlsx or CSV).

    \b
    Example:
      csp-monitor import spreadsheet performance.xlsx --area harborough --out figures.csv
    """
    from csp_monitor.importers.spreadsheet import import_spreadsheet

    result = import_spreadsheet(file, area=area, sheet=sheet, out=out)
    for line in result.summary():
        click.echo(line, err=True)
    click.echo(f"Wrote {len(result.figures):,} figures to {out}.", err=True)
