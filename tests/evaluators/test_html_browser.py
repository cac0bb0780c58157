"""Open the owner's HTML report in headless Chromium (Debian's package, driven by playwright).

Checks, at two window widths: every image loads; every plot's smallest font renders at >= 10 CSS px; nothing
overflows horizontally; no console error; no network request; the header shows the gate's FAILED; the
private-statistics band stays visible at the top while scrolling. A full-page screenshot is saved into the
test's tmp folder (its path is printed: run with -s to see it).
"""
import shutil

import pytest
from owner_report_case import shared_owner_report

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
MIN_FONT_PX = 10.0

_IMAGES = """() => Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete, w: i.naturalWidth,
    h: i.naturalHeight, shown: i.getBoundingClientRect().width, dpi: +i.dataset.dpi, pt: +i.dataset.minFontPt}))"""
_OVERFLOW = """() => { const w = document.documentElement.clientWidth;
    const wide = Array.from(document.querySelectorAll('body *')).filter(e => {
        const r = e.getBoundingClientRect(); return r.width > 0 && (r.right > w + 1 || r.left < -1); });
    return {scroll: document.documentElement.scrollWidth, client: w,
            wide: wide.slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)}; }"""


def _chromium():
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does this)")
    return chromium, pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


def _open(path, width: int, shot=None) -> dict:
    chromium, sync_api = _chromium()
    errors, requests = [], []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(path.as_uri(), wait_until="load")
            out = {"images": page.evaluate(_IMAGES), "overflow": page.evaluate(_OVERFLOW),
                   "verdict": page.inner_text("#verdict"), "banner": page.inner_text("#privacy-spend"),
                   "gate": page.inner_text("#gate-verdict") if page.query_selector("#gate-verdict") else None,
                   "audit": page.inner_text("#audit-verdict") if page.query_selector("#audit-verdict") else None}
            page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
            out["band_top"] = page.evaluate("() => document.getElementById('not-for-release')"
                                            ".getBoundingClientRect().top")
            out["band"] = page.inner_text("#not-for-release")
            if shot is not None:
                page.evaluate("() => window.scrollTo(0, 0)")
                page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    out["errors"] = errors
    out["external"] = [u for u in requests if not u.startswith(("file:", "data:"))]
    return out


def _check_page(seen: dict, min_images: int) -> None:
    assert seen["errors"] == [] and seen["external"] == []
    assert len(seen["images"]) >= min_images
    for img in seen["images"]:
        assert img["complete"] and img["w"] > 100 and img["h"] > 100, img["alt"]
        rendered = img["pt"] * img["dpi"] / 72.0 * img["shown"] / img["w"]
        assert rendered >= MIN_FONT_PX, (img["alt"], rendered)
    ov = seen["overflow"]
    assert ov["scroll"] <= ov["client"] and ov["wide"] == [], ov
    assert seen["band_top"] == 0 and "NOT FOR RELEASE" in seen["band"]  # still in view at the bottom


@pytest.fixture(scope="module")
def owner_page(tmp_path_factory):
    _chromium()  # skip before building anything
    report, gate, _ = shared_owner_report(tmp_path_factory)
    path = tmp_path_factory.mktemp("owner-page") / "report.html"
    report.save_html(path)
    return report, gate, path


@pytest.mark.parametrize("width", [1280, 1000])
def test_owner_report_renders_in_headless_chromium(owner_page, tmp_path, width):
    report, gate, path = owner_page
    shot = tmp_path / f"report-{width}px.png"
    seen = _open(path, width, shot)
    print(f"\nscreenshot of the owner's report ({width} px wide): {shot}")
    _check_page(seen, min_images=len(report.plots["marginals"]) + 4)
    alts = " ".join(i["alt"] for i in seen["images"])
    for plot in ("Marginal distribution of region", "Association matrices", "Correlation-difference",
                 "Distance to closest record", "ROC"):
        assert plot in alts
    assert gate["success"] is False and seen["gate"].strip() == "FAILED"
    assert seen["audit"].strip() == "CONSISTENT"
    assert shot.stat().st_size > 50_000


def test_plain_report_renders_in_headless_chromium(small_report, tmp_path):
    path = tmp_path / "report.html"
    small_report.save_html(path)
    seen = _open(path, 1280)
    _check_page(seen, min_images=4)
    assert seen["verdict"].strip() in ("PASS", "WARN", "FAIL")
    assert "NO DP GUARANTEE" in seen["banner"]
    assert seen["gate"].strip() in ("PASSED", "FAILED")  # the gate's defaults, labelled so in the page


def test_long_column_names_and_labels_neither_overflow_nor_collide(tmp_path):
    """A 150-character column name and 90-character category labels that differ only after their 30th character
    (codebook-style names): the 'column pairs reproduced worst' table was 1,760 px wide in a 1,000 px window, and
    every bar of the category chart read 'Île-de-France distric…'."""
    import numpy as np
    import pandas as pd

    import evaluators
    from evaluators.report_plots import shorts
    from synthgen.schema import CategoricalField, NumericField, Schema

    _chromium()
    rng = np.random.default_rng(0)
    cats = [f"Île-de-France district nº{i:02d}, 北京 ünïcödé, a label that keeps going" for i in range(14)]
    long_name, region = "x" * 150, "Région administrative de résidence au moment de l'enquête (libellé long)"
    df = pd.DataFrame({long_name: rng.normal(50, 10, 1200).round(1), region: rng.choice(cats, 1200),
                       "y": rng.choice(["oui", "non"], 1200)})
    schema = Schema((NumericField(long_name, 0, 100, bounds_source="public:t"),
                     CategoricalField(region, tuple(cats), categories_source="public:t"),
                     CategoricalField("y", ("oui", "non"), categories_source="public:t")))
    syn = df.iloc[:400].sample(frac=1.0, random_state=1).reset_index(drop=True)
    syn[region] = syn[region].to_numpy()[::-1]  # break the links: pairs to list among the worst
    report = evaluators.evaluate(df.iloc[400:800], syn, df.iloc[800:], schema, target="y")
    path = tmp_path / "report.html"
    report.save_html(path)
    seen = _open(path, 1000)
    assert seen["overflow"]["scroll"] <= seen["overflow"]["client"] and seen["overflow"]["wide"] == []
    assert seen["errors"] == []
    labels = shorts(cats, 22)
    assert len(set(labels)) == len(cats) and all(len(s) <= 26 for s in labels)
