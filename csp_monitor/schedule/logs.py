"""Structured logs for the daemon: one line per event, plain or JSON.

Events are logged with the standard library, their fields passed as
``extra={"event": "job.finished", "job": "monthly-summary", ...}``. The plain
format is for people reading a terminal or ``journalctl``; the JSON format (one
object per line) is for log collectors. Both write to stderr, which systemd
sends to the journal.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

__all__ = ["LOGGER_NAME", "JsonFormatter", "PlainFormatter", "configure_logging", "event_fields"]

LOGGER_NAME = "csp_monitor"
LogFormat = Literal["plain", "json"]

# Attributes every LogRecord has; anything else came in through ``extra``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


def event_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields a record was logged with."""
    return {key: value for key, value in vars(record).items() if key not in _STANDARD and not key.startswith("_")}


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in event_fields(record).items():
            entry.setdefault(key, value)
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            entry.setdefault("error", f"{type(error).__name__}: {error}")
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """``2026-03-10T07:00:00.012Z info  csp_monitor.daemon: message  job=... outcome=...``."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{key}={_plain_value(value)}" for key, value in event_fields(record).items()
                          if key != "event")
        message = record.getMessage().replace("\r", "\\r").replace("\n", "\\n")
        text = f"{_timestamp(record)} {record.levelname.lower():<7} {record.name}: {message}"
        if fields:
            text += f"  {fields}"
        if record.exc_info and record.exc_info[1] is not None:
            text += "\n" + self.formatException(record.exc_info)
        return text


def _plain_value(value: Any) -> str:
    text = str(value)
    # One event, one line: a value with a newline (or a space, a quote) is quoted and escaped, so it
    # can never forge a second entry.
    if not text or any(character in text for character in ' "\\=\n\r\t'):
        return json.dumps(text, ensure_ascii=False)
    return text


def configure_logging(log_format: LogFormat = "plain", level: str = "info", *,
                      stream: TextIO | None = None) -> logging.Logger:
    """Send csp-monitor's logs (and APScheduler's errors) to ``stream`` in ``log_format``.

    Everything else a library says (a warning through :mod:`logging` or :mod:`warnings`) goes to the
    same stream in the same format, so a log collector reading JSON never meets a line of plain text.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else PlainFormatter())
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level '{level}'")
    _writable_matplotlib_config()
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_csp_monitor", False)]:
        root.removeHandler(old)
    library = logging.StreamHandler(stream or sys.stderr)
    library.setFormatter(handler.formatter)
    library.setLevel(max(numeric, logging.WARNING))
    library._csp_monitor = True  # type: ignore[attr-defined]
    root.addHandler(library)
    logging.captureWarnings(True)
    for name in (LOGGER_NAME, "apscheduler"):
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.propagate = False
        # The daemon logs APScheduler's missed and busy jobs itself, in its own words (see
        # schedule.daemon); from APScheduler only errors are worth a line.
        logger.setLevel(numeric if name == LOGGER_NAME else max(numeric, logging.ERROR))
    return logging.getLogger(LOGGER_NAME)


def _writable_matplotlib_config() -> None:
    """Point matplotlib at a writable configuration folder when its default is not (a service account's).

    Otherwise matplotlib warns at the first chart, in a line of its own, that it made a temporary one.
    """
    import os
    import tempfile

    if os.environ.get("MPLCONFIGDIR"):
        return
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    default = os.path.join(base, "matplotlib")
    try:
        os.makedirs(default, exist_ok=True)  # what matplotlib would do at its first chart; asking access() is not
        # enough (root passes it for /proc, where nothing can be made)
        if os.access(default, os.W_OK | os.X_OK):
            return
    except OSError:
        pass
    folder = os.path.join(tempfile.gettempdir(), f"csp-monitor-matplotlib-{os.getuid()}")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError:
        folder = tempfile.mkdtemp(prefix="csp-monitor-matplotlib-")
    os.environ["MPLCONFIGDIR"] = folder
