"""After a mail server outage the daemon sends what waited oldest first: a month's messages never arrive
after the next month's."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from tests.daemon_fixtures import (
    DaemonProcess,
    add_month,
    edit_config,
    outbox_periods,
    received_ids,
    wait_for,
    write_partnership,
)
from tests.mail_fixtures import LoopbackSmtp, free_port


def test_after_an_outage_the_oldest_messages_go_first(tmp_path: Path, control_ids: dict[str, set[str]]) -> None:
    """Regression: April's first message, tried most often while the server was down, waited the longest
    for its next attempt and arrived after May's. Now the queue is tried oldest first and every message of
    April arrives before any of May, each once."""
    april, may = control_ids["2020-04"], control_ids["2020-05"]
    server = LoopbackSmtp(port=free_port())  # not started: connections are refused
    config = write_partnership(tmp_path, smtp_port=server.port)
    edit_config(config, "max_delay: 2", "max_delay: 6")
    daemon = DaemonProcess(config, tmp_path / "daemon.log").wait_started()
    try:
        add_month(tmp_path, "2020-04")
        wait_for(lambda: outbox_periods(tmp_path).get("2020-04") == len(april), 30, "April's messages queued")
        wait_for(lambda: len(daemon.logged("message.retry")) >= 4, 30, "four failed attempts: growing waits")
        add_month(tmp_path, "2020-05")
        wait_for(lambda: outbox_periods(tmp_path).get("2020-05") == len(may), 30, "May's messages queued")
        server.start()
        wait_for(lambda: set(received_ids(server.received)) == april | may, 60, "every message to arrive")
        time.sleep(1.5)  # time enough for a wrong resend to show
    finally:
        daemon.stop()
        server.stop()
    order = received_ids(server.received)
    assert Counter(order) == Counter(april | may)
    assert set(order[:len(april)]) == april, order
