"""``csp-monitor send``: evaluate, decide, render and deliver once."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from csp_monitor.cli.options import as_of_option, echo_warnings

__all__ = ["config_option", "now_moment", "send", "when_option"]

config_option = click.option(
    "--config", "config", required=True, envvar="CSP_MONITOR_CONFIG", metavar="FILE",
    type=click.Path(dir_okay=False),
    help="The monitor configuration file (YAML). Default: $CSP_MONITOR_CONFIG.")

when_option = click.option(
    "--now", "now", metavar="ISO", default=None,
    help="Act as at this moment (e.g. 2014-04-10T07:00, UTC unless an offset is given), for replays and "
         "tests. Default: now.")


def now_moment(value: str | None) -> datetime | None:
    """The ``--now`` option as an aware datetime (None: the real clock)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date and time: write it as 2014-04-10T07:00",
                                 param_hint="--now") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@click.command()
@config_option
@as_of_option
@click.option("--dry-run", "dry_run", metavar="DIR", type=click.Path(file_okay=False),
              help="Send nothing and record nothing: write each message that would go as .eml and .html "
                   "files into DIR, corrections of summaries already sent and the outbox's retries included.")
@click.option("--only", "only", type=click.Choice(["summary", "alerts"]), default=None,
              help="Only the risk summary, or only the alerts (the outbox is delivered either way).")
@when_option
def send(config: str, as_of: str | None, dry_run: str | None, only: str | None, now: str | None) -> None:
    """Evaluate, decide alerts, render and deliver once: the risk summary (once per month) and every
    alert notice due.

    Everything is put in the outbox of the state store first, in the same
    transaction as the decision, then delivered; running it again for the same
    month sends nothing new. Messages the server could not take are retried by
    later runs.

    \b
    Example:
      csp-monitor send --config examples/harborough/csp-monitor.yaml
      csp-monitor send --config csp-monitor.yaml --as-of 2014-03 --dry-run out/
    """
    from csp_monitor.cli.interrupt import STOPPED_EXIT, stop_on_interrupt
    from csp_monitor.delivery.run import JOBS, send_once
    from csp_monitor.load.config import load_config

    moment = now_moment(now)
    settings = load_config(config)
    with stop_on_interrupt() as stop:
        report = send_once(settings, as_of=as_of, now=moment, dry_run=dry_run,
                           jobs=(only,) if only else JOBS, stop=stop)
    echo_warnings(report.warnings)
    for line in report.lines():
        click.echo(line)
    if stop():
        click.echo("Stopped (Ctrl-C): what is left is sent by the next run.", err=True)
        raise click.exceptions.Exit(STOPPED_EXIT)
    if report.failed or report.retrying or report.unknown or report.incomplete:
        count = len(report.failed) + len(report.retrying) + len(report.unknown)
        if count:
            click.echo(f"{count} message{'s' if count != 1 else ''} could not be delivered; see "
                       "'csp-monitor outbox --config ...'", err=True)
        if report.incomplete:
            partly = len(report.incomplete)
            click.echo(f"{partly} message{'s' if partly != 1 else ''} reached only some of {'their' if partly != 1 else 'its'} "
                       "recipients (see above); see 'csp-monitor outbox --config ...'", err=True)
        raise click.exceptions.Exit(1)
