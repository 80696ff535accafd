"""The Jinja2 environments: autoescaping by name, strict variables, a sandbox for user templates, located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from csp_monitor.errors import TemplateError
from csp_monitor.render.templates import (
    builtin_templates,
    is_text_template,
    render_template,
    template_environment,
)

HOSTILE = "<script>alert('x')</script>"


def _folder(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    for name, text in files.items():
        (folder / name.replace("__", ".")).write_text(text, encoding="utf-8")
    return folder


def test_html_templates_are_autoescaped_whatever_their_ending(tmp_path: Path) -> None:
    """A template named summary.html.j2 (or anything but a text part) escapes what it shows."""
    folder = _folder(tmp_path, summary__html__j2="{{ name }}", other__j2="{{ name }}")
    environment = template_environment(folder)
    for name in ("summary.html.j2", "other.j2"):
        assert render_template(environment, name, {"name": HOSTILE}) == "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"


def test_text_parts_and_subjects_are_not_escaped(tmp_path: Path) -> None:
    """Plain-text parts and subject lines show text as it is (no HTML entities in a text email)."""
    folder = _folder(tmp_path, summary__txt__j2="{{ name }}", summary__subject__j2="{{ name }}")
    environment = template_environment(folder)
    assert render_template(environment, "summary.txt.j2", {"name": "A & B <c>"}) == "A & B <c>"
    assert render_template(environment, "summary.subject.j2", {"name": "A & B"}) == "A & B"
    assert is_text_template("alert.txt.j2") and not is_text_template("alert.html.j2")


def test_an_undefined_variable_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    """StrictUndefined: a misspelt variable fails with the template's file and line."""
    folder = _folder(tmp_path, summary__html__j2="<p>one</p>\n<p>{{ summary.partnershp }}</p>\n")
    with pytest.raises(TemplateError) as caught:
        render_template(template_environment(folder), "summary.html.j2", {"summary": {"partnership": "X"}})
    assert caught.value.template == str(folder.resolve() / "summary.html.j2")
    assert caught.value.line == 2
    assert "summary.html.j2:2:" in str(caught.value)


def test_a_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    """A broken tag is reported at its line."""
    folder = _folder(tmp_path, summary__txt__j2="a\nb\n{% if x %}\nno end\n")
    with pytest.raises(TemplateError) as caught:
        render_template(template_environment(folder), "summary.txt.j2", {"x": True})
    assert caught.value.template is not None and caught.value.template.endswith("summary.txt.j2")
    assert caught.value.line is not None and caught.value.line >= 3


def test_user_templates_run_in_a_sandbox(tmp_path: Path) -> None:
    """A user template cannot reach Python internals: the sandbox stops it with a located error."""
    folder = _folder(tmp_path, summary__html__j2="\n{{ summary.__class__.__mro__ }}")
    with pytest.raises(TemplateError) as caught:
        render_template(template_environment(folder), "summary.html.j2", {"summary": object()})
    assert caught.value.line == 2


def test_user_templates_cannot_change_data(tmp_path: Path) -> None:
    """The immutable sandbox refuses methods that modify lists and dicts."""
    folder = _folder(tmp_path, summary__txt__j2="{{ items.append(1) }}")
    with pytest.raises(TemplateError, match="unsafe"):
        render_template(template_environment(folder), "summary.txt.j2", {"items": []})


def test_a_user_folder_overrides_only_what_it_holds(tmp_path: Path) -> None:
    """A file in the user folder replaces the built-in one of the same name; the rest stay built in."""
    folder = _folder(tmp_path, alert__subject__j2="Custom: {{ n }}")
    environment = template_environment(folder)
    assert render_template(environment, "alert.subject.j2", {"n": 3}) == "Custom: 3"
    assert "margin" in render_template(environment, "email.css", {})


def test_the_built_in_templates_are_found() -> None:
    """Every template the renderer uses ships with the package."""
    root = builtin_templates()
    for name in ("summary.subject.j2", "summary.txt.j2", "summary.html.j2", "alert.subject.j2", "alert.txt.j2",
                 "alert.html.j2", "report.html.j2", "_macros.html.j2", "email.css", "report.css"):
        assert root.joinpath(name).is_file(), name


def test_a_missing_templates_folder_is_an_error(tmp_path: Path) -> None:
    """Naming a templates folder that does not exist is reported, not ignored."""
    with pytest.raises(TemplateError, match="does not exist"):
        template_environment(tmp_path / "nope")
