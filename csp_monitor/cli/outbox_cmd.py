"""``csp-monitor outbox``: queued, sent and failed messages."""

from __future__ import annotations

import json

import click

from csp_monitor.cli.send_cmd import config_option

__all__ = ["outbox"]


@click.command()
@config_option
@click.option("--status", "statuses", multiple=True, type=click.Choice(["queued", "sending", "sent", "failed", "unknown"]),
              help="Only messages with this status; repeat for several.")
@click.option("--limit", "limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="At most this many messages, newest first.")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="How to print the messages.")
def outbox(config: str, statuses: tuple[str, ...], limit: int, output_format: str) -> None:
    """Show the outbox: messages queued (and when they are next tried), in flight, sent (with the server's
    reply) and failed (with the reason).

    \b
    Example:
      csp-monitor outbox --config examples/harborough/csp-monitor.yaml --status failed
    """
    import os

    from csp_monitor.delivery.outbox import list_messages
    from csp_monitor.load.config import load_config
    from csp_monitor.state import open_store

    settings = load_config(config)
    if not settings.state_is_url and not os.path.exists(settings.state):
        click.echo(f"the outbox is empty: there is no state store at {settings.state} yet")
        return
    with open_store(settings.state, create=False) as store:
        messages = list_messages(store, statuses=statuses or None, limit=limit)
    if output_format == "json":
        click.echo(json.dumps([{
            "id": m.id, "status": m.status, "kind": m.kind, "period": m.period, "subject": m.subject,
            "recipients": list(m.recipients), "message_id": m.message_id, "attempts": m.attempts,
            "created_at": m.created_at, "next_attempt_at": m.next_attempt_at if m.status == "queued" else None,
            "sent_at": m.sent_at, "reply": m.reply, "refused": m.refused, "last_error": m.last_error,
        } for m in messages], indent=2, ensure_ascii=False))
        return
    if not messages:
        click.echo("the outbox is empty" if not statuses else f"no {' or '.join(statuses)} messages")
        return
    counts: dict[str, int] = {}
    for message in messages:
        counts[message.status] = counts.get(message.status, 0) + 1
        detail = {
            "sent": f"sent {message.sent_at}: {message.reply}",
            "queued": f"next attempt after {message.next_attempt_at}"
                      + (f" (last: {message.last_error})" if message.last_error else ""),
            "sending": f"in flight since {message.claimed_at} ({message.claimed_by})",
            "failed": f"failed: {message.last_error}",
            "unknown": f"unknown whether delivered, not sent again: {message.last_error}",
        }.get(message.status, message.last_error or "")
        click.echo(f"#{message.id} {message.status.upper():8} {message.kind:7} {message.period}  "
                   f"{message.subject}")
        click.echo(f"    to {', '.join(message.recipients)}; {message.attempts} attempt"
                   f"{'s' if message.attempts != 1 else ''}; {detail}")
        if message.refused:
            click.echo("    refused: " + "; ".join(f"{r} ({why})" for r, why in message.refused.items()))
    click.echo(", ".join(f"{count} {status}" for status, count in sorted(counts.items())))
