"""The daemon as a real process against a mail server slower than its timeout: copies only within the
documented window (resend_unknown), nothing lost."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from tests.daemon_fixtures import (
    DaemonProcess,
    add_month,
    edit_config,
    outbox_counts,
    received_ids,
    wait_for,
    write_partnership,
)
from tests.integration.test_delivery_faults import TIMEOUT, SlowHandler
from tests.mail_fixtures import LoopbackSmtp


def test_a_daemon_resends_a_message_answered_too_late_once_and_no_more(
        tmp_path: Path, control_ids: dict[str, set[str]]) -> None:
    """The first message's answer comes after the 1 s timeout: the daemon sends it once more with the same
    Message-ID (resend_unknown: 1) and records it sent; each other message arrives once."""
    server = LoopbackSmtp(handler=SlowHandler(slow=1)).start()
    folder = tmp_path / "live"
    config = write_partnership(folder, smtp_port=server.port)
    edit_config(config, "timeout: 5", f"timeout: {TIMEOUT}")
    expected = control_ids["2020-04"]
    daemon = DaemonProcess(config, folder / "daemon.log").wait_started()
    try:
        add_month(folder, "2020-04")
        wait_for(lambda: outbox_counts(folder) == {"sent": len(expected)}, 60,
                 lambda: f"the outbox to be all sent ({outbox_counts(folder)})")
        time.sleep(3)  # time enough for a wrong resend to show
    finally:
        daemon.stop()
        server.stop()
    assert daemon.process.returncode == 0
    copies = Counter(received_ids(server.received))
    assert set(copies) == expected
    first = received_ids(server.received)[0]
    assert copies == {message_id: 2 if message_id == first else 1 for message_id in expected}
    assert daemon.logged("message.retry") and not daemon.logged("message.unknown")
