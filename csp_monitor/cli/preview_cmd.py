"""``csp-monitor preview``: render the messages that would be sent, without deciding or sending."""

from __future__ import annotations

import click

from csp_monitor.cli.options import as_of_option, echo_warnings
from csp_monitor.cli.send_cmd import config_option, now_moment, when_option

__all__ = ["preview"]


@click.command()
@config_option
@as_of_option
@click.option("--out", "out", required=True, metavar="DIR", type=click.Path(file_okay=False),
              help="The folder to write the messages into (.eml and .html).")
@when_option
def preview(config: str, as_of: str | None, out: str, now: str | None) -> None:
    """Render the exact messages a send would deliver, without deciding, recording or sending.

    The risk summary is always rendered (even when this month's was sent), and
    the alert emails a send would make now. When the figures of a summary
    already sent have changed, the correction a send would make is written
    too, and what changed is listed. Open the .html files in a browser and the
    .eml files in a mail client.

    \b
    Example:
      csp-monitor preview --config examples/harborough/csp-monitor.yaml --out preview/
    """
    from pathlib import Path

    from csp_monitor.delivery.run import plan_messages, write_planned
    from csp_monitor.load.config import load_config

    settings = load_config(config)
    plan = plan_messages(settings, as_of=as_of, now=now_moment(now), include_sent=True)
    planned, as_of_month = plan.messages, plan.as_of
    echo_warnings(plan.warnings)
    paths = write_planned(planned, Path(out))
    for message, path in zip(planned, paths, strict=True):
        again = f" (again from the outbox: {message.resend})" if message.resend else ""
        click.echo(f"{message.kind} '{message.subject}' to {', '.join(message.recipients)}{again}: {path}")
    for message in planned:
        for line in message.correction_lines():
            click.echo(line)
    if not planned:
        click.echo(f"no message for {as_of_month}: the configuration has no summary and no alert is due")
