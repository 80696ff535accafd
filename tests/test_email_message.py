"""Building the MIME message: structure, headers, a stable Message-ID, and no header injection."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from csp_monitor.delivery.message import build_message, message_id, serialise
from csp_monitor.evaluation.engine import evaluate
from csp_monitor.load.rules import rules_from_text
from csp_monitor.models.figures import FigureSet
from csp_monitor.periods import parse_month
from csp_monitor.render.messages import (
    InlineImage,
    RenderedEmail,
    clean_subject,
    render_summary_email,
)
from csp_monitor.render.summary import build_summary

DATE = datetime(2014, 4, 10, 7, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _rendered(subject: str = "Risk summary", images: tuple[InlineImage, ...] = ()) -> RenderedEmail:
    return RenderedEmail(kind="summary", subject=subject, text="Plain text\n", html="<p>HTML</p>", images=images)


def _parse(message: EmailMessage) -> EmailMessage:
    parsed = message_from_bytes(serialise(message), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_text_and_html_are_alternatives_and_images_are_related_to_the_html() -> None:
    """multipart/alternative of text/plain and multipart/related(text/html, image/png) with Content-IDs."""
    image = InlineImage(content_id="trend-town-burglary@csp-monitor.invalid", data=PNG, filename="trend.png")
    message = _parse(build_message(_rendered(images=(image,)), sender="CSP <csp@example.org>",
                                   recipients=["a@example.org", "B <b@example.org>"], key="k", date=DATE))
    assert message.get_content_type() == "multipart/alternative"
    text, related = message.get_payload()
    assert (text.get_content_type(), related.get_content_type()) == ("text/plain", "multipart/related")
    html, png = related.get_payload()
    assert html.get_content_type() == "text/html" and png.get_content_type() == "image/png"
    assert png["Content-ID"] == "<trend-town-burglary@csp-monitor.invalid>"
    assert png.get_content_disposition() == "inline"
    assert png.get_payload(decode=True) == PNG
    assert [str(a) for a in message["To"].addresses] == ["a@example.org", "B <b@example.org>"]
    assert message["Date"].datetime == DATE


def test_the_message_id_comes_from_the_key() -> None:
    """The same key gives the same Message-ID (at the sender's domain); another key another one."""
    first = build_message(_rendered(), sender="csp@example.org", recipients=["a@example.org"], key="k1", date=DATE)
    again = build_message(_rendered(), sender="csp@example.org", recipients=["a@example.org"], key="k1", date=DATE)
    other = build_message(_rendered(), sender="csp@example.org", recipients=["a@example.org"], key="k2", date=DATE)
    assert first["Message-ID"] == again["Message-ID"] == message_id("k1", "csp@example.org")
    assert first["Message-ID"] != other["Message-ID"]
    assert str(first["Message-ID"]).endswith("@example.org>")


def test_a_newline_in_a_subject_cannot_add_a_header() -> None:
    """Given directly, a newline in the subject is refused; from a template, it is folded into one line."""
    hostile = "Risk summary\nBcc: everyone@example.org"
    with pytest.raises(ValueError):
        build_message(_rendered(hostile), sender="csp@example.org", recipients=["a@example.org"], key="k",
                      date=DATE)
    cleaned = clean_subject(hostile)
    message = _parse(build_message(_rendered(cleaned), sender="csp@example.org", recipients=["a@example.org"],
                                   key="k", date=DATE))
    assert message["Bcc"] is None
    assert message["Subject"] == "Risk summary Bcc: everyone@example.org"


def test_a_newline_in_the_partnership_name_stays_in_the_subject() -> None:
    """A partnership name with a line break (from a rule file) ends up inside the subject, not as a header."""
    rules = rules_from_text('partnership: "Test CSP\\nBcc: everyone@example.org"\narea: town\npriorities:\n'
                            "  - id: crime\n    title: Crime\n    measures:\n"
                            "      - {id: burglary, name: Burglary, better: lower}\n")
    figures = FigureSet()
    figures.add("town", "burglary", parse_month("2014-03"), 5)
    figures.add("town", "burglary", parse_month("2013-03"), 5)
    summary = build_summary(rules, figures, evaluate(rules, figures, as_of="2014-03"), charts=False)
    rendered = render_summary_email(summary)
    message = _parse(build_message(rendered, sender="csp@example.org", recipients=["a@example.org"], key="k",
                                   date=DATE))
    assert message["Bcc"] is None
    assert str(message["Subject"]).startswith("Test CSP Bcc: everyone@example.org risk summary")


def test_a_newline_in_an_address_is_refused() -> None:
    """A display name with a newline is not an address."""
    with pytest.raises(ValueError, match="one line"):
        build_message(_rendered(), sender="CSP\nBcc: x@example.org <csp@example.org>",
                      recipients=["a@example.org"], key="k", date=DATE)


@example("Hello =?utf-8?q?abc?= world")  # an encoded word must not be decoded into other text
@example("0000000000000000000¡¡¡¡¡¡¡¡ࠀ𖼀 ¡ ¡")  # regression: folding encoded words dropped a space
@example("𖼀 " * 199)  # the longest subject, in four-byte characters, is still one line
@given(st.text(max_size=300))
def test_any_subject_text_becomes_one_safe_header(text: str) -> None:
    """Whatever the text, the cleaned subject is one header line that parses back unchanged."""
    subject = clean_subject(text)
    message = _parse(build_message(_rendered(subject), sender="csp@example.org", recipients=["a@example.org"],
                                   key="k", date=DATE))
    assert message["Subject"] == subject
    assert set(message.keys()) == {"From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted",
                                   "X-Auto-Response-Suppress", "MIME-Version", "Content-Type"}


def test_wire_format_has_crlf_line_ends_and_short_lines() -> None:
    """The serialised message uses CRLF and no line exceeds SMTP's 998 octets, even for long HTML lines."""
    rendered = RenderedEmail(kind="summary", subject="s", text="x" * 5000, html="<p>" + "y" * 5000 + "</p>")
    data = serialise(build_message(rendered, sender="csp@example.org", recipients=["a@example.org"], key="k",
                                   date=DATE))
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
