"""The daemon's structured logs: one JSON object per line, or one plain line per event."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from csp_monitor.schedule.logs import configure_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put csp-monitor's and APScheduler's loggers back as they were."""
    saved = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).level,
                    logging.getLogger(name).propagate) for name in ("csp_monitor", "apscheduler")}
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def test_json_logs_are_one_object_per_line_with_the_event_fields(restore_logging: None) -> None:
    """Each entry is a JSON object with time, level, logger, message and the fields it was logged with."""
    stream = io.StringIO()
    configure_logging("json", "info", stream=stream)
    log = logging.getLogger("csp_monitor.jobs")
    log.info("%s: done", "monthly-summary", extra={"event": "job.finished", "job": "monthly-summary"})
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed", extra={"event": "job.failed"})
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "monthly-summary: done"
    assert (first["level"], first["logger"], first["event"], first["job"]) == (
        "info", "csp_monitor.jobs", "job.finished", "monthly-summary")
    assert first["time"].endswith("Z")
    assert second["error"] == "ValueError: boom" and "Traceback" in second["traceback"]


def test_plain_logs_keep_one_event_on_one_line(restore_logging: None) -> None:
    """A newline inside a value (a subject, an error) cannot forge a second log line."""
    stream = io.StringIO()
    configure_logging("plain", "info", stream=stream)
    logging.getLogger("csp_monitor.daemon").warning(
        "refused: %s", "a\nb", extra={"event": "config.refused", "error": "bad\n2026-01-01 info forged: line"})
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert "warning" in lines[0] and "refused: a\\nb" in lines[0]
    assert 'error="bad\\n2026-01-01 info forged: line"' in lines[0]


def test_the_level_filters_and_apscheduler_is_kept_to_errors(restore_logging: None) -> None:
    """Below the chosen level nothing is written; APScheduler's own warnings are left to the daemon."""
    stream = io.StringIO()
    configure_logging("plain", "warning", stream=stream)
    logging.getLogger("csp_monitor.jobs").info("quiet")
    logging.getLogger("apscheduler.scheduler").warning("Execution of job skipped")
    logging.getLogger("csp_monitor.jobs").warning("loud")
    assert [line.split(": ", 1)[1] for line in stream.getvalue().splitlines()] == ["loud"]
