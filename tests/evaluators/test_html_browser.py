"""Open the HTML report in headless Chromium (Debian's package, driven by playwright): plots render, the console
stays clean and the page makes no network request."""
import shutil

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def test_report_renders_in_headless_chromium(small_report, tmp_path):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does this)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    path = tmp_path / "report.html"
    small_report.save_html(path)
    errors, requests = [], []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(path.as_uri(), wait_until="load")
            images = page.evaluate("""() => Array.from(document.images).map(
                i => ({alt: i.alt, complete: i.complete, w: i.naturalWidth, h: i.naturalHeight}))""")
            verdict = page.inner_text("#verdict")
            banner = page.inner_text("#privacy-spend")
        finally:
            browser.close()
    assert errors == []
    external = [u for u in requests if not u.startswith(("file:", "data:"))]
    assert external == []
    assert len(images) >= 4
    for img in images:
        assert img["complete"] and img["w"] > 100 and img["h"] > 100, img["alt"]
    alts = " ".join(i["alt"] for i in images)
    for plot in ("Marginal", "Correlation-difference", "Distance to closest record", "ROC"):
        assert plot in alts
    assert verdict.strip() in ("PASS", "WARN", "FAIL")
    assert "NO DP GUARANTEE" in banner
