"""The daemon killed with kill -9 at random moments, month after month: no alert lost, none sent twice
beyond the message in flight at a kill, which is resent with the same Message-ID."""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from pathlib import Path

from tests.daemon_fixtures import (
    MONTHS,
    DaemonProcess,
    add_month,
    ledger_rows,
    outbox_counts,
    received_ids,
    wait_for,
    write_partnership,
)
from tests.mail_fixtures import Handler, LoopbackSmtp

SEED = int(os.environ.get("CSP_MONITOR_TEST_SEED", time.time_ns() % 1_000_000))
MAX_KILLS = 4  # each restart costs a Python start-up: enough to cross every stage, few enough to stay quick


def test_kill_9_at_random_moments_loses_nothing_and_resends_only_what_was_in_flight(
        tmp_path: Path, control_ids: dict[str, set[str]]) -> None:
    """Across three months of figures, killed with kill -9 once or twice a month at random moments (four
    times in all), the daemon delivers every message; extra copies number at most the kills, and each is
    a resend of the same Message-ID."""
    rng = random.Random(SEED)
    months = MONTHS[:3]
    expected = {month: control_ids[month] for month in months}
    everything = set().union(*expected.values())
    assert len(everything) == 4 * len(months)  # a summary and three alert emails each month

    # The server keeps each message, then takes a moment to say so: a kill then is the crash window.
    server = LoopbackSmtp(handler=Handler(delay=0.05, keep_before_reply=True)).start()
    folder = tmp_path / "live"
    config = write_partnership(folder, smtp_port=server.port)
    kills = 0
    runs = 0
    daemon = DaemonProcess(config, folder / f"daemon-{runs}.log").wait_started()
    try:
        for month in months:
            add_month(folder, month)
            for _ in range(min(rng.choice((1, 2)), MAX_KILLS - kills)):
                time.sleep(rng.uniform(0.0, 1.2))
                daemon.kill()
                kills += 1
                runs += 1
                daemon = DaemonProcess(config, folder / f"daemon-{runs}.log").wait_started()
            wait_for(lambda month=month: expected[month] <= set(received_ids(server.received)), 60,
                     lambda month=month: f"every message of {month} (seed {SEED}, last runs "
                                         f"{ledger_rows(folder)[-6:]}, outbox {outbox_counts(folder)})")
        wait_for(lambda: outbox_counts(folder).get("sent") == len(everything), 30,
                 f"the outbox to be all sent (seed {SEED})")
        time.sleep(1.5)  # time enough for a wrong resend to show
        daemon.stop()
        assert daemon.process.returncode == 0
    finally:
        daemon.stop()
        server.stop()

    copies = Counter(received_ids(server.received))
    assert set(copies) == everything, f"seed {SEED}"
    extra = sum(count - 1 for count in copies.values())
    assert extra <= kills, f"seed {SEED}: {extra} extra copies after {kills} kills: {copies}"
    assert outbox_counts(folder) == {"sent": len(everything)}
    assert not [row for row in ledger_rows(folder) if row[3] in ("running", "failed")], ledger_rows(folder)
