"""The release gate's ``audit_consistent`` check and the ``thresholds.require_audit`` config key (issue 11, item 7).

Each failure reason has its own test (missing, unreadable, too old, another generator, other params, another
epsilon, an unaccepted verdict, a verdict its numbers contradict, a disagreeing accounting check, no model to
compare with), plus the pass cases. The audits are hand-made ``synthgen-audit/1`` dictionaries.
"""
import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from synthgen import NumericField, Schema
from synthgen.exceptions import ConfigError
from synthgen.release import Thresholds, release_config_from_dict
from synthgen.release.config import AuditRequirement
from synthgen.release.gate import run_gate
from synthgen.release.gate.checks import audit_check
from synthgen.release.validate import validate_files

from test_report_audit import make_audit  # tests/audit is on sys.path (no __init__.py)

DP_SPEND = {"guarantee": "dp", "epsilon": 1.0, "delta": 1e-9, "accountant": "zCDP", "neighbouring": "add/remove"}
EXPECTED = {"generator": "dp-copula", "params": {"epsilon": 1.0}, "source": "release config"}


def _ago(days: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=days)).isoformat(timespec="seconds")


@pytest.fixture
def write_audit(tmp_path):
    def write(name="audit.json", **over):
        path = tmp_path / name
        path.write_text(json.dumps(make_audit(**{"created": _ago(2), **over})), encoding="utf-8")
        return path
    return write


def check(path, *, req=None, model=None, privacy=DP_SPEND, **req_kw):
    req = req or AuditRequirement(file=path, expected=EXPECTED, **req_kw)
    return audit_check(req, model=model, privacy=privacy)


def failed_because(result, text):
    assert result["success"] is False, result
    assert result["expectation_config"]["meta"]["check"] == "audit_consistent"
    assert text in result["result"]["message"], result["result"]["message"]
    return True


# ------------------------------------------------------------------------------------------------ pass cases
def test_a_recent_consistent_audit_of_the_same_configuration_passes(write_audit):
    r = check(write_audit())
    assert r["success"] is True, r["result"]["message"]
    obs = r["result"]["observed_value"]
    assert obs["verdict"] == "consistent" and obs["generator"] == "dp-copula" and 1.9 < obs["age_days"] < 2.1


def test_defaults_seeds_and_verbosity_do_not_count_as_other_params(write_audit):
    from synthgen.generators import registry

    manifest = {"generator": "dp-copula", "params": {**registry.get("dp-copula")(epsilon=1.0).get_params()}}
    path = write_audit(params={"epsilon": 1.0, "n_bins": 128, "random_state": 7, "verbose": False})
    assert check(path, model=manifest)["success"] is True


def test_inconclusive_passes_only_when_accepted(write_audit):
    path = write_audit(verdict="inconclusive", certifiable_epsilon=0.7)
    assert failed_because(check(path), "its verdict is 'inconclusive'")
    assert check(path, accept=("consistent", "inconclusive"))["success"] is True


# ------------------------------------------------------------------------------------------------ failure reasons
def test_missing_audit_fails(tmp_path):
    assert failed_because(check(tmp_path / "nope.json"), "does not exist")
    assert failed_because(check(None), "no audit file was given")


def test_unreadable_or_invalid_audit_fails(tmp_path, write_audit):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert failed_because(check(bad), "not valid JSON")
    assert failed_because(check(write_audit(verdict="fine")), "not a valid synthgen audit")


def test_old_audit_fails(write_audit):
    path = write_audit(created=_ago(45))
    assert failed_because(check(path), "older than max_age_days 30")
    assert check(path, max_age_days=60)["success"] is True
    assert failed_because(check(write_audit(created=_ago(-3))), "dated in the future")


def test_audit_of_another_generator_fails(write_audit):
    assert failed_because(check(write_audit(generator="dp-ctgan")), "audits generator 'dp-ctgan', but release "
                                                                      "config is 'dp-copula'")


def test_audit_with_other_params_fails(write_audit):
    path = write_audit(params={"epsilon": 1.0, "n_bins": 16})
    assert failed_because(check(path), "parameters differ")
    r = check(path)
    assert "n_bins (audit 16, release 128)" in r["result"]["message"]


