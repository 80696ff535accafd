"""The daemon as a real process on PostgreSQL, cut off (through a loopback proxy) just as the mail server takes
the first message: every message arrives once and no run is left running."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.daemon_fixtures import (
    DaemonProcess,
    add_month,
    edit_config,
    received_ids,
    wait_for,
    write_partnership,
)
from tests.integration.test_delivery_faults import FaultAfterFirst
from tests.mail_fixtures import LoopbackSmtp
from tests.tcp_proxy import postgres_proxy


def test_postgres_cut_off_mid_send_in_a_running_daemon(postgres_url: str, tmp_path: Path,
                                                       control_ids: dict[str, set[str]]) -> None:
    """PostgreSQL unreachable for 4 s from the moment the first message is accepted: the daemon records it
    sent once the store is back, sends every other message once, and leaves no run running."""
    proxy, through_proxy = postgres_proxy(postgres_url)
    server = LoopbackSmtp(handler=FaultAfterFirst(lambda: proxy.cut_for(4.0))).start()
    folder = tmp_path / "live"
    config = write_partnership(folder, smtp_port=server.port)
    edit_config(config, "state: state.db", f'state: "{through_proxy}"')
    expected = control_ids["2020-04"]
    daemon = DaemonProcess(config, folder / "daemon.log").wait_started()
    engine = create_engine(postgres_url)
    try:
        add_month(folder, "2020-04")
        wait_for(lambda: set(received_ids(server.received)) == expected, 60, "the month's messages")

        def all_sent() -> bool:
            with engine.connect() as connection:
                rows = connection.execute(text("SELECT status, COUNT(*) FROM outbox GROUP BY status")).all()
            return {row[0]: row[1] for row in rows} == {"sent": len(expected)}

        wait_for(all_sent, 30, "the outbox to be all sent")
        time.sleep(3)  # time enough for a wrong resend to show
    finally:
        daemon.stop()
        server.stop()
        proxy.close()
    with engine.connect() as connection:
        outcomes = {row[0] for row in connection.execute(text("SELECT outcome FROM runs"))}
    engine.dispose()
    assert daemon.process.returncode == 0
    assert Counter(received_ids(server.received)) == dict.fromkeys(expected, 1)
    assert "running" not in outcomes and "interrupted" not in outcomes, outcomes
    assert daemon.logged("store.retry"), "the store was never found away: the test did not test the fault"
