"""Build the MIME message of a rendered email, with the standard library only.

The structure mail clients expect for an HTML email with inline charts::

    multipart/alternative
    ├── text/plain                  the text part
    └── multipart/related
        ├── text/html               the HTML part, CSS inlined
        └── image/png ...           each chart, Content-ID <...>, shown by cid:

built with ``set_content`` -> ``add_alternative`` -> ``add_related`` and the
``default`` policy, which refuses a newline in any header value: no header
is built by formatting strings, so a newline in a subject or a name can never
add a header of its own.

The Message-ID is derived from the notification key, not drawn at random: a
message resent after a crash carries the same Message-ID, so mail systems and
people can tell it is the same message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, default

from csp_monitor.models.config import parse_mailbox
from csp_monitor.render.messages import RenderedEmail

__all__ = ["SENSITIVITY", "address", "build_message", "message_id", "serialise"]

SENSITIVITY = "Company-Confidential"
"""The RFC 2156 ``Sensitivity`` header value Outlook shows as "Confidential"."""

_FALLBACK_DOMAIN = "csp-monitor.invalid"


def address(text: str) -> Address:
    """``'Name <a@b.org>'`` as an :class:`~email.headerregistry.Address` (ValueError if it is not one)."""
    name, addr_spec = parse_mailbox(text)
    return Address(display_name=name, addr_spec=addr_spec)


def message_id(key: str, sender: str | None = None) -> str:
    """``<sha256-prefix@domain>``: the same key always gives the same Message-ID."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    domain = _FALLBACK_DOMAIN
    if sender:
        try:
            domain = address(sender).domain or _FALLBACK_DOMAIN
        except ValueError:
            domain = _FALLBACK_DOMAIN
    return f"<{digest}@{domain}>"


def build_message(rendered: RenderedEmail, *, sender: str, recipients: Sequence[str], key: str,
                  date: datetime, reply_to: str | None = None) -> EmailMessage:
    """The email as an :class:`~email.message.EmailMessage` (headers set through the policy, never by hand)."""
    if date.tzinfo is None:
        raise ValueError("the Date of a message needs a time zone")
    if not recipients:
        raise ValueError("a message needs at least one recipient")
    message = EmailMessage(policy=default)
    message["From"] = address(sender)
    message["To"] = tuple(address(recipient) for recipient in recipients)
    if reply_to:
        message["Reply-To"] = address(reply_to)
    message["Subject"] = rendered.subject
    message["Date"] = date
    message["Message-ID"] = message_id(key, sender)
    # RFC 3834: an automatic message; tells out-of-office replies to stay quiet.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    if rendered.sensitive:
        message["Sensitivity"] = SENSITIVITY
    message.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    if rendered.images:
        parts = message.get_payload()
        assert isinstance(parts, list)
        html_part = parts[1]
        assert isinstance(html_part, EmailMessage)
        for image in rendered.images:
            html_part.add_related(image.data, maintype="image", subtype="png", cid=f"<{image.content_id}>",
                                  disposition="inline", filename=image.filename)
    return message


# Headers are folded only past SMTP's own 998-octet limit: CPython's folding of
# RFC 2047 encoded words can drop the space between two words (a subject would
# then arrive changed), and our subjects are capped well below that length.
_WIRE = SMTP.clone(max_line_length=998)


def serialise(message: EmailMessage) -> bytes:
    """The message as it goes on the wire: CRLF line ends, every line under 998 octets."""
    return message.as_bytes(policy=_WIRE)