def test_audit_at_another_epsilon_fails(write_audit):
    # the audit claims epsilon 4 (its params say 4 too) while the release spent epsilon 1
    path = write_audit(params={"epsilon": 4.0}, **{"claimed.epsilon": 4.0, "certifiable_epsilon": 5.0})
    r = check(path)
    assert failed_because(r, "it audits a claim of epsilon 4, but the release claims epsilon 1")
    assert "epsilon (audit 4.0, release 1.0)" in r["result"]["message"]
    # same params, but the spend of the released model differs from the audited claim
    r = check(write_audit(), privacy=dict(DP_SPEND, epsilon=2.0))
    assert failed_because(r, "the release claims epsilon 2")


def test_violation_never_passes(write_audit):
    path = write_audit(verdict="violation", tightness=3.0, **{"empirical.epsilon_lb": 3.0})
    assert failed_because(check(path, accept=("consistent", "inconclusive")), "its verdict is 'violation'")
    with pytest.raises(ConfigError, match="violation"):
        AuditRequirement(accept=("violation",))


def test_a_verdict_its_numbers_contradict_fails(write_audit):
    assert failed_because(check(write_audit(**{"empirical.epsilon_lb": 1.5})), "must be 'violation'")
    assert failed_because(check(write_audit(certifiable_epsilon=0.5)), "must be 'inconclusive'")


def test_a_disagreeing_accounting_check_fails(write_audit):
    assert check(write_audit(accounting={"agrees": True, "epsilon": 1.0}))["success"] is True
    assert failed_because(check(write_audit(accounting={"agrees": False, "epsilon": 1.8})),
                          "accounting check disagrees")


def test_without_a_model_or_config_the_audit_cannot_be_matched(write_audit):
    r = audit_check(AuditRequirement(file=write_audit()), privacy=DP_SPEND)
    assert failed_because(r, "cannot be matched to the released model")


# ------------------------------------------------------------------------------------------------ config and gate
def _config(tmp_path, **require_audit):
    doc = {"data": {"train": "train.csv"}, "schema": "schema.json",
           "generator": {"name": "dp-copula"}, "privacy": {"epsilon": 1.0}, "outputs": {"dir": "out"},
           "thresholds": {"require_dp": True, "require_audit": require_audit}}
    return release_config_from_dict(doc, base_dir=tmp_path)


def test_config_key_resolves_the_file_and_records_the_configuration(tmp_path):
    cfg = _config(tmp_path, file="audits/a.json", accept=["consistent", "inconclusive"])
    req = cfg.thresholds.require_audit
    assert req.file == tmp_path / "audits" / "a.json" and req.max_age_days == 30
    assert req.expected == {"generator": "dp-copula", "params": {"epsilon": 1.0}, "source": "release config"}
    assert cfg.thresholds.to_dict()["require_audit"] == {"file": str(tmp_path / "audits" / "a.json"),
                                                         "max_age_days": 30.0,
                                                         "accept": ["consistent", "inconclusive"]}
    assert _config(tmp_path).thresholds.require_audit.file is None


@pytest.mark.parametrize("bad, match", [({"accept": ["violation"]}, "accept"), ({"max_age_days": 0}, "max_age_days"),
                                        ({"max_age": 3}, "unknown key 'max_age'")])
def test_bad_config_key_is_a_config_error(tmp_path, bad, match):
    with pytest.raises(ConfigError, match=match):
        _config(tmp_path, **bad)


@pytest.fixture(scope="module")
def release():
    schema = Schema((NumericField("x", 0, 1, bounds_source="public:unit"),), name="t")
    return pd.DataFrame({"x": np.linspace(0, 1, 20)}), schema


def _gate_checks(doc):
    return {r["expectation_config"]["meta"]["check"]: r for r in doc["results"]}


def test_run_gate_runs_the_check_from_the_config(tmp_path, write_audit, release):
    table, schema = release
    cfg = _config(tmp_path, file=str(write_audit()))
    doc = run_gate(table, schema, thresholds=cfg.thresholds, privacy=DP_SPEND, engine="native")
    assert doc["success"] is True and _gate_checks(doc)["audit_consistent"]["success"] is True
    json.dumps(doc["meta"]["thresholds"])  # the requirement is part of the JSON document
    cfg = _config(tmp_path, file=str(write_audit("old.json", created=_ago(90))))
    doc = run_gate(table, schema, thresholds=cfg.thresholds, privacy=DP_SPEND, engine="native")
    assert doc["success"] is False and doc["failed_checks"] == ["audit_consistent"]
    assert "audit_consistent" not in _gate_checks(run_gate(table, schema, engine="native"))


