"""The report's optional "audit" section (issue 11, item 7): JSON (schema-validated), HTML, verdict.

The audits here are hand-made dictionaries in the ``synthgen-audit/1`` shape (the audit itself is tested apart).
"""
import copy
import json

import jsonschema
import numpy as np
import pandas as pd
import pytest

from evaluators import EvaluationError, Report
from evaluators.report_audit import audit_dict, verdict_problems
from evaluators.suite import verdict
from synthgen.resources import load_json_schema


def make_audit(**over) -> dict:
    d = {"format": "synthgen-audit/1", "synthgen_version": "0.0.test", "created": "2026-11-30T10:00:00+00:00",
         "generator": "dp-copula", "params": {"epsilon": 1.0},
         "claimed": {"epsilon": 1.0, "delta": 1e-9},
         "game": {"kind": "distinguishing", "canary": "outlier", "score": "white-box", "trials": 400,
                  "split": {"threshold": 200, "bound": 200}},
         "empirical": {"epsilon_lb": 0.41, "tpr": 0.62, "fpr": 0.2, "mu_hat": 0.37, "mu_ci": [0.21, 0.52],
                       "epsilon_from_mu": 0.88},
         "certifiable_epsilon": 2.3, "tightness": 0.41, "verdict": "consistent", "accounting": None}
    for key, value in over.items():
        if "." in key:
            outer, inner = key.split(".")
            d[outer] = dict(d[outer], **{inner: value})
        else:
            d[key] = value
    return d


def violation() -> dict:
    return make_audit(**{"empirical.epsilon_lb": 3.7, "tightness": 3.7, "verdict": "violation"})


SUMMARY = {"verdict": {"status": "pass", "reasons": ["ok"]}, "fidelity_score": 0.9, "detection_auc": 0.6,
           "tstr_ratio": None, "mia_auc": 0.5, "dcr_share": 0.5, "exact_match_rate": 0.0,
           "privacy": {"guarantee": "dp", "epsilon": 1.0, "delta": 1e-9, "accountant": "zcdp",
                       "neighbouring": "add/remove"},
           "synthetic_table": {"sha256": "0" * 64, "basis": "schema"}}
META = {"synthgen_version": "0.0.test", "created": "2026-12-01T00:00:00+00:00",
        "rows": {"real": 10, "synthetic": 10, "holdout": None}, "columns": ["x"]}


def report(audit=None) -> Report:
    return Report((), SUMMARY, META, {}, (), audit)


class FakeResult:
    """An object with to_dict(), as evaluators.audit.AuditResult."""

    def __init__(self, d):
        self._d = d

    def to_dict(self):
        return copy.deepcopy(self._d)


def test_report_without_audit_is_unchanged():
    d = report().to_dict()
    assert "audit" not in d
    jsonschema.validate(d, load_json_schema("report"))
    assert "Privacy audit" not in report().to_html()


def test_audit_section_in_json_validates_and_round_trips(tmp_path):
    rep = report(make_audit())
    d = rep.to_dict()
    jsonschema.validate(d, load_json_schema("report"))
    assert d["audit"]["verdict"] == "consistent" and d["audit"]["empirical"]["mu_ci"] == [0.21, 0.52]
    rep.save_json(tmp_path / "r.json")
    back = Report.load_json(tmp_path / "r.json")
    assert back.audit == rep.audit and back.to_dict() == d
    assert back.to_html() == rep.to_html()


def test_audit_object_with_to_dict_is_accepted():
    assert report(FakeResult(make_audit())).audit == make_audit()


def test_html_shows_every_audit_number():
    page = report(make_audit()).to_html()
    assert 'id=audit>Privacy audit' in page and 'id="audit-verdict">CONSISTENT' in page
    for text in ("dp-copula", "0.410", "0.370 [0.210, 0.520]", "2.300", "white-box", "400", "outlier",
                 "threshold 200", "0.880"):
        assert text in page, text
    assert 'id="audit-violation"' not in page
    assert "src=\"http" not in page and "default-src 'none'" in page  # still self-contained


def test_violation_shows_a_red_banner_at_the_top_and_in_the_section():
    page = report(violation()).to_html()
    assert page.count('id="audit-violation"') == 2
    assert 'class="banner nodp" id="audit-violation">DP VIOLATION' in page
    top = page.index('id="audit-violation"')
    assert top < page.index("At a glance")  # next to the privacy banner, before the results
    assert 'id="audit-verdict">VIOLATION' in page


def test_inconclusive_says_to_run_more_trials():
    page = report(make_audit(verdict="inconclusive", certifiable_epsilon=0.8)).to_html()
    assert 'class="verdict warn" id="audit-verdict">INCONCLUSIVE' in page and "run more trials" in page
    assert 'id="audit-violation"' not in page


