"""``csp-monitor alerts`` and ``csp-monitor history``: what the state store says."""

from __future__ import annotations

from datetime import datetime

import click

from csp_monitor.cli.options import use_colour
from csp_monitor.cli.state_options import (
    existing_state_option,
    format_option,
    now_option,
    open_existing_state,
)

__all__ = ["alerts", "history"]


@click.command()
@existing_state_option
@click.option("--all", "show_all", is_flag=True, help="Include resolved alerts.")
@format_option("table", "json")
@now_option
def alerts(state: str | None, config: str | None, show_all: bool, output_format: str, now: datetime) -> None:
    """Show the alerts that are firing, pending or silenced, with their reasons."""
    from csp_monitor.render.alert_tables import alerts_json, alerts_table

    with open_existing_state(state, config) as store:
        records = store.alert_records()
        silences = store.silences(now=now)
        order = {"firing": 0, "pending": 1, "silenced": 2, "resolved": 3}
        chosen = sorted((r for r in records if show_all or r.state != "resolved"),
                        key=lambda r: (order[r.state], r.alert, r.area, r.measure))
        deliveries = store.last_notice_deliveries(chosen)
    if output_format == "json":
        click.echo(alerts_json(chosen, silences, deliveries=deliveries))
    else:
        click.echo(alerts_table(chosen, silences, colour=use_colour(), deliveries=deliveries), nl=False)


@click.command()
@existing_state_option
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True,
              help="Show at most this many entries, newest first.")
@format_option("table", "json")
def history(state: str | None, config: str | None, limit: int, output_format: str) -> None:
    """What was decided and notified, when, to whom, and under which rule set (by its hash)."""
    from csp_monitor.render.alert_tables import history_json, history_table

    with open_existing_state(state, config) as store:
        entries = store.history(limit=limit)
    if output_format == "json":
        click.echo(history_json(entries))
    else:
        click.echo(history_table(entries), nl=False)