def test_validate_files_compares_the_audit_with_the_model_manifest(tmp_path, write_audit, release):
    table, schema = release
    table.to_csv(tmp_path / "s.csv", index=False)
    manifest = {"generator": "dp-copula", "params": {"epsilon": 1.0, "n_bins": 64}, "privacy": DP_SPEND}
    (doc,) = validate_files([tmp_path / "s.csv"], schema, manifest=manifest, audit=write_audit(),
                            engine="native")
    assert doc["failed_checks"] == ["audit_consistent"]
    assert "n_bins (audit 128, release 64)" in _gate_checks(doc)["audit_consistent"]["result"]["message"]
    (doc,) = validate_files([tmp_path / "s.csv"], schema, manifest=dict(manifest, params={"epsilon": 1.0}),
                            audit=write_audit(), engine="native", thresholds=Thresholds())
    assert doc["success"] is True, doc["failed_checks"]


def test_cli_validate_takes_audit(tmp_path, write_audit, release):
    from synthgen.cli import main

    table, schema = release
    table.to_csv(tmp_path / "s.csv", index=False)
    (tmp_path / "schema.json").write_text(json.dumps(schema.to_dict()), encoding="utf-8")
    cfg = tmp_path / "release.yaml"
    cfg.write_text("data: {train: train.csv}\nschema: schema.json\ngenerator: {name: dp-copula}\n"
                   "privacy: {epsilon: 1.0}\noutputs: {dir: out}\nthresholds: {require_audit: {}}\n",
                   encoding="utf-8")
    base = ["validate", "--synthetic", str(tmp_path / "s.csv"), "--schema", str(tmp_path / "schema.json"),
            "--engine", "native", "--config", str(cfg)]
    r = CliRunner().invoke(main, base, catch_exceptions=False)
    assert r.exit_code != 0 and "audit_consistent" in r.stdout  # required, no file given
    r = CliRunner().invoke(main, base + ["--audit", str(write_audit())], catch_exceptions=False)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["success"] is True


def test_a_repeated_canary_audits_the_group_claim(write_audit):
    game = {"kind": "distinguishing", "canary": "repeated", "score": "white-box", "trials": 400, "repeats": 2}
    path = write_audit(game=game, **{"claimed.epsilon": 2.0, "certifiable_epsilon": 3.0})
    assert check(path)["success"] is True  # release epsilon 1, a group of 2 rows: claim 2
    assert failed_because(check(path, privacy=dict(DP_SPEND, epsilon=2.0)), "(a group of 2 rows)")


def test_a_real_audit_of_the_configured_generator_is_matched(tmp_path):
    game = pytest.importorskip("evaluators.audit.game")
    d = game.audit("dp-copula", epsilon=1.0, trials=8, random_state=0, progress=False).to_dict()
    (tmp_path / "a.json").write_text(json.dumps(d), encoding="utf-8")
    req = AuditRequirement(file=tmp_path / "a.json", expected=EXPECTED, accept=("consistent", "inconclusive"))
    r = audit_check(req, privacy=DP_SPEND)
    assert r["success"] is True, r["result"]["message"]  # full params (defaults filled in) match the config's
    other = dict(EXPECTED, params={"epsilon": 1.0, "marginal_share": 0.25})
    assert failed_because(audit_check(AuditRequirement(file=tmp_path / "a.json", expected=other,
                                                       accept=("consistent", "inconclusive")), privacy=DP_SPEND),
                          "marginal_share (audit 0.5, release 0.25)")


@pytest.fixture
def fake_dp():
    from synthgen.testing import fakes

    fakes.register(("cli-test-dp",))
    yield "cli-test-dp"
    fakes.unregister(("cli-test-dp",))


