"""Options shared by the commands that use the state store: --state, --now, --format."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from csp_monitor.state.store import StateStore

__all__ = ["format_option", "now_option", "open_state", "state_option"]

_F = TypeVar("_F", bound=Callable[..., Any])

state_option = click.option(
    "--state", "state", required=True, envvar="CSP_MONITOR_STATE", metavar="STORE",
    help="The state store: a SQLite file path (created on first use) or an SQLAlchemy URL "
         "such as postgresql+psycopg://user@host/db. Default: $CSP_MONITOR_STATE.")


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
