"""Benchmark: the daemon at rest on the Harborough example.

Copies the example (its configuration, figures and the rules it names) into a
temporary folder, starts ``csp-monitor daemon`` on it as a real process, lets
it settle (its first housekeeping pass), then idles for a while, and prints:

* resident memory (VmRSS and its peak, VmHWM) from /proc/<pid>/status;
* CPU seconds used (user + system, from /proc/<pid>/stat) at start-up and
  while idle, and the idle CPU as a share of one core;
* how long the daemon took to start (process launch to "daemon started").

With ``--after-a-run`` the daemon first catches up both of the example's jobs
(the risk summary with its charts, and the alerts), as after a restart, so the
memory at rest is measured after real work rather than straight after start.

Linux only (it reads /proc).

    .venv/bin/python benchmarks/bench_daemon_idle.py [--idle 10] [--after-a-run]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14 and 15 of stat)


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in kB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def prepare(folder: Path) -> Path:
    """The Harborough example, copied so that its relative paths still work."""
    example = folder / "examples" / "harborough"
    example.mkdir(parents=True)
    for name in ("csp-monitor.yaml", "figures.csv"):
        shutil.copy(ROOT / "examples" / "harborough" / name, example / name)
    shutil.copytree(ROOT / "rules", folder / "rules")
    return example / "csp-monitor.yaml"


def seed_history(config: Path) -> None:
    """Make the daemon believe it ran the schedules before, so it catches up their latest runs at start."""
    from datetime import UTC, datetime, timedelta

    from csp_monitor.schedule import ledger
    from csp_monitor.schedule.configuration import load_schedule_config, schedule_zone
    from csp_monitor.schedule.occurrences import latest_occurrence
    from csp_monitor.state import open_store

    settings = load_schedule_config(config)
    zone = schedule_zone(settings)
    with open_store(settings.state) as store:
        for schedule in settings.schedules:
            latest = latest_occurrence(schedule, zone, datetime.now(UTC))
            assert latest is not None
            earlier = latest_occurrence(schedule, zone, latest.at - timedelta(seconds=1))
            assert earlier is not None
            ledger.record_skipped(store, earlier, run=schedule.run, detail="seeded by the benchmark")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=float, default=10.0, help="seconds to idle (default 10)")
    parser.add_argument("--after-a-run", action="store_true", help="catch up both jobs first, then idle")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        config = prepare(folder)
        if arguments.after_a_run:
            seed_history(config)
        log = folder / "daemon.log"
        launched = time.monotonic()
        with log.open("wb") as handle:
            process = subprocess.Popen(
                [sys.executable, "-m", "csp_monitor.cli", "daemon", "--config", str(config), "--log-format", "json"],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=handle)
            try:
                while '"daemon.started"' not in log.read_text():
                    if process.poll() is not None:
                        sys.exit(f"the daemon exited with {process.returncode}:\n{log.read_text()}")
                    time.sleep(0.02)
                started = time.monotonic() - launched
                if arguments.after_a_run:
                    while log.read_text().count('"job.finished"') < 2:
                        if process.poll() is not None:
                            sys.exit(f"the daemon exited with {process.returncode}:\n{log.read_text()}")
                        time.sleep(0.05)
                time.sleep(2.0)  # the first housekeeping pass (new schedules, the outbox)
                cpu_before = cpu_seconds(process.pid)
                time.sleep(arguments.idle)
                cpu_after = cpu_seconds(process.pid)
                rss = memory(process.pid)
            finally:
                process.send_signal(signal.SIGTERM)
                code = process.wait(timeout=60)
        idle_cpu = cpu_after - cpu_before
        figures = {
            "start_seconds": round(started, 2),
            "rss_mb": round(rss["VmRSS"] / 1024, 1),
            "peak_rss_mb": round(rss["VmHWM"] / 1024, 1),
            "cpu_seconds_to_settle": round(cpu_before, 2),
            "idle_seconds": arguments.idle,
            "idle_cpu_seconds": round(idle_cpu, 3),
            "idle_cpu_percent_of_one_core": round(100 * idle_cpu / arguments.idle, 2),
            "exit_code_after_sigterm": code,
            "after_a_run": arguments.after_a_run,
        }
    if arguments.after_a_run:
        print("after catching up both jobs (the summary with its charts, and the alerts):")
    print(f"daemon started in {figures['start_seconds']} s (process launch to 'daemon started')")
    print(f"resident memory at rest: {figures['rss_mb']} MB (peak {figures['peak_rss_mb']} MB)")
    print(f"CPU to start and settle: {figures['cpu_seconds_to_settle']} s")
    print(f"CPU while idle for {arguments.idle:g} s: {figures['idle_cpu_seconds']} s "
          f"({figures['idle_cpu_percent_of_one_core']}% of one core)")
    print(f"stopped by SIGTERM with exit code {code}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
