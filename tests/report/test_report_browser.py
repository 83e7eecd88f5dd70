"""The report in a real browser: headless Debian chromium, every network request blocked.

Asserts that opening report.html attempts no request other than its own file:// URL
and logs no console error (a blocked fetch or a Content-Security-Policy violation
would log one), then saves a full-page screenshot to test-artifacts/report.png.

Needs /usr/bin/chromium (Debian's package; never ``playwright install``). Without it
the test is skipped, unless BURNOUT_CI is set: then it fails, because CI installs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from resultsfactory import pipeline_results
from services import unavailable

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser


def _need_chromium() -> None:
    reason = None
    if not CHROMIUM.exists():
        reason = f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "the playwright Python package is not installed (pip install playwright; no browser download needed)"
    if reason:
        unavailable(reason)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _need_chromium()
    _, _, out = pipeline_results(tmp_path_factory.mktemp("browser"), threshold_met=None)
    return out / "report.html"


def test_report_opens_offline_without_errors_in_chromium(report: Path) -> None:
    from playwright.sync_api import sync_playwright

    url = report.resolve().as_uri()
    attempted: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1100, "height": 1000}, device_scale_factor=1)
            page = context.new_page()

            def route(r: Any) -> None:
                attempted.append(r.request.url)
                if r.request.url == url:
                    r.continue_()
                else:
                    r.abort()

            page.route("**/*", route)
            page.on("console", lambda m: errors.append(f"{m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
            page.on("requestfailed", lambda r: errors.append(f"requestfailed: {r.url}") if r.url != url else None)
            page.goto(url, wait_until="load")
            page.wait_for_timeout(200)
            title = page.title()
            figures = page.locator("figure").count()  # two figures also carry a phone-width drawing
            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / "report.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert attempted == [url], f"requests other than the report itself: {[u for u in attempted if u != url]}"
    assert errors == [], errors
    assert "SYNTHETIC" in title
    assert figures == 7
    assert shot.stat().st_size > 50_000


PHONE_WIDTH = 390  # CSS px: a common phone viewport
MIN_TEXT_PX = 9.0  # the figures' 8 pt text must render at least this large


def test_figures_legible_at_phone_width(report: Path) -> None:
    """At 390 px every figure's 8 pt text renders at >= 9 CSS px and the page needs no sideways scrolling.

    matplotlib's viewBox is in points, so the drawn size of 8 pt text is 8 x (rendered
    width / viewBox width). The flow diagram (6.2 in) and the forest plot (7 in) would
    shrink to ~6 px; the page shows their one-column drawings instead.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_context(viewport={"width": PHONE_WIDTH, "height": 800}, device_scale_factor=2).new_page()
            page.route("**/*", lambda r: r.continue_() if r.request.url == report.resolve().as_uri() else r.abort())
            page.goto(report.resolve().as_uri(), wait_until="load")
            sizes = page.evaluate(
                """() => [...document.querySelectorAll("figure")].map(f => {
                    const svg = [...f.querySelectorAll("svg")].find(s => s.getBoundingClientRect().width > 0);
                    return [f.id, svg.getBoundingClientRect().width / svg.viewBox.baseVal.width * 8];
                })"""
            )
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            ARTIFACTS.mkdir(exist_ok=True)
            for key in ("flow", "subgroups"):
                page.locator(f"#figure-{key}").screenshot(path=str(ARTIFACTS / f"phone-{key}.png"))
        finally:
            browser.close()
    assert len(sizes) == 7
    small = [(fid, round(px, 1)) for fid, px in sizes if px < MIN_TEXT_PX]
    assert not small, small
    assert scroll_width <= PHONE_WIDTH


def test_chromium_skip_reason_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without chromium the skip says how to install it (or fails under BURNOUT_CI)."""
    monkeypatch.setattr(f"{__name__}.CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.delenv("BURNOUT_CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        _need_chromium()
    monkeypatch.setenv("BURNOUT_CI", "1")
    with pytest.raises(pytest.fail.Exception, match="BURNOUT_CI"):
        _need_chromium()


