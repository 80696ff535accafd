"""The stable identity of a notification.

A notice is the same notice whichever rule file, machine or run decides it:
its key depends only on the alert's id, the area, the measure, the reporting
period and the kind of notice. The store keeps keys unique, and the delivery
layer derives the email's Message-ID from it, so a rerun, a restart or a
resend can never make a second, different notice.
"""

from __future__ import annotations

import hashlib

__all__ = ["notification_key"]

_SEPARATOR = "\x1f"  # the ASCII unit separator: it cannot appear in an id or a YYYY-MM period


def notification_key(alert: str, area: str, measure: str, period: str, kind: str) -> str:
    """The SHA-256 (hex) of the notice's identity."""
    identity = _SEPARATOR.join(("csp-monitor-notification-v1", alert, area, measure, period, kind))
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()
