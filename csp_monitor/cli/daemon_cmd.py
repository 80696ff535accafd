"""``csp-monitor daemon`` and ``csp-monitor run-once``: the scheduled jobs, run forever or once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from csp_monitor.cli.options import as_of_option
from csp_monitor.cli.send_cmd import config_option

__all__ = ["daemon", "log_options", "run_once"]


def log_options(default_level: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--log-format plain|json`` and ``--log-level``."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.option(
            "--log-level", "log_level", type=click.Choice(["debug", "info", "warning", "error"]),
            default=default_level, show_default=True, help="The least important events to log.")(command)
        return click.option(
            "--log-format", "log_format", type=click.Choice(["plain", "json"]), default="plain",
            show_default=True,
            help="Log lines for people (plain) or one JSON object per line for log collectors (json).")(command)

    return decorate


@click.command()
@config_option
@log_options("info")
def daemon(config: str, log_format: str, log_level: str) -> None:
    """Run the scheduler: the configuration's schedules, on the partnership's calendar, until stopped.

    Logs go to stderr (systemd puts them in the journal). SIGTERM or Ctrl-C
    finishes the message being sent and stops (the rest stay in the outbox
    for the next start); SIGHUP reloads the configuration
    (an invalid one is refused and the old one keeps running). Only one daemon
    may run on a state store. A run missed while the daemon was stopped is run
    once when it starts. See docs/daemon.md.

    \b
    Exit codes: 0 stopped by a signal; 1 invalid configuration;
    3 the state store is in use by another daemon, damaged, or the lock was lost.

    \b
    Example:
      csp-monitor daemon --config /etc/csp-monitor/csp-monitor.yaml --log-format json
    """
    from csp_monitor.schedule.daemon import run_daemon
    from csp_monitor.schedule.logs import configure_logging

    configure_logging("json" if log_format == "json" else "plain", log_level)
    with _refusals_logged(log_format):
        code = run_daemon(config)
    if code:
        raise click.exceptions.Exit(code)


@contextmanager
def _refusals_logged(log_format: str) -> Iterator[None]:
    """With ``--log-format json``, a refusal to start is log lines too (a log collector reads only JSON)."""
    from csp_monitor.errors import CspMonitorError, InputError, StateError

    try:
        yield
    except CspMonitorError as exc:
        if log_format != "json":
            raise  # the command line prints it, in plain words
        import logging

        log = logging.getLogger("csp_monitor.daemon")
        if isinstance(exc, InputError):
            for problem in exc.problems:
                log.error("%s", problem, extra={"event": "config.problem", "file": problem.file,
                                                "line": problem.line, "column": problem.column})
            count = len(exc.problems)
            log.error("the configuration has %d problem%s; the daemon did not start", count,
                      "" if count == 1 else "s", extra={"event": "config.refused"})
            raise click.exceptions.Exit(1) from None
        if isinstance(exc, StateError):
            log.error("%s", exc.message, extra={"event": "store.refused", "store": exc.store, "reason": exc.reason})
            raise click.exceptions.Exit(3) from None
        log.error("%s", exc.message, extra={"event": "daemon.refused"})
        raise click.exceptions.Exit(exc.exit_code) from None


@click.command("run-once")
@config_option
@as_of_option
@log_options("warning")
def run_once(config: str, as_of: str | None, log_format: str, log_level: str) -> None:
    """Run every scheduled job once now, then exit: the daemon's own job, for cron users and for trying a
    configuration out.

    Each job is recorded in the run ledger as a manual run; a failed run waiting
    for its retry is run now, for its own month. It works beside a running
    daemon (the run ledger and the outbox keep them from doing the same work).
    Exits 1 when a job failed or a message could not be delivered yet (it stays
    in the outbox and is retried), or reached only some of its recipients.

    \b
    Example:
      csp-monitor run-once --config examples/harborough/csp-monitor.yaml
    """
    from csp_monitor.cli.interrupt import STOPPED_EXIT, stop_on_interrupt
    from csp_monitor.schedule.logs import configure_logging
    from csp_monitor.schedule.once import run_once as run_all

    configure_logging("json" if log_format == "json" else "plain", log_level)
    with _refusals_logged(log_format), stop_on_interrupt() as stop:
        results = run_all(config, as_of=as_of, stop=stop)
    trouble = False
    for result in results:
        if result.outcome == "failed":
            trouble = True
            click.echo(f"{result.schedule_id} ({result.run}): FAILED: {result.error}")
            continue
        click.echo(f"{result.schedule_id} ({result.run}): {result.detail}")
        if result.report is not None:
            for line in result.report.lines():
                click.echo(f"  {line}")
            trouble = trouble or bool(result.report.failed or result.report.retrying or result.report.unknown
                                      or result.report.incomplete)
    if stop():
        click.echo("Stopped (Ctrl-C): what is left is sent by the next run.", err=True)
        raise click.exceptions.Exit(STOPPED_EXIT)
    if trouble:
        raise click.exceptions.Exit(1)
