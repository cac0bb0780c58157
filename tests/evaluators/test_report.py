"""Report: JSON schema, round trip, HTML from the JSON alone, no raw values anywhere, loud privacy status."""

import jsonschema
import numpy as np
import pandas as pd
import pytest

import evaluators
from evaluators import EvaluationError, Report
from synthgen import DPSpend, NoGuarantee
from synthgen.resources import load_json_schema

SUMMARY_KEYS = {"verdict", "fidelity_score", "detection_auc", "tstr_ratio", "mia_auc", "dcr_share",
                "exact_match_rate", "privacy", "synthetic_table"}


@pytest.fixture(scope="module")
def small_html(small_report):
    """The small report's page, rendered once for the tests that read it (rendering takes seconds)."""
    return small_report.to_html()


def test_json_validates_and_round_trips(small_report, small_html, tmp_path):
    d = small_report.to_dict()
    jsonschema.validate(d, load_json_schema("report"))
    assert SUMMARY_KEYS <= set(small_report.summary)
    assert small_report.summary["verdict"]["status"] in ("pass", "warn", "fail")
    assert small_report.summary["verdict"]["reasons"]
    path = tmp_path / "r.json"
    small_report.save_json(path)
    back = Report.load_json(path)
    assert back.to_dict() == d
    assert back.results == small_report.results  # frozen dataclasses compare by value
    assert back.to_html() == small_html


def test_results_are_frozen_and_grouped(small_report):
    r = small_report["fidelity.score"]
    with pytest.raises(Exception):
        r.value = 0.0  # type: ignore[misc]
    groups = {x.group for x in small_report.results}
    assert groups == {"fidelity", "utility", "privacy"}
    for x in small_report.results:
        if x.group == "privacy":
            assert x.details.get("attacker"), x.name  # every risk names its attacker
    util = small_report["utility.gbm.macro_f1"]
    assert util.ci is not None and util.ci[0] <= util.value <= util.ci[1]
    assert util.details["floor"] is not None and util.reference is not None
    ka = small_report["privacy.k_anonymity"]
    assert ka.value >= 1 and ka.reference is not None
    assert small_report["privacy.l_diversity"].value >= 1


def test_missing_optional_risks_are_reported_plainly(small_report, small_html):
    names = {x["name"]: x["reason"] for x in small_report.not_computed}
    assert "privacy.anonymeter_singling_out" in names
    assert "NOT COMPUTED" in names["privacy.anonymeter_singling_out"]
    html = small_html
    assert "anonymeter" in html and "NOT COMPUTED" in html


def test_invalid_report_json_is_refused(small_report, tmp_path):
    d = small_report.to_dict()
    del d["summary"]["mia_auc"]
    with pytest.raises(EvaluationError, match="summary"):
        Report.from_dict(d)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(EvaluationError, match="not valid JSON"):
        Report.load_json(bad)


def test_no_dp_banner_and_dp_spend(diamonds_parts):
    train, holdout, fresh, schema = diamonds_parts
    kw = dict(metrics=["privacy"], random_state=1)  # no holdout: only exact matches, so the page has no plots
    none = evaluators.evaluate(train.iloc[:300], fresh.iloc[:300], None, schema, **kw)
    assert none.summary["privacy"]["guarantee"] == "none"
    assert "NO DP GUARANTEE" in none.to_html()
    ng = evaluators.evaluate(train.iloc[:300], fresh.iloc[:300], None, schema,
                             privacy=NoGuarantee("plain copula"), **kw)
    assert "plain copula" in ng.to_html() and "NO DP GUARANTEE" in ng.to_html()
    dp = evaluators.evaluate(train.iloc[:300], fresh.iloc[:300], None, schema,
                             privacy=DPSpend(1.0, 1e-6), **kw)
    html = dp.to_html()
    assert "NO DP GUARANTEE" not in html and "&epsilon; = 1" in html
    assert dp.summary["privacy"]["epsilon"] == 1.0
    # holdout-free runs say which risks were skipped, and why
    assert dp.summary["mia_auc"] is None and dp.summary["tstr_ratio"] is None
    skipped = {x["name"]: x["reason"] for x in dp.not_computed}
    assert "holdout" in skipped["privacy.mia"] and "privacy.dcr_share" in skipped


