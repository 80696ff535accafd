"""Deliver into a folder: each message as an ``.eml`` file plus an ``.html`` preview.

The embedded default (no mail server needed), the ``--dry-run`` of ``send``
and the output of ``preview``. The ``.eml`` opens in any mail client; the
``.html`` opens in a browser, with the inline charts embedded and the
envelope (subject, from, to) shown above the message.

Files are written atomically (a temporary file in the same folder, flushed
to disk, then renamed), so a crash never leaves half a message behind; the
name comes from the Message-ID, so writing the same message again replaces
it rather than adding a copy.
"""

from __future__ import annotations

import base64
import html
import os
import re
from collections.abc import Sequence
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from csp_monitor.delivery.transport import Receipt
from csp_monitor.errors import DeliveryError, OutputError
from csp_monitor.files import why_not_written, write_bytes_atomically

__all__ = ["FolderTransport", "html_preview", "stem_for"]

_ID_CHARS = re.compile(r"[^A-Za-z0-9]+")


def stem_for(message: EmailMessage) -> str:
    """A file name stem for a message: its date, then its Message-ID (so a resend replaces it)."""
    date = message["Date"]
    when = date.datetime.strftime("%Y-%m-%d-%H%M%S") if date is not None and date.datetime else "undated"
    identity = _ID_CHARS.sub("", str(message["Message-ID"] or "").split("@")[0])[:16] or "message"
    return f"{when}-{identity}"


def html_preview(message: EmailMessage) -> str:
    """The HTML part with its ``cid:`` images embedded, under a header showing the envelope."""
    images: dict[str, str] = {}
    html_text = ""
    text = ""
    for part in message.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        if content_type == "text/html" and not html_text:
            html_text = str(part.get_content())
        elif content_type == "text/plain" and not text:
            text = str(part.get_content())
        elif part.get_content_maintype() == "image" and part["Content-ID"]:
            cid = str(part["Content-ID"]).strip().strip("<>")
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                images[cid] = f"data:{content_type};base64,{base64.b64encode(payload).decode('ascii')}"
    if not html_text:
        html_text = f"<!DOCTYPE html><html><body><pre>{html.escape(text)}</pre></body></html>"
    for cid, uri in images.items():
        html_text = html_text.replace(f"cid:{cid}", uri)
    envelope = "".join(
        f"<tr><th style=\"text-align:left;padding:2px 8px\">{html.escape(name)}</th>"
        f"<td style=\"padding:2px 8px;word-break:break-word\">{html.escape(str(message[name] or ''))}</td></tr>"
        for name in ("Subject", "From", "To", "Date", "Message-ID", "Sensitivity") if message[name] is not None)
    banner = (f"<table role=\"presentation\" style=\"font:13px Arial,sans-serif;background:#fffbe6;"
              f"border-bottom:1px solid #ccc;width:100%\">{envelope}</table>")
    match = re.search(r"<body[^>]*>", html_text)
    if match is None:
        return banner + html_text
    return html_text[: match.end()] + banner + html_text[match.end():]


class FolderTransport:
    """Writes each message into a folder instead of sending it."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.description = f"folder {self.folder}"

    def send(self, message: bytes, *, sender: str, recipients: Sequence[str], message_id: str) -> Receipt:
        """Write ``<stem>.eml`` and ``<stem>.html``; the receipt names the files."""
        parsed = message_from_bytes(message, policy=default)
        assert isinstance(parsed, EmailMessage)
        stem = stem_for(parsed)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # The preview first: once the .eml exists the message counts as written.
            write_bytes_atomically(self.folder / f"{stem}.html", html_preview(parsed).encode("utf-8"))
            write_bytes_atomically(self.folder / f"{stem}.eml", message)
        except (OSError, OutputError) as exc:  # a full disk passes: the message waits in the outbox for a later run
            reason = exc.reason if isinstance(exc, OutputError) else why_not_written(exc)
            raise DeliveryError(f"cannot write to {self.folder}: {reason}", permanent=False) from None
        return Receipt(reply=f"written to {self.folder / (stem + '.eml')}", accepted=tuple(recipients))

    def close(self) -> None:
        """Nothing to release."""