def test_accounting_check_is_shown_when_present():
    acc = {"accountant": "rdp (second accountant)", "epsilon": 1.0004, "agrees": True, "shares": {"count": 0.1}}
    page = report(make_audit(accounting=acc)).to_html()
    assert "Independent accounting check" in page and "rdp (second accountant)" in page and "1.000" in page
    assert "Independent accounting check" not in report(make_audit()).to_html()


@pytest.mark.parametrize("bad, where", [
    (dict(verdict="fine"), "verdict"),
    (dict(format="synthgen-audit/0"), "format"),
    (dict(claimed={"epsilon": 0, "delta": 1e-9}), "claimed"),
    (dict(game={"kind": "distinguishing", "score": "grey-box", "trials": 10}), "game"),
    (dict(empirical={"tpr": 0.5}), "empirical"),
])
def test_malformed_audit_is_refused(bad, where):
    with pytest.raises(EvaluationError, match=where):
        report(make_audit(**bad))
    with pytest.raises(EvaluationError, match="audit"):
        report("not an audit")


def test_a_stored_report_with_a_tampered_audit_is_refused():
    d = report(make_audit()).to_dict()
    d["audit"]["verdict"] = "trust me"
    with pytest.raises(EvaluationError, match="verdict"):
        Report.from_dict(d)


def test_verdict_that_does_not_follow_from_the_numbers_is_flagged():
    assert verdict_problems(make_audit()) == []
    lying = make_audit(**{"empirical.epsilon_lb": 2.0})  # bound above the claim, still "consistent"
    assert "must be 'violation'" in verdict_problems(lying)[0]
    short = make_audit(certifiable_epsilon=0.5)  # could not reach the claim, still "consistent"
    assert "must be 'inconclusive'" in verdict_problems(short)[0]
    assert "does not follow from its numbers" in report(lying).to_html()


def test_report_verdict_fails_on_a_violation_and_warns_when_inconclusive():
    assert verdict(SUMMARY, (), audit_dict(make_audit()))["status"] == "pass"
    v = verdict(SUMMARY, (), audit_dict(violation()))
    assert v["status"] == "fail" and "VIOLATION" in v["reasons"][0]
    v = verdict(SUMMARY, (), audit_dict(make_audit(verdict="inconclusive", certifiable_epsilon=0.8)))
    assert v["status"] == "warn" and "inconclusive" in v["reasons"][0]
    v = verdict(SUMMARY, (), audit_dict(make_audit(**{"claimed.epsilon": 4.0, "certifiable_epsilon": 5.0})))
    assert v["status"] == "warn" and "does not describe this release" in " ".join(v["reasons"])


def test_evaluate_takes_an_audit():
    import evaluators
    from synthgen import NumericField, Schema

    schema = Schema((NumericField("x", 0, 1, bounds_source="public:unit"),
                     NumericField("y", 0, 1, bounds_source="public:unit")), name="t")
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"x": rng.random(60), "y": rng.random(60)})
    syn = pd.DataFrame({"x": rng.random(60), "y": rng.random(60)})
    with pytest.raises(EvaluationError, match="verdict"):  # refused before any work
        evaluators.evaluate(real, syn, schema=schema, metrics=["fidelity"], audit=make_audit(verdict="?"))
    rep = evaluators.evaluate(real, syn, schema=schema, metrics=["fidelity"], audit=FakeResult(violation()))
    assert rep.audit["verdict"] == "violation" and rep.summary["verdict"]["status"] == "fail"
    assert json.loads(rep.to_json())["audit"]["empirical"]["epsilon_lb"] == 3.7
    assert 'id="audit-violation"' in rep.to_html()


def test_an_infinite_lower_bound_written_as_null_counts_as_above_any_claim():
    inf = make_audit(**{"empirical.epsilon_lb": None, "tightness": None, "verdict": "violation"})
    assert verdict_problems(inf) == [] and "DP VIOLATION" in report(inf).to_html()
    assert "must be 'violation'" in verdict_problems(make_audit(**{"empirical.epsilon_lb": None}))[0]


def test_the_audit_result_object_itself_is_accepted():
    result = pytest.importorskip("evaluators.audit.result")
    d = make_audit()
    obj = result.AuditResult(generator=d["generator"], params=d["params"], claimed=d["claimed"], game=d["game"],
                             empirical=d["empirical"], certifiable_epsilon=d["certifiable_epsilon"])
    rep = report(obj)
    assert rep.audit["verdict"] == "consistent" and rep.audit["generator"] == "dp-copula"
    assert Report.from_dict(rep.to_dict()).audit == rep.audit
