"""``csp-monitor silence``: add, list and expire silences (acknowledgements) of alerts."""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import click

from csp_monitor.cli import LazyGroup
from csp_monitor.cli.state_options import (
    existing_state_option,
    format_option,
    now_option,
    open_existing_state,
)

if TYPE_CHECKING:
    from csp_monitor.models.alert_state import AlertRecord

__all__ = ["silence"]

SILENCE_COMMANDS: dict[str, str] = {
    "add": "csp_monitor.cli.silence_cmd:add",
    "list": "csp_monitor.cli.silence_cmd:list_silences",
    "expire": "csp_monitor.cli.silence_cmd:expire",
}

SILENCE_HELP: dict[str, str] = {
    "add": "Silence (acknowledge) matching alerts until a date, at most 90 days ahead.",
    "list": "List the silences in force (--all: every silence ever added).",
    "expire": "End a silence now; it stays in the audit trail.",
}


class _SilenceGroup(LazyGroup):
    """The ``silence`` group: one-line help from SILENCE_HELP, without importing each command."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SILENCE_HELP.get(name, "")) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=_SilenceGroup, lazy=SILENCE_COMMANDS)
def silence() -> None:
    """Add, list and expire silences. A silenced alert is still recorded, only not notified."""


def _end_of_day(day: date) -> datetime:
    """The end of ``day`` in UK time (the start of the next day), as UTC."""
    from datetime import UTC

    try:
        from zoneinfo import ZoneInfo

        zone: object = ZoneInfo("Europe/London")
    except Exception:  # no time zone data: UTC is close enough for a day's end
        zone = UTC
    start_of_next = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone)  # type: ignore[arg-type]
    return start_of_next.astimezone(UTC)


def _parse_day(_ctx: click.Context, _param: click.Parameter, value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date: write it as YYYY-MM-DD, e.g. 2014-05-31") from None


@click.command()
@existing_state_option
@click.option("--until", "until", required=True, metavar="YYYY-MM-DD", callback=_parse_day,
              help="The last day of the silence (it ends at midnight, UK time); at most 90 days ahead.")
@click.option("--reason", required=True, help="Why: shown beside the alert and kept in the audit trail.")
@click.option("--by", "author", required=True, metavar="NAME", help="Who is adding it.")
@click.option("--alert", "alert", metavar="ID", help="Only this alert.")
@click.option("--area", "area", metavar="AREA", help="Only this area.")
@click.option("--measure", "measure", metavar="MEASURE", help="Only this measure.")
@now_option
def add(state: str | None, config: str | None, until: date, reason: str, author: str, alert: str | None,
        area: str | None, measure: str | None, now: datetime) -> None:
    """Silence (acknowledge) alerts matching --alert, --area and --measure until a date."""
    with open_existing_state(state, config) as store:
        _check_names(store.alert_records(), config, {"alert": alert, "area": area, "measure": measure})
        added = store.add_silence(until=_end_of_day(until), author=author, reason=reason, now=now, alert=alert,
                                  area=area, measure=measure)
    click.echo(f"Added silence {added.id}: {added.describe()} until "
               f"{added.expires_at.strftime('%Y-%m-%d %H:%M UTC')}.")


def _check_names(records: Sequence[AlertRecord], config: str | None, given: dict[str, str | None]) -> None:
    """Refuse a silence that would match nothing through a slip: a name one letter or two from an alert, area or
    measure the store has recorded (or, with --config, one the rules do not have at all)."""
    from csp_monitor.errors import InputError, Problem
    from csp_monitor.load.validation import closest

    known: dict[str, set[str]] = {name: {getattr(record, name) for record in records} for name in given}
    ruled: dict[str, set[str]] | None = None
    if config is not None:
        from csp_monitor.load.config import load_config
        from csp_monitor.load.rules import load_rules

        rules = load_rules(load_config(config).rules)
        ruled = {"alert": {rule.id for rule in rules.alerts},
                 "measure": {measure.id for _, measure in rules.measures()},
                 "area": {rules.area} if rules.area is not None else set()}
    problems = []
    for name, value in given.items():
        if value is None or value in known[name] or (ruled is not None and value in ruled[name]):
            continue
        options = sorted(known[name] | (ruled[name] if ruled is not None else set()))
        hint = closest(value, options)
        if hint is not None:
            problems.append(Problem(f"no {name} is called '{value}', so the silence would silence nothing",
                                    file=f"--{name}", suggestion=hint))
        elif ruled is not None and ruled[name]:
            problems.append(Problem(f"the rules have no {name} '{value}', so the silence would silence nothing: "
                                    f"they have {', '.join(sorted(ruled[name]))}", file=f"--{name}"))
    if problems:
        raise InputError(problems)


@click.command("list")
@existing_state_option
@click.option("--all", "show_all", is_flag=True, help="Include silences that have ended.")
@format_option("table", "json")
@now_option
def list_silences(state: str | None, config: str | None, show_all: bool, output_format: str, now: datetime) -> None:
    """List the silences in force (with --all, every silence ever added)."""
    from csp_monitor.render.alert_tables import silence_json, silences_table

    with open_existing_state(state, config) as store:
        found = store.silences(now=now, include_ended=show_all)
    if output_format == "json":
        click.echo(silence_json(found))
    else:
        click.echo(silences_table(found, now=now), nl=False)


@click.command()
@click.argument("silence_id", metavar="ID", type=click.IntRange(min=1))
@existing_state_option
@click.option("--by", "author", metavar="NAME", help="Who is ending it (default: your user name).")
@now_option
def expire(silence_id: int, state: str | None, config: str | None, author: str | None, now: datetime) -> None:
    """End silence ID now; it stays in the audit trail."""
    with open_existing_state(state, config) as store:
        ended = store.expire_silence(silence_id, by=author or getpass.getuser(), now=now)
    click.echo(f"Ended silence {ended.id} ({ended.describe()}).")
