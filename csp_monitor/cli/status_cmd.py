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
    Exit codes, for monitoring: 0 all is well; 4 something needs a look
    (the last run of a schedule failed or was interrupted, a message was
    given up in the last 7 days or refused for good to some recipients, or
    messages wait after a failed attempt:
    listed under "needs attention", and in "attention" in JSON); 1 the
    configuration is invalid; 3 the state store cannot be used or reached.

    \b
    Example:
      csp-monitor status --config /etc/csp-monitor/csp-monitor.yaml --format json
    """
    from csp_monitor.schedule.status import read_status, render_status, status_exit_code

    found = read_status(config)
    if output_format == "json":
        click.echo(found.model_dump_json(indent=2))
    else:
        click.echo(render_status(found), nl=False)
    code = status_exit_code(found)
    if code:
        raise click.exceptions.Exit(code)
