"""Dry runs and previews tell the truth about corrections: when a month's figures change after its summary was
sent, ``send --dry-run`` and ``preview`` write the correction a real run would send, and touch neither the
mail server nor the state store."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from tests.conftest import ROOT
from tests.daemon_fixtures import received_ids
from tests.delivery_fixtures import write_config
from tests.mail_fixtures import LoopbackSmtp, free_port

NOW = "2014-04-10T07:00"
# Three revised figures that change no alert: the only message a run sends afterwards is the correction.
REVISIONS = (("total-crime,2014-02,206", "total-crime,2014-02,207"),
             ("domestic-burglary,2014-02,22", "domestic-burglary,2014-02,23"),
             ("domestic-burglary,2014-03,22", "domestic-burglary,2014-03,21"))
CHANGE_LINES = ("harborough domestic-burglary 2014-02: 22 -> 23", "harborough domestic-burglary 2014-03: 22 -> 21",
                "harborough total-crime 2014-02: 206 -> 207")


def command(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run ``csp-monitor`` as its own process."""
    return subprocess.run([sys.executable, "-m", "csp_monitor.cli", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def store_snapshot(folder: Path) -> tuple[dict[str, str], dict[str, int]]:
    """The bytes (as SHA-256) of the store's files, and the row count of each of its tables."""
    files = {path.name: hashlib.sha256(path.read_bytes()).hexdigest()
             for path in sorted(folder.glob("csp-monitor.db*"))}
    connection = sqlite3.connect(f"file:{folder / 'csp-monitor.db'}?mode=ro", uri=True)
    try:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        counts = {table: int(connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])
                  for table in tables}
    finally:
        connection.close()
    return files, counts


def written(folder: Path) -> list[EmailMessage]:
    """The messages a dry run or preview wrote into ``folder``, in name order."""
    messages = []
    for path in sorted(folder.glob("*.eml")):
        parsed = message_from_bytes(path.read_bytes(), policy=default)
        assert isinstance(parsed, EmailMessage)
        messages.append(parsed)
    return messages


def text_of(message: EmailMessage) -> str:
    """The plain-text body of ``message``, with plain newlines."""
    return str(message.get_body(("plain",)).get_content()).replace("\r\n", "\n")  # type: ignore[union-attr]


def smtp_config(folder: Path, port: int) -> Path:
    """The Harborough configuration delivering to the loopback server on ``port``."""
    return write_config(folder, f"""
        delivery:
          from: "Harborough CSP monitor <csp-monitor@example.org>"
          smtp: {{host: 127.0.0.1, port: {port}, security: none, timeout: 5}}
        """)


def test_a_dry_run_and_a_preview_show_the_correction_a_real_run_then_sends(tmp_path: Path) -> None:
    """After March's summary went out and three figures were revised, the dry run writes the correction (subject
    'Correction: ...', the three change lines) and lists it apart, the preview writes it beside the summary,
    neither sends anything or changes the store by a byte, and the next real run sends exactly that message."""
    with LoopbackSmtp(port=free_port()) as server:
        config = smtp_config(tmp_path, server.port)
        first = command("send", "--config", config, "--as-of", "2014-03", "--now", NOW)
        assert first.returncode == 0, first.stderr
        before_revision = list(server.received)
        assert sum("risk summary" in str(m.message["Subject"]) for m in before_revision) == 1
        figures = tmp_path / "figures" / "harborough.csv"
        text = figures.read_text(encoding="utf-8")
        for old, new in REVISIONS:
            assert text.count(old + "\n") == 1
            text = text.replace(old + "\n", new + "\n")
        figures.write_text(text, encoding="utf-8")
        snapshot = store_snapshot(tmp_path)

        dry = command("send", "--config", config, "--as-of", "2014-03", "--now", NOW, "--dry-run", tmp_path / "dry")
        assert dry.returncode == 0, dry.stderr
        assert len(server.received) == len(before_revision)  # the dry run reached no server
        assert store_snapshot(tmp_path) == snapshot
        [correction] = written(tmp_path / "dry")
        assert str(correction["Subject"]).startswith("Correction: Harborough District Community Safety Partnership "
                                                     "risk summary, March 2014")
        body = text_of(correction)
        assert body.startswith("Correction: this replaces the risk summary sent on 2014-04-10.")
        assert all(f"  - {line}\n" in body for line in CHANGE_LINES)
        lines = dry.stdout.splitlines()
        assert lines[0].startswith("would send summary 'Correction: Harborough District")
        assert lines[1:] == ["would send 1 correction of the 2014-03 summary: 3 figures changed",
                             *(f"  - {line}" for line in CHANGE_LINES)]

        preview = command("preview", "--config", config, "--as-of", "2014-03", "--now", NOW,
                          "--out", tmp_path / "preview")
        assert preview.returncode == 0, preview.stderr
        assert len(server.received) == len(before_revision)
        assert store_snapshot(tmp_path) == snapshot
        subjects = sorted(str(message["Subject"]) for message in written(tmp_path / "preview"))
        assert [subject.startswith("Correction: ") for subject in subjects] == [True, False]
        assert subjects[0] == f"Correction: {subjects[1]}"
        assert "would send 1 correction of the 2014-03 summary: 3 figures changed" in preview.stdout.splitlines()

        real = command("send", "--config", config, "--as-of", "2014-03", "--now", NOW)
        assert real.returncode == 0, real.stderr
        sent = server.received[len(before_revision):]
        assert received_ids(sent) == [str(correction["Message-ID"])]
        assert str(sent[0].message["Subject"]) == str(correction["Subject"])
        assert text_of(sent[0].message) == body  # the very message the dry run showed

        again = command("send", "--config", config, "--as-of", "2014-03", "--now", NOW, "--dry-run",
                        tmp_path / "dry-again")
        assert again.stdout == "nothing would be sent for 2014-03\n"


def test_a_dry_run_with_no_figure_changed_shows_no_correction(tmp_path: Path) -> None:
    """With March's summary sent and its figures as they were, the dry run would send nothing, the preview writes
    the summary alone with no correction line, and neither reaches the server or changes the store."""
    with LoopbackSmtp(port=free_port()) as server:
        config = smtp_config(tmp_path, server.port)
        assert command("send", "--config", config, "--as-of", "2014-03", "--now", NOW).returncode == 0
        received = len(server.received)
        assert received > 0
        snapshot = store_snapshot(tmp_path)
        dry = command("send", "--config", config, "--as-of", "2014-03", "--now", NOW, "--dry-run", tmp_path / "dry")
        assert (dry.returncode, dry.stdout) == (0, "nothing would be sent for 2014-03\n"), dry.stderr
        assert written(tmp_path / "dry") == []
        preview = command("preview", "--config", config, "--as-of", "2014-03", "--now", NOW,
                          "--out", tmp_path / "preview")
        assert preview.returncode == 0, preview.stderr
        [summary] = written(tmp_path / "preview")
        assert "Correction" not in str(summary["Subject"]) and "Correction" not in text_of(summary)
        assert "correction" not in preview.stdout
        assert len(server.received) == received
        assert store_snapshot(tmp_path) == snapshot
