"""The ``csp-monitor`` command line: a thin shell over the library.

Subcommands are imported only when they run, so ``csp-monitor --help`` starts
fast. Every :class:`~csp_monitor.errors.CspMonitorError` becomes a plain
message on stderr and an exit code; no traceback reaches the user.

Exit codes: 0 done; 1 invalid input or a failed check (rule tests, delivery);
2 usage error (a wrong option or argument); 3 the state store or another
daemon stopped the run; 4 (``status`` only) something needs attention;
70 an internal error (a bug: please report it).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

__all__ = ["main"]

# command name -> "module:attribute", imported on first use.
COMMANDS: dict[str, str] = {
    "evaluate": "csp_monitor.cli.evaluate_cmd:evaluate",
    "rules": "csp_monitor.cli.rules_cmd:rules",
    "schema": "csp_monitor.cli.schema_cmd:schema",
    "backtest": "csp_monitor.cli.backtest_cmd:backtest",
    "check": "csp_monitor.cli.check_cmd:check",
    "decide": "csp_monitor.cli.decide_cmd:decide",
    "alerts": "csp_monitor.cli.alerts_cmd:alerts",
    "history": "csp_monitor.cli.alerts_cmd:history",
    "silence": "csp_monitor.cli.silence_cmd:silence",
    "send": "csp_monitor.cli.send_cmd:send",
    "preview": "csp_monitor.cli.preview_cmd:preview",
    "report": "csp_monitor.cli.report_cmd:report",
    "outbox": "csp_monitor.cli.outbox_cmd:outbox",
    "daemon": "csp_monitor.cli.daemon_cmd:daemon",
    "run-once": "csp_monitor.cli.daemon_cmd:run_once",
    "status": "csp_monitor.cli.status_cmd:status",
    "import": "csp_monitor.cli.import_cmd:import_group",
}

EXIT_OK = 0
EXIT_INPUT = 1
EXIT_USAGE = 2
EXIT_STATE = 3
EXIT_INTERNAL = 70


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when used."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module_name, attribute = self.lazy[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attribute)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help without importing every command module.
        rows = [(name, HELP.get(name, "")) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


HELP: dict[str, str] = {
    "alerts": "Show alerts that are firing, pending or silenced.",
    "backtest": "Replay rules month by month over past figures.",
    "check": "Try every part of a setup before it goes live; nothing is sent.",
    "daemon": "Run the scheduler: summaries and alerts on the partnership's calendar.",
    "decide": "Evaluate, decide alerts against the state store, print notifications due.",
    "evaluate": "Judge every measure against its target as of a month.",
    "history": "What was decided and notified, when and to whom.",
    "import": "Import figures from police.uk archives or spreadsheets.",
    "outbox": "Show queued, sent and failed messages.",
    "preview": "Render the messages that would be sent, without sending.",
    "report": "Write the standalone HTML risk report.",
    "rules": "Check, explain, test and compare rule files.",
    "run-once": "Run every scheduled job once now, then exit.",
    "schema": "Print or write the JSON Schemas for rule and config files.",
    "send": "Evaluate, decide, render and deliver once.",
    "silence": "Add, list and expire alert silences.",
    "status": "Show schedules, the outbox queue and recent errors.",
}


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="csp-monitor", prog_name="csp-monitor")
def cli() -> None:
    """csp-monitor: performance targets, sound statistics and alerts for
    Community Safety Partnerships.

    Exit codes: 0 done, 1 invalid input or failed check, 2 usage error,
    3 state store problem, 70 internal error.
    """


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return (and exit with) its exit code."""
    code = run(argv)
    sys.exit(code)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code instead of exiting; everything printed is made printable."""
    from csp_monitor.cli.printing import printable_output

    with printable_output():
        return _run(argv)


def _run(argv: list[str] | None) -> int:
    from csp_monitor.errors import CspMonitorError, InputError, StateError

    try:
        # Without standalone mode click returns a command's ctx.exit(code) instead of raising it.
        returned = cli.main(args=argv, prog_name="csp-monitor", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.Abort:
        click.echo("Stopped.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE if isinstance(exc, click.UsageError) else exc.exit_code
    except InputError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        count = len([p for p in exc.problems if p.severity == "error"])
        click.echo(f"{count} problem{'s' if count != 1 else ''} found.", err=True)
        return EXIT_INPUT
    except StateError as exc:
        click.echo(f"error: {exc.message}", err=True)
        return EXIT_STATE
    except CspMonitorError as exc:
        click.echo(f"error: {exc.message}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except MemoryError:  # not a bug: the input is larger than the memory the process may use (ulimit, a container)
        if os.environ.get("CSP_MONITOR_DEBUG"):
            raise
        click.echo("error: csp-monitor ran out of memory: the input is larger than this process may hold; split it "
                   "(by year, by area), or let csp-monitor use more memory", err=True)
        return EXIT_INPUT
    except Exception as exc:  # a bug: say so plainly, keep the traceback for those who ask
        if os.environ.get("CSP_MONITOR_DEBUG"):
            raise
        missing = _missing_package(exc)
        if missing is not None:
            click.echo(f"error: {missing}", err=True)
            return EXIT_INPUT
        click.echo(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in csp-monitor. Run again with CSP_MONITOR_DEBUG=1 for the details, "
            "and please report it.", err=True)
        return EXIT_INTERNAL
    return returned if isinstance(returned, int) and not isinstance(returned, bool) else EXIT_OK


def _missing_package(exc: Exception) -> str | None:
    """A plain message for an optional (or missing core) package that a code path imported unguarded."""
    from csp_monitor.errors import MissingExtraError
    from csp_monitor.extras import CORE_PACKAGES, extra_for

    if not isinstance(exc, ImportError) or not exc.name:
        return None
    extra = extra_for(exc.name)
    if extra is not None:
        return MissingExtraError(exc.name.partition(".")[0], extra=extra, purpose="this command").message
    if exc.name.partition(".")[0] in CORE_PACKAGES:
        return (f"{exc.name} is missing although csp-monitor needs it: the installation is incomplete; "
                "reinstall it (pip install --force-reinstall csp-monitor)")
    return None
