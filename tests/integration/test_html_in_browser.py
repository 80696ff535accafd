"""The HTML report and the HTML emails, rendered by a real headless Chromium and screenshotted."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest

from csp_monitor.delivery.folder import html_preview
from csp_monitor.delivery.message import build_message, serialise
from csp_monitor.evaluation.engine import evaluate
from csp_monitor.load.figures import load_figures
from csp_monitor.load.rules import load_rules
from csp_monitor.render.alerts import AlertEmail, build_alert_email, render_alert_email
from csp_monitor.render.messages import render_report, render_summary_email
from csp_monitor.render.summary import RiskSummary, build_summary, previous_evaluation
from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES

PHONE_WIDTH = 375  # an iPhone's CSS width; headless Chromium will not make a window narrower than 500
_CHART_BAR = (0x9F, 0xB7, 0xD0)  # the earlier years' bars: only a drawn chart has this colour
_RED_TILE = (0xB4, 0x23, 0x18)
_NOW = datetime(2014, 4, 10, 7, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def chromium() -> str:
    """The Chromium binary (skips when absent, fails under CI)."""
    found = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required under CI (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed: the browser rendering tests need /usr/bin/chromium")
    return found


def _browser(chromium: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", f"--user-data-dir={profile}", *arguments],
            capture_output=True, text=True, timeout=120, check=False)


def _screenshot(chromium: str, page: Path, png: Path, width: int, height: int) -> Path:
    _browser(chromium, f"--window-size={width},{height}", f"--screenshot={png}", page.as_uri())
    assert png.is_file() and png.read_bytes().startswith(b"\x89PNG"), f"no screenshot of {page}"
    return png


def _phone(page: Path, height: int) -> Path:
    """A test-only page showing ``page`` in a phone-wide frame, which reports the width the email lays out at."""
    frame = page.with_name(f"phone-{page.name}")
    frame.write_text(
        "<!DOCTYPE html><html><head><title>loading</title></head><body style=\"margin:0\">"
        f"<iframe id=\"phone\" style=\"border:0;width:{PHONE_WIDTH}px;height:{height}px\" "
        f"srcdoc=\"{html.escape(page.read_text(encoding='utf-8'), quote=True)}\"></iframe>"
        "<script>document.getElementById('phone').onload = function () {"
        " var d = this.contentDocument.documentElement; document.title = 'width=' + d.scrollWidth; };"
        "</script></body></html>", encoding="utf-8")
    return frame


def _page_width(chromium: str, frame: Path) -> int:
    """How wide the email in a phone frame lays out (more than the frame: sideways scrolling)."""
    result = _browser(chromium, "--window-size=500,900", "--dump-dom", frame.as_uri())
    match = re.search(r"<title>width=(\d+)</title>", result.stdout)
    assert match, result.stderr[-2000:]
    return int(match.group(1))


def _has_colour(png: Path, colour: tuple[int, int, int], tolerance: int = 6) -> bool:
    from PIL import Image

    with Image.open(png) as image:
        pixels = list(image.convert("RGB").getdata()) if not hasattr(image, "get_flattened_data") \
            else image.convert("RGB").get_flattened_data()
        return any(all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True)) for pixel in pixels)


@pytest.fixture(scope="module")
def harborough() -> RiskSummary:
    """The Harborough risk summary for March 2014, with its charts."""
    rules = load_rules(HARBOROUGH_RULES)
    figures = load_figures(HARBOROUGH_FIGURES)
    evaluation = evaluate(rules, figures, as_of="2014-03")
    return build_summary(rules, figures, evaluation, previous=previous_evaluation(rules, figures, evaluation))


def _email_page(message: EmailMessage, folder: Path, name: str) -> Path:
    """The HTML part as a mail client shows it: the cid: images resolved from the message's own parts."""
    parsed = message_from_bytes(serialise(message), policy=default)
    assert isinstance(parsed, EmailMessage)
    page = folder / name
    page.write_text(html_preview(parsed), encoding="utf-8")
    return page


