"""``csp-monitor status``: schedules, their last runs, the daemon, the outbox and recent errors."""

from __future__ import annotations

import click

from csp_monitor.cli.send_cmd import config_option

__all__ = ["status"]


@click.command()
@config_option
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="For people, or JSON for monitoring tools.")
def status(config: str, output_format: str) -> None:
    """Show each schedule's next and last run, whether the daemon is running, the outbox queue and the
    latest errors.

    \b
    Example:
      csp-monitor status --config /etc/csp-monitor/csp-monitor.yaml --format json
    """
    from csp_monitor.schedule.status import read_status, render_status

    found = read_status(config)
    if output_format == "json":
        click.echo(found.model_dump_json(indent=2))
    else:
        click.echo(render_status(found), nl=False)
