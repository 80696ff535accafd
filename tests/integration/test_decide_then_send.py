"""Notices decided through any entry point are delivered: the public API's evaluate_and_decide, then send_once
on the same store, against a real SMTP server."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from csp_monitor import (
    Decision,
    MonitorConfig,
    evaluate_and_decide,
    load_figures,
    load_rules,
    open_store,
    send_once,
)
from csp_monitor.delivery.outbox import list_messages
from csp_monitor.load.config import load_config
from csp_monitor.state.outbox_tables import outbox
from tests.delivery_fixtures import ALERTS, NOW, RULES, smtp_delivery, write_config
from tests.mail_fixtures import LoopbackSmtp


def outbox_notices(state: str) -> Counter[str]:
    """How many outbox messages carry each notification key (one per recipient of the notice)."""
    carried: Counter[str] = Counter()
    with open_store(state) as store, store.transaction() as connection:
        for row in connection.execute(select(outbox.c.notifications)):
            carried.update(json.loads(row.notifications))
    return carried


def decide_through_the_api(tmp_path: Path, smtp_port: int, *, as_of: str) -> tuple[MonitorConfig, Decision]:
    """Harborough's configuration (SMTP on ``smtp_port``), and the notices evaluate_and_decide records in its
    store as of ``as_of``."""
    config = load_config(write_config(tmp_path, smtp_delivery(smtp_port, timeout=10)))
    rules = load_rules([RULES, ALERTS])
    figures = load_figures(tmp_path / "figures" / "harborough.csv")
    with open_store(config.state) as store:
        return config, evaluate_and_decide(store, rules, figures, as_of=as_of, now=NOW)


def test_notices_decided_through_the_public_api_are_queued_and_delivered_by_send_once(tmp_path: Path) -> None:
    """evaluate_and_decide records March's 5 notices; send_once on the same store queues an alert email for
    each recipient of each of them with the summary, and the server receives every one, once."""
    with LoopbackSmtp() as server:
        config, decision = decide_through_the_api(tmp_path, server.port, as_of="2014-03")
        assert len(decision.notifications) == 5

        report = send_once(config, as_of="2014-03", now=NOW)
        again = send_once(config, as_of="2014-03", now=NOW)
    assert [m.kind for m in report.queued].count("summary") == 1
    carried = outbox_notices(config.state)
    assert carried == {n.key: len(n.recipients) for n in decision.notifications}
    with open_store(config.state) as store:
        rows = list_messages(store)
    assert {row.status for row in rows} == {"sent"} and len(rows) == len(report.queued)
    assert Counter(str(m.message["Message-ID"]) for m in server.received) == dict.fromkeys(
        (row.message_id for row in rows), 1)
    assert not again.queued and not again.attempts


def test_notices_decided_for_an_earlier_month_go_out_with_that_month(tmp_path: Path) -> None:
    """Notices decided for February through the API, then a send for March: February's alert emails are queued
    too (as of February), so nothing decided is left unsent."""
    with LoopbackSmtp() as server:
        config, february = decide_through_the_api(tmp_path, server.port, as_of="2014-02")
        assert february.notifications
        send_once(config, as_of="2014-03", now=NOW)
    carried = outbox_notices(config.state)
    assert all(carried[n.key] == len(n.recipients) for n in february.notifications)
    with open_store(config.state) as store:
        periods = {row.period for row in list_messages(store) if row.kind == "alert"}
    assert "2014-02" in periods
    february_subjects = [str(m.message["Subject"]) for m in server.received if "February 2014" in
                         str(m.message["Subject"])]
    assert february_subjects
