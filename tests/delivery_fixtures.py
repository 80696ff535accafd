"""Builders for delivery tests: a monitor configuration around the Harborough example."""

from __future__ import annotations

import shutil
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import HARBOROUGH_FIGURES, ROOT

NOW = datetime(2014, 4, 10, 7, 0, tzinfo=UTC)
RULES = ROOT / "rules" / "harborough-2013-14.yaml"
ALERTS = ROOT / "rules" / "harborough-alerts.yaml"


def smtp_delivery(port: int, *, timeout: int = 5) -> str:
    """The ``delivery:`` YAML for Harborough's sender through a mail server on loopback ``port``, without TLS."""
    return ("delivery:\n"
            '  from: "Harborough CSP monitor <csp-monitor@example.org>"\n'
            f"  smtp: {{host: 127.0.0.1, port: {port}, security: none, timeout: {timeout}}}\n")


def write_config(folder: Path, delivery: str, *, summary: str = "summary:\n  to: [board]\n  charts: false\n",
                 rules: tuple[Path, ...] = (RULES, ALERTS), extra: str = "") -> Path:
    """A configuration in ``folder`` with the Harborough rules and figures and the given ``delivery:`` YAML."""
    folder.mkdir(parents=True, exist_ok=True)
    figures = folder / "figures"
    figures.mkdir(exist_ok=True)
    shutil.copy(HARBOROUGH_FIGURES, figures / "harborough.csv")
    rule_list = ", ".join(str(path) for path in rules)
    text = (f"rules: [{rule_list}]\n"
            "figures: [figures/*.csv]\n"
            "state: csp-monitor.db\n"
            + textwrap.dedent(delivery).strip() + "\n" + summary + extra)
    path = folder / "csp-monitor.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def as_before_queueing(store: str | Path) -> None:
    """Make a store (a SQLite path or a URL) one written before notices' queueing was tracked: alerts schema 1."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import URL

    url = store if isinstance(store, str) and "://" in store else URL.create("sqlite+pysqlite", database=str(store))
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE notifications DROP COLUMN queued_at"))
        connection.execute(text("UPDATE schema_version SET version = 1 WHERE component = 'alerts'"))
    engine.dispose()
