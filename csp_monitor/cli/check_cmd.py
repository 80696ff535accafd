"""``csp-monitor check``: try every part of a monitor's setup before it goes live, sending nothing."""

from __future__ import annotations

import click

from csp_monitor.cli.send_cmd import config_option, now_moment, when_option

__all__ = ["check"]

_WIDTH = max(len(name) for name in ("configuration", "rules", "figures", "state store", "messages",
                                      "mail server", "schedules"))


@click.command()
@config_option
@click.option("--smtp/--no-smtp", "smtp", default=True, show_default=True,
              help="Connect to the mail server (TLS, login, the sender offered and taken back; nothing sent).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="For people, or JSON for scripts.")
@when_option
def check(config: str, smtp: bool, output_format: str, now: str | None) -> None:
    """Try every part of a monitor before it goes live: the configuration, rules, figures, state store, the
    messages a run would send, the mail server and the schedules. Nothing is sent, recorded or created.

    The mail server is connected to as a run would (STARTTLS or TLS, the
    login), the sender is offered and taken back, and the session ends
    before any message: a wrong password or a refused sender shows here, not
    at the first scheduled run.

    \b
    Exit codes: 0 every part works; 1 something in the files or the mail
    server to correct; 3 the state store cannot be used.

    \b
    Example:
      csp-monitor check --config /etc/csp-monitor/csp-monitor.yaml
    """
    from csp_monitor.schedule.setup_check import check_setup

    found = check_setup(config, now=now_moment(now), smtp=smtp)
    if output_format == "json":
        click.echo(found.model_dump_json(indent=2))
    else:
        click.echo(f"Checking {found.config} (nothing is sent, recorded or created):")
        for step in found.steps:
            lines = step.detail.splitlines() or [""]
            click.echo(f"  {'ok' if step.ok else 'FAILED':6}  {step.name:{_WIDTH}}  {lines[0]}")
            for line in lines[1:]:
                click.echo(f"  {'':6}  {'':{_WIDTH}}  {line}")
        failed = [step.name for step in found.steps if not step.ok]
        if failed:
            click.echo(f"{len(failed)} of {len(found.steps)} checks failed: {', '.join(failed)}.")
        else:
            click.echo(f"All {len(found.steps)} checks passed.")
    if found.exit_code:
        raise click.exceptions.Exit(found.exit_code)
