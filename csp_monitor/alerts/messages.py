"""Write an alert's message from its template, safely.

Message templates come from rule files, which partnership leads write, so
they run in Jinja2's immutable sandbox with ``StrictUndefined`` and no
autoescaping (the message is plain text; whoever puts it into HTML escapes
it). Repetition and powers are capped so that a template cannot make a
gigabyte of text, and a message is cut at a fixed length. A template that
fails at run time (a figure that is missing, say) never loses the alert: the
result's own plain-English summary is used instead, and a warning says so.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from csp_monitor.models.alerts import AlertRule, message_environment
from csp_monitor.models.results import MeasureResult

if TYPE_CHECKING:
    from jinja2 import Template

__all__ = ["MAX_MESSAGE_LENGTH", "MessageWriter", "default_message"]

MAX_MESSAGE_LENGTH = 4000


def default_message(kind: str, result: MeasureResult) -> str:
    """The message when the alert gives none: the result's summary, with a word for reminders and recoveries."""
    if kind == "resolved":
        return f"Back on track: {result.summary}"
    if kind == "repeat":
        return f"Still the case: {result.summary}"
    return result.summary


def _clean(text: str) -> str:
    """Keep line breaks and tabs; drop other control and format characters; cap the length."""
    if text.isprintable():  # the usual case, checked in C
        kept = text.strip()
    else:
        kept = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C").strip()
    if len(kept) > MAX_MESSAGE_LENGTH:
        kept = kept[: MAX_MESSAGE_LENGTH - 1].rstrip() + "…"
    return kept


class MessageWriter:
    """Renders alert messages; compiles each template once per decision."""

    def __init__(self) -> None:
        self._environment: Any = None
        self._templates: dict[str, Template] = {}
        self.warnings: list[str] = []

    def write(self, rule: AlertRule, kind: str, result: MeasureResult, context: Mapping[str, Any]) -> str:
        """The message for one notice; the default message when the template fails."""
        if rule.message is None:
            return _clean(default_message(kind, result))
        try:
            template = self._template(rule.message)
            text = template.render({**context, "result": result, "alert": rule, "kind": kind})
        except Exception as exc:  # any template failure: keep the alert, say why
            self.warnings.append(
                f"the message of the alert '{rule.id}' could not be written for {result.measure} in "
                f"{result.area} ({type(exc).__name__}: {exc}); its plain summary was used instead")
            return _clean(default_message(kind, result))
        cleaned = _clean(text)
        return cleaned or _clean(default_message(kind, result))

    def _template(self, source: str) -> Template:
        if source not in self._templates:
            if self._environment is None:
                self._environment = message_environment()
            self._templates[source] = self._environment.from_string(source)
        return self._templates[source]
