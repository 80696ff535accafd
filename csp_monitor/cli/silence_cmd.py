"""``csp-monitor silence``: add, list and expire silences (acknowledgements) of alerts."""

from __future__ import annotations

import getpass
from datetime import date, datetime, time, timedelta

import click

from csp_monitor.cli import LazyGroup
from csp_monitor.cli.state_options import format_option, now_option, open_state, state_option

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
@state_option
@click.option("--until", "until", required=True, metavar="YYYY-MM-DD", callback=_parse_day,
              help="The last day of the silence (it ends at midnight, UK time); at most 90 days ahead.")
@click.option("--reason", required=True, help="Why: shown beside the alert and kept in the audit trail.")
@click.option("--by", "author", required=True, metavar="NAME", help="Who is adding it.")
@click.option("--alert", "alert", metavar="ID", help="Only this alert.")
@click.option("--area", "area", metavar="AREA", help="Only this area.")
@click.option("--measure", "measure", metavar="MEASURE", help="Only this measure.")
@now_option
def add(state: str, until: date, reason: str, author: str, alert: str | None, area: str | None,
        measure: str | None, now: datetime) -> None:
    """Silence (acknowledge) alerts matching --alert, --area and --measure until a date."""
    with open_state(state) as store:
        added = store.add_silence(until=_end_of_day(until), author=author, reason=reason, now=now, alert=alert,
                                  area=area, measure=measure)
    click.echo(f"Added silence {added.id}: {added.describe()} until "
               f"{added.expires_at.strftime('%Y-%m-%d %H:%M UTC')}.")


@click.command("list")
@state_option
@click.option("--all", "show_all", is_flag=True, help="Include silences that have ended.")
@format_option("table", "json")
@now_option
def list_silences(state: str, show_all: bool, output_format: str, now: datetime) -> None:
    """List the silences in force (with --all, every silence ever added)."""
    from csp_monitor.render.alert_tables import silence_json, silences_table

    with open_state(state) as store:
        found = store.silences(now=now, include_ended=show_all)
    if output_format == "json":
        click.echo(silence_json(found))
    else:
        click.echo(silences_table(found, now=now), nl=False)


@click.command()
@click.argument("silence_id", metavar="ID", type=click.IntRange(min=1))
@state_option
@click.option("--by", "author", metavar="NAME", help="Who is ending it (default: your user name).")
@now_option
def expire(silence_id: int, state: str, author: str | None, now: datetime) -> None:
    """End silence ID now; it stays in the audit trail."""
    with open_state(state) as store:
        ended = store.expire_silence(silence_id, by=author or getpass.getuser(), now=now)
    click.echo(f"Ended silence {ended.id} ({ended.describe()}).")
