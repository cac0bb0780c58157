"""The synthgen Python API, end to end, on the public AER/CPS1988 table (runs in well under a minute).

    .venv/bin/python examples/api_walkthrough.py [OUT_DIR]

1. load a real table and its DECLARED schema (bounds/categories from documentation, not from the data);
2. open a privacy ledger for the dataset; every fit is charged to it before any work is done;
3. fit the DP Gaussian copula (epsilon=1, delta=1e-6) and sample a synthetic table;
4. measure it against the training rows and a real holdout (fidelity, utility, privacy risk): the OWNER'S
   evaluation, statistics of the private rows without noise, written apart from the release and never published;
5. run the release gate (Great Expectations suite from the schema + thresholds) and export the suite.

Seeds (``random_state``) seed initialisation and sampling only; privacy noise always comes from OS entropy, so a
seed never lets anyone subtract the noise. ``synthgen.release.pipeline.run_release`` does all of this in one call
(what ``synthgen run`` uses).
"""
import sys
import tempfile
from pathlib import Path

import synthgen
from synthgen import datasets
from synthgen.release import Thresholds
from synthgen.release.gate import export_suite, run_gate

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="synthgen-walkthrough-"))
out.mkdir(parents=True, exist_ok=True)

# 1. A real public table and its declared schema; hold 20% out as the report's yardstick.
df, schema = datasets.load("cps1988")
train, holdout = datasets.train_holdout(df, seed=0)
print(f"columns {list(schema.names)}")
print("wage bounds come from:", schema["wage"].bounds_source)

# 2. One ledger per dataset: a total budget that fits are charged against (append-only, hash-chained JSON).
ledger_path = out / "cps1988.ledger.json"
ledger_path.unlink(missing_ok=True)  # a fresh walk-through each run; never do this to a real ledger
ledger = synthgen.PrivacyLedger.create(ledger_path, epsilon=3.0, delta=1e-5, dataset="cps1988")

# 3. Fit a DP generator and sample. random_state seeds initialisation and sampling only, never the DP noise.
model = synthgen.get_generator("dp-copula", epsilon=1.0, delta=1e-6)
model.fit(train, schema, ledger=ledger, random_state=0)
print("privacy:", model.privacy_summary())
print("ledger remaining (epsilon, delta):", ledger.remaining())
# Release as many rows as the DP estimate of the training count (len(train) itself is private).
synthetic = model.sample(round(model.rows_estimate_), random_state=1)
(out / "release").mkdir(exist_ok=True)
synthetic.to_csv(out / "release" / "synthetic.csv", index=False)
model.save(out / "model")                       # manifest.json + safetensors; no pickle, no training rows
reloaded = synthgen.load(out / "model")         # verifies every file's sha256 before use
assert reloaded.sample(5, random_state=1).equals(model.sample(5, random_state=1))

# 4. Evaluate: each number sits beside what a real holdout reaches. The report holds statistics of the private
#    rows computed without noise: it goes to owner-evaluation/, never into the release.
try:
    import evaluators

    report = evaluators.evaluate(train, synthetic, holdout=holdout, schema=schema, target="parttime",
                                 privacy=model.privacy_spent_, metrics=["fidelity", "utility", "privacy"])
    (out / "owner-evaluation").mkdir(exist_ok=True)
    report.save_json(out / "owner-evaluation" / "report.json")
    report.save_html(out / "owner-evaluation" / "report.html")
    summary = dict(report.summary)
    print({k: v for k, v in summary.items() if k in ("fidelity_score", "tstr_ratio", "mia_auc", "dcr_share")})
except ImportError:
    summary = None
    print("evaluators not installed: skipping the report")

# 5. The release gate: schema expectations + report thresholds + synthgen's privacy checks, one JSON document.
#    With a report its pass/fail is itself a function of the private data: owner's evaluation too.
thresholds = Thresholds(min_fidelity=0.85, max_mia_auc=0.6, require_dp=True, max_epsilon=1.0)
gate = run_gate(synthetic, schema, report_summary=summary, thresholds=thresholds,
                privacy=model.privacy_spent_.to_dict())
print("gate:", "PASSED" if gate["success"] else f"FAILED {gate['failed_checks']}",
      f"({gate['statistics']['successful_expectations']}/{gate['statistics']['evaluated_expectations']} checks, "
      f"{gate['meta']['engine']})")
for path in export_suite(schema, out / "release" / "suite.json", thresholds):  # public: schema + thresholds
    print("exported GX suite:", path)
print("outputs in", out)