def test_the_report_renders_with_its_charts(chromium: str, harborough: RiskSummary,
                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    """The standalone report shows the status tiles and the drawn charts in a real browser."""
    folder = tmp_path_factory.mktemp("screenshots")
    page = folder / "report.html"
    page.write_text(render_report(harborough), encoding="utf-8")
    png = _screenshot(chromium, page, folder / "report.png", 1000, 2600)
    print(f"report screenshot: {png}")
    assert _has_colour(png, _RED_TILE)
    assert _has_colour(png, _CHART_BAR)


def test_the_summary_email_fits_a_phone_and_shows_its_inline_charts(
        chromium: str, harborough: RiskSummary, tmp_path_factory: pytest.TempPathFactory) -> None:
    """On a 390-pixel phone screen the summary email needs no sideways scrolling and shows its charts."""
    folder = tmp_path_factory.mktemp("screenshots")
    rendered = render_summary_email(harborough)
    message = build_message(rendered, sender="CSP <csp@example.org>", recipients=["board@example.org"],
                            key="browser-test", date=_NOW)
    frame = _phone(_email_page(message, folder, "summary-email.html"), 4200)
    png = _screenshot(chromium, frame, folder / "summary-email-phone.png", 500, 4200)
    print(f"summary email screenshot: {png}")
    assert _has_colour(png, _CHART_BAR)
    assert _page_width(chromium, frame) <= PHONE_WIDTH


def test_the_alert_email_fits_a_phone(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """An alert email with a long, hostile measure name still fits a phone screen and shows it as text."""
    from csp_monitor.alerts.decide import decide
    from csp_monitor.load.rules import rules_from_text
    from csp_monitor.models.alert_state import RememberedState

    folder = tmp_path_factory.mktemp("screenshots")
    rules = rules_from_text(
        "partnership: Test CSP\n"
        "priorities:\n"
        "  - id: crime\n"
        "    title: Reduce crime\n"
        "    owner: lead@example.org\n"
        "    measures:\n"
        "      - {id: burglary, name: \"<script>alert(1)</script> Burglary of dwellings and outbuildings\", "
        "better: lower, target: {change: -10%}}\n"
        "alerts:\n"
        "  - {id: off-target, when: {status: [red]}, notify: [owner]}\n", "rules.yaml")
    figures_file = folder / "figures.csv"
    figures_file.write_text("area,measure,period,value\ntown,burglary,2013-03,10\ntown,burglary,2014-03,30\n")
    evaluation = evaluate(rules, load_figures(figures_file), as_of="2014-03")
    plan = decide(evaluation, rules, RememberedState(), now=_NOW)
    email: AlertEmail = build_alert_email(rules, evaluation, "lead@example.org", plan.decision.notifications)
    rendered = render_alert_email(email)
    assert "<script>alert(1)</script>" not in rendered.html
    message = build_message(rendered, sender="csp@example.org", recipients=["lead@example.org"], key="alert",
                            date=_NOW)
    page = _email_page(message, folder, "alert-email.html")
    frame = _phone(page, 1200)
    png = _screenshot(chromium, frame, folder / "alert-email-phone.png", 500, 1200)
    print(f"alert email screenshot: {png}")
    assert _has_colour(png, _RED_TILE)
    assert _page_width(chromium, frame) <= PHONE_WIDTH
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Burglary" in page.read_text(encoding="utf-8")


def test_the_report_fits_a_phone(chromium: str, harborough: RiskSummary,
                                 tmp_path_factory: pytest.TempPathFactory) -> None:
    """The standalone report's full table fits a phone: its headings wrap (it was 427 pixels wide at 375)."""
    folder = tmp_path_factory.mktemp("screenshots")
    page = folder / "report.html"
    page.write_text(render_report(harborough), encoding="utf-8")
    frame = _phone(page, 6000)
    png = _screenshot(chromium, frame, folder / "report-phone.png", 500, 6000)
    print(f"report phone screenshot: {png}")
    assert _has_colour(png, _RED_TILE)
    assert _page_width(chromium, frame) <= PHONE_WIDTH


def test_a_partial_year_report_fits_a_phone(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A report whose rows carry "7 of 12 months" marks fits a phone: the mark goes under the status (the
    Melton 2022/23 report was 456 pixels wide at 390)."""
    from csp_monitor import FigureSet, rules_from_text
    from tests.town_fixtures import monthly

    rules = rules_from_text("""
partnership: Test CSP
area: town
year_starts: 2021-04
priorities:
  - id: crime
    title: Reduce crime
    measures:
      - {id: violence, name: Violence and sexual offences (police.uk), better: lower, target: {change: -2%}}
      - {id: burglary, name: "Burglary, domestic and commercial (police.uk)", better: lower, target: {change: -10%}}
""")
    figures = FigureSet.from_figures(monthly("violence", "2020-04", [1200.0] * 12 + [1500.0] * 7)
                                     + monthly("burglary", "2020-04", [100.0] * 12 + [90.0] * 7))
    evaluation = evaluate(rules, figures, as_of="2022-03")
    summary = build_summary(rules, figures, evaluation, charts=False)
    assert [row.coverage for row in summary.rows] == ["7 of 12 months", "7 of 12 months"]
    folder = tmp_path_factory.mktemp("screenshots")
    page = folder / "partial-report.html"
    page.write_text(render_report(summary), encoding="utf-8")
    assert _page_width(chromium, _phone(page, 3000)) <= PHONE_WIDTH
