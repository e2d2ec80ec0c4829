"""Browser journey of the bureau's supervision view: the demo bureau account logs in, opens
/bureau/supervision, every chart is drawn (SVG elements present, visible, with marks inside),
the demo's filed product waits in the queue and the page logs no console error; then, when the reports are installed, it downloads the
quarterly report's PDF from the page, turns the first page into a PNG with pdftoppm and
checks the page is not blank (the variance of its grey levels)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

BUREAU, PASSWORD = "bureau", "Sanyi-bureau-2026"
CHARTS = ("calls", "entitlements", "alerts", "revenue", "overdue", "waiting")  # sections


def _login(page) -> None:
    from playwright.sync_api import expect
    page.goto("/user/login")
    page.locator("#field-login").fill(BUREAU)
    page.locator("#field-password").fill(PASSWORD)
    page.locator("#field-password").press("Enter")
    page.wait_for_load_state()
    expect(page.locator("#field-password")).to_have_count(0)


def _grey_variance(png: Path) -> float:
    from PIL import Image, ImageStat
    with Image.open(png) as img:
        return float(ImageStat.Stat(img.convert("L")).var[0])


def test_the_bureau_sees_the_charts_and_downloads_the_quarterly_pdf(page, tmp_path):
    from playwright.sync_api import expect
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    _login(page)
    page.goto("/bureau/supervision")
    expect(page.locator("h1")).to_have_text("监督管理")
    svgs = page.locator(".sanyi-bureau-supervision svg")
    assert svgs.count() >= len(CHARTS)
    for chart in CHARTS:
        svg = page.locator(f"section#{chart} svg")
        expect(svg).to_be_visible()
        box = svg.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 50, (chart, box)
        assert svg.locator("text").count() > 0  # labels drawn inside the chart
    days = page.locator("#calls svg g.sanyi-usage-day")
    assert days.count() == 30
    bars = page.locator("section#entitlements svg g.sanyi-chart-bar")
    assert bars.count() == 4 and bars.first.get_attribute("data-label") == "有效"
    marks = page.locator("section#revenue svg g.sanyi-bar-mark")  # the demo's cap: 80 %, 100 %
    assert [marks.nth(i).get_attribute("data-value") for i in range(marks.count())] == ["80", "100"]
    # the demo's filed product waits in the queue, with the bureau's two decisions
    queued = page.locator("tr.sanyi-queue-product[data-product='p-demo-drug-safety-alert']")
    expect(queued).to_be_visible()
    expect(queued.locator("button[value=approve]")).to_be_visible()
    assert not errors, f"console errors: {errors}"

    link = page.locator("a.sanyi-quarterly-pdf")
    if link.count() == 0:
        pytest.skip("the reports (supervision/reports) are not installed: no quarterly PDF")
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm missing (deploy/setup.sh test installs poppler-utils)")
    with page.expect_download(timeout=120_000) as info:
        link.click()
    pdf = tmp_path / "quarterly.pdf"
    info.value.save_as(pdf)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "page")], check=True, timeout=120)
    [png] = sorted(tmp_path.glob("page*.png"))
    assert _grey_variance(png) > 50, "the first page of the quarterly PDF is blank"
