"""Options shared by the commands that use the state store: --state, --now, --format."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from csp_monitor.state.store import StateStore

__all__ = ["existing_state_option", "format_option", "now_option", "open_existing_state", "open_state",
           "state_option"]

_F = TypeVar("_F", bound=Callable[..., Any])

state_option = click.option(
    "--state", "state", required=True, envvar="CSP_MONITOR_STATE", metavar="STORE",
    help="The state store: a SQLite file path (created on first use) or an SQLAlchemy URL "
         "such as postgresql+psycopg://user@host/db. Default: $CSP_MONITOR_STATE.")


def existing_state_option(function: _F) -> _F:
    """``--state STORE`` or ``--config FILE`` (the store its ``state:`` names), for commands that read the store
    or add to what a run reads (silences): an existing store, never a new one."""
    function = click.option(
        "--config", "config", envvar="CSP_MONITOR_CONFIG", metavar="FILE", type=click.Path(dir_okay=False),
        help="Or the monitor configuration file: use the state store it names (as the daemon does). "
             "Default: $CSP_MONITOR_CONFIG.")(function)
    return click.option(
        "--state", "state", envvar="CSP_MONITOR_STATE", metavar="STORE",
        help="The state store: a SQLite file path or an SQLAlchemy URL such as postgresql+psycopg://user@host/db; "
             "it must exist (a run creates it). Default: $CSP_MONITOR_STATE.")(function)


def open_existing_state(state: str | None, config: str | None) -> StateStore:
    """The store named by --state, else by --config's ``state:``; a store that is not there is refused (exit 3)
    rather than created, so a wrong path or folder never shows an empty store or keeps a silence nobody reads."""
    from csp_monitor.errors import StateError
    from csp_monitor.state import open_store

    if state is None and config is None:
        raise click.UsageError("give the state store (--state STORE) or the monitor configuration (--config FILE)")
    target = state
    if target is None:
        from csp_monitor.load.config import load_config

        assert config is not None
        target = load_config(config).state
    try:
        return open_store(target, create=False)
    except StateError as exc:
        if not str(exc).startswith("there is no state store at "):
            raise
        where = os.path.dirname(os.path.abspath(str(target)))
        raise StateError(
            f"there is no state store at {target} (looked in {where}): give the path the configuration's 'state:' "
            "names (or --config FILE); a store is created by the first run (send, run-once or the daemon)",
            store=str(target)) from None


def _parse_now(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime:
    # The wall clock is read here, in the shell, and nowhere in the decision.
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(
            f"'{value}' is not a date and time: write it as 2014-04-10T07:00 (UTC unless an offset is given)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


now_option = click.option(
    "--now", "now", metavar="ISO", callback=_parse_now,
    help="Decide as at this moment (e.g. 2014-04-10T07:00; UTC unless an offset is given). Default: now.")


def format_option(*choices: str) -> Callable[[_F], _F]:
    """``--format`` with these choices, the first the default."""
    return click.option("--format", "output_format", type=click.Choice(list(choices)), default=choices[0],
                        show_default=True, help="How to print the result.")


def open_state(target: str) -> StateStore:
    """Open the state store named by --state (StateError, exit 3, when it cannot be used)."""
    from csp_monitor.state import open_store

    return open_store(target)
