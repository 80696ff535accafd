"""Render the risk summary and alert emails, and the standalone HTML report.

The output of this layer is a :class:`RenderedEmail`: a subject, a text part,
an HTML part with its CSS inlined (Outlook and most phone mail apps ignore
``<style>`` blocks) and the inline PNG images the HTML refers to by
``cid:``. Building the MIME message and sending it is the delivery layer's
job.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from csp_monitor.render.summary import RiskSummary
from csp_monitor.render.templates import render_template, template_environment

__all__ = [
    "SENSITIVE_PREFIX",
    "InlineImage",
    "RenderedEmail",
    "clean_subject",
    "inline_css",
    "render_email",
    "render_report",
    "render_summary_email",
]

SENSITIVE_PREFIX = "[OFFICIAL-SENSITIVE]"
"""Put before the subject of every email that carries a sensitive measure."""

_MAX_SUBJECT = 200
_MAX_SUBJECT_BYTES = 600
# A start tag as the HTML5 serialiser writes it: attribute values double-quoted (a '"' inside is &quot;),
# possibly holding a raw < or >; text outside tags never holds a raw <, so a match starts only at a real tag.
_START_TAG = re.compile(r"""<[a-zA-Z][^\s/>]*(?:\s+[^\s>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*\s*/?>""")
_QUOTED = re.compile(r'"[^"]*"')


class _Rendered(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InlineImage(_Rendered):
    """A PNG the HTML part shows with ``cid:<content_id>``."""

    content_id: str = Field(description="The Content-ID without angle brackets.")
    data: bytes = Field(repr=False, description="The PNG bytes.")
    filename: str = Field(description="A file name for mail clients that list the image.")


class RenderedEmail(_Rendered):
    """One email, rendered: ready to be built into a MIME message."""

    kind: str = Field(description="summary or alert.")
    subject: str = Field(description="The subject: one line, with the sensitivity prefix when needed.")
    text: str = Field(description="The plain-text part.")
    html: str = Field(description="The HTML part, CSS inlined.")
    images: tuple[InlineImage, ...] = Field(default=(), description="The inline images the HTML refers to.")
    sensitive: bool = Field(default=False, description="Whether the email carries a sensitive measure.")


def clean_subject(text: str, *, sensitive: bool = False) -> str:
    """One line of text: whitespace (newlines included) collapsed, control characters dropped."""
    printable = "".join(" " if unicodedata.category(ch)[0] in {"C", "Z"} else ch for ch in text)
    # "=?" would start an RFC 2047 encoded word: a reader's mail client would decode it into other text.
    subject = " ".join(printable.split()).replace("=?", "= ?")
    if len(subject) > _MAX_SUBJECT:
        subject = subject[: _MAX_SUBJECT - 1].rstrip() + "…"
    # Encoded as UTF-8 then base64 the subject must stay one unfolded header line.
    while len(subject.encode("utf-8")) > _MAX_SUBJECT_BYTES:
        subject = subject[:-2].rstrip() + "…"
    if sensitive and not subject.startswith(SENSITIVE_PREFIX):
        subject = f"{SENSITIVE_PREFIX} {subject}"
    return subject or "(no subject)"


def inline_css(html: str) -> str:
    """Move the ``<style>`` rules into ``style=""`` attributes, keeping only @media rules."""
    import css_inline

    inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
    # The inliner re-serialises the page as HTML5 does, which leaves < and > unescaped inside attribute
    # values (alt texts carry measure names). That is valid HTML, but mail gateways and old clients parse
    # less carefully than browsers: escape them again.
    # Only inside start tags: text such as a measure named 'Total ="Crime' is left as it is.
    return _START_TAG.sub(lambda tag: _QUOTED.sub(
        lambda value: value.group(0).replace("<", "&lt;").replace(">", "&gt;"), tag.group(0)),
        str(inliner.inline(html)))


def render_email(kind: str, context: Mapping[str, Any], *, sensitive: bool,
                 images: tuple[InlineImage, ...] = (),
                 templates: str | os.PathLike[str] | None = None) -> RenderedEmail:
    """Render ``<kind>.subject.j2``, ``<kind>.txt.j2`` and ``<kind>.html.j2`` with ``context``."""
    environment = template_environment(templates)
    subject = clean_subject(render_template(environment, f"{kind}.subject.j2", context), sensitive=sensitive)
    full = {**context, "subject": subject, "inline_images": False}
    text = render_template(environment, f"{kind}.txt.j2", full)
    html = inline_css(render_template(environment, f"{kind}.html.j2", full))
    used = tuple(image for image in images if f"cid:{image.content_id}" in html)
    return RenderedEmail(kind=kind, subject=subject, text=_tidy(text), html=html, images=used,
                         sensitive=sensitive)


def render_summary_email(summary: RiskSummary, *, templates: str | os.PathLike[str] | None = None
                         ) -> RenderedEmail:
    """The monthly risk summary email."""
    images = tuple(InlineImage(content_id=chart.content_id, data=chart.png,
                               filename=f"{chart.kind}-{chart.area}-{chart.measure}.png")
                   for chart in summary.charts if chart.png)
    return render_email("summary", {"summary": summary}, sensitive=summary.sensitive, images=images,
                        templates=templates)


def render_report(summary: RiskSummary, *, templates: str | os.PathLike[str] | None = None) -> str:
    """The standalone HTML report: one file, images embedded, no scripts or external resources."""
    environment = template_environment(templates)
    title = clean_subject(f"{summary.partnership}: performance report, {summary.as_of_label}",
                          sensitive=summary.sensitive)
    return render_template(environment, "report.html.j2",
                           {"summary": summary, "title": title, "inline_images": True})


_BLANK_LINES = re.compile(r"\n{3,}")


def _tidy(text: str) -> str:
    """At most one blank line in a row, and a final newline."""
    lines = "\n".join(line.rstrip() for line in text.splitlines())
    return _BLANK_LINES.sub("\n\n", lines).strip() + "\n"