def test_planted_unique_values_never_reach_json_or_html(tmp_path):
    """A unique number and a unique category planted in the real data must not appear in either file."""
    rng = np.random.default_rng(0)
    n = 400

    def table(seed):
        r = np.random.default_rng(seed)
        return pd.DataFrame({"income": r.lognormal(10, 0.5, n).round(2), "age": r.integers(18, 90, n),
                             "city": r.choice(["north", "south", "east", "west"], n),
                             "flag": r.choice(["y", "n"], n)})

    real, syn, holdout = table(1), table(2), table(3)
    real.loc[7, "income"] = 98765432.1
    real.loc[11, "city"] = "Zyxwvutsrq"
    real.loc[12, "age"] = 1234567
    rep = evaluators.evaluate(real, syn, holdout, target="flag", quasi_identifiers=["age", "city"],
                              sensitive="flag", random_state=int(rng.integers(100)))
    rep.save_json(tmp_path / "r.json")
    rep.save_html(tmp_path / "r.html")
    for path in (tmp_path / "r.json", tmp_path / "r.html"):
        text = path.read_text()
        for needle in ("98765432", "9876543", "Zyxwvutsrq", "1234567"):
            assert needle not in text, (path.name, needle)
    # the unique category is counted as "other", not named
    city = next(m for m in rep.plots["marginals"] if m["column"] == "city")
    assert "Zyxwvutsrq" not in city["labels"] and city["counts"]["real"]["other"] == 1


def test_html_is_self_contained(small_report, small_html, tmp_path):
    html = small_html
    assert "http://" not in html and "https://" not in html
    assert "default-src 'none'" in html
    for section in ('id="verdict"', 'id=utility', 'id="privacy-spend"', "Correlation-difference",
                    "Distance to closest record", "Membership inference ROC", "Marginal distribution of"):
        assert section in html, section
    assert html.count("data:image/png;base64,") >= 4


def test_report_is_labelled_not_for_release(small_report, small_html):
    """old main: neither the JSON nor the HTML said that a report holds statistics of the private data."""
    d = small_report.to_dict()
    assert d["contains_private_statistics"] is True and "NOT FOR RELEASE" in d["notice"]
    html = small_html
    title = html[html.index("<title>"): html.index("</title>")]
    assert "NOT FOR RELEASE" in title
    top = html[: html.index("<h1>")]
    assert 'id="not-for-release"' in top and "NOT FOR RELEASE" in top  # before anything else on the page
    assert html.count("NOT FOR RELEASE") >= 3  # title, top and bottom of the page
    unlabelled = {k: v for k, v in d.items() if k not in ("contains_private_statistics", "notice")}
    with pytest.raises(EvaluationError, match="top level"):
        Report.from_dict(unlabelled)


def test_no_training_row_positions_anywhere(small_report, small_html):
    """old main: privacy.vulnerable_records_exposed listed the positions of the most isolated training rows."""
    vul = small_report["privacy.vulnerable_records_exposed"]
    assert "records" not in vul.details and vul.details["n_targets"] >= 1
    assert 0.0 <= vul.details["share_copied"] <= 1.0 and vul.value is not None  # aggregates stay
    text = small_report.to_json() + small_html
    assert "row_position" not in text and "row position" not in text.lower()
    assert "Most isolated training records" not in text
    d = small_report.to_dict()
    d["results"][0]["details"]["records"] = [{"row_position": 3}]
    with pytest.raises(EvaluationError):
        Report.from_dict(d)  # the report schema refuses per-row records


def test_image_report_is_labelled_not_for_release():
    from evaluators.images import ImageReport

    rep = ImageReport((), {"synthetic": {"0": 3}}, None, {}, {"title": "t"})
    assert rep.to_dict()["contains_private_statistics"] is True
    html = rep.to_html()
    assert "NOT FOR RELEASE" in html[html.index("<title>"): html.index("</title>")]
    assert 'id="not-for-release"' in html[: html.index("<h1>")]