def test_synthgen_run_enforces_the_requirement(tmp_path, write_audit, write_cps_split, fake_dp):
    """`synthgen run`: a matching audit passes the gate; a mismatched one is refused BEFORE the fit (no data read,
    no budget charged, nothing written)."""
    import yaml

    from synthgen.cli import main

    d = write_cps_split(200, 0, "cps-audit")
    good = write_audit("good.json", generator=fake_dp, params={"epsilon": 1.0, "delta": 1e-6, "sleep": 0.0})
    for audit_file, ok in ((good, True), (write_audit("other.json"), False)):
        out_dir = tmp_path / f"out-{ok}"
        cfg = {"data": {"train": str(d / "train.csv")}, "schema": str(d / "schema.json"),
               "generator": {"name": fake_dp}, "privacy": {"epsilon": 1.0, "delta": 1e-6}, "seed": 1,
               "evaluation": {"enabled": False}, "thresholds": {"require_audit": {"file": str(audit_file)}},
               "outputs": {"dir": str(out_dir), "export_suite": False}}
        (tmp_path / "release.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
        r = CliRunner().invoke(main, ["run", str(tmp_path / "release.yaml"), "--engine", "native"],
                               catch_exceptions=False)
        assert (r.exit_code == 0) is ok
        if ok:
            doc = json.loads((out_dir / "owner-evaluation" / "gate.json").read_text())
            checks = _gate_checks(doc)
            assert checks["audit_consistent"]["success"], checks["audit_consistent"]["result"]["message"]
        else:
            doc = json.loads(r.stdout)
            assert doc["refused_before_fit"] is True and doc["gate"]["failed_checks"] == ["audit_consistent"]
            assert "audits generator 'dp-copula', but release config is 'cli-test-dp'" in \
                doc["gate"]["results"][0]["result"]["message"]
            assert not (out_dir / "release").exists() and not (out_dir / "model").exists()


def test_the_json_of_synthgen_audit_is_what_validate_takes(tmp_path, release):
    from synthgen.cli import main

    table, schema = release
    table.to_csv(tmp_path / "s.csv", index=False)
    (tmp_path / "schema.json").write_text(json.dumps(schema.to_dict()), encoding="utf-8")
    r = CliRunner().invoke(main, ["audit", "--generator", "dp-copula", "--epsilon", "1", "--trials", "8",
                                  "--out", str(tmp_path / "a.json"), "--quiet"], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    cfg = tmp_path / "release.yaml"
    cfg.write_text("data: {train: train.csv}\nschema: schema.json\ngenerator: {name: dp-copula}\n"
                   "privacy: {epsilon: 1.0}\noutputs: {dir: out}\n"
                   "thresholds: {require_audit: {file: a.json, accept: [consistent, inconclusive]}}\n",
                   encoding="utf-8")
    r = CliRunner().invoke(main, ["validate", "--synthetic", str(tmp_path / "s.csv"), "--schema",
                                  str(tmp_path / "schema.json"), "--engine", "native", "--config", str(cfg)],
                           catch_exceptions=False)
    doc = json.loads(r.stdout)
    assert _gate_checks(doc)["audit_consistent"]["success"] is True, doc["failed_checks"]


def test_the_required_audit_reaches_the_owners_report(tmp_path, write_audit, write_cps_split, fake_dp):
    """`synthgen run` with require_audit shows the audit in the owner's report (JSON and HTML)."""
    import yaml

    from synthgen.cli import main

    d = write_cps_split(600, 0, "cps-audit-report")
    good = write_audit("good.json", generator=fake_dp, params={"epsilon": 1.0, "delta": 1e-6, "sleep": 0.0})
    cfg = {"data": {"train": str(d / "train.csv"), "holdout": str(d / "holdout.csv")},
           "schema": str(d / "schema.json"), "generator": {"name": fake_dp},
           "privacy": {"epsilon": 1.0, "delta": 1e-6}, "seed": 1, "evaluation": {"target": "parttime"},
           "thresholds": {"require_audit": {"file": str(good)}},
           "outputs": {"dir": str(tmp_path / "out"), "export_suite": False}}
    (tmp_path / "release.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    r = CliRunner().invoke(main, ["run", str(tmp_path / "release.yaml"), "--engine", "native"],
                           catch_exceptions=False)
    assert (tmp_path / "out" / "owner-evaluation" / "report.json").exists(), r.output[-3000:]
    report = json.loads((tmp_path / "out" / "owner-evaluation" / "report.json").read_text())
    assert report["audit"]["verdict"] == json.loads(good.read_text())["verdict"], r.stdout[-2000:]
    assert "Privacy audit" in (tmp_path / "out" / "owner-evaluation" / "report.html").read_text()
