"""A realistic owner's report for the report tests: a DP fit paid from a ledger, a gate that fails, a wide categorical.

The table is diamonds (shipped with synthgen) plus a nullable ``region`` column with 24 declared categories that
the test makes itself (a skewed draw, so 12 are shown and the rest summed as "other"). The gate's thresholds are
set so that the release fails ``min_fidelity``: the report header must say FAILED, whatever the evaluator's own
risk screen says.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

REGIONS = [f"Region {name} {i:02d}" for i, name in enumerate(
    ["North", "North-East", "East", "South-East", "South", "South-West", "West", "North-West"] * 3)]
THRESHOLDS = {"min_fidelity": 0.99, "max_mia_auc": 0.6, "max_exact_match_rate": 0.0}
EPSILON = 1.0
#: An audit of the same configuration, as `synthgen audit` writes it (numbers made up for the page's layout).
AUDIT = {"format": "synthgen-audit/1", "synthgen_version": "0.0.test", "created": "2026-11-30T10:00:00+00:00",
         "generator": "dp-copula", "params": {"epsilon": EPSILON}, "claimed": {"epsilon": EPSILON, "delta": 1e-6},
         "game": {"kind": "distinguishing", "canary": "outlier", "score": "white-box", "trials": 400,
                  "split": {"threshold": 200, "bound": 200}},
         "empirical": {"epsilon_lb": 0.41, "tpr": 0.62, "fpr": 0.2, "mu_hat": 0.37, "mu_ci": [0.21, 0.52],
                       "epsilon_from_mu": 0.88},
         "certifiable_epsilon": 2.3, "tightness": 0.41, "verdict": "consistent", "accounting": None}


def tables(n_train: int = 800, n_holdout: int = 800, seed: int = 0):
    """(train, holdout, schema): diamonds rows plus a 24-category nullable ``region``."""
    from synthgen import datasets
    from synthgen.schema import Schema

    df, schema = datasets.load("diamonds")
    df = df.sample(n_train + n_holdout, random_state=seed).reset_index(drop=True)
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, len(REGIONS) + 1) ** 1.1
    region = rng.choice(REGIONS, size=len(df), p=p / p.sum()).astype(object)
    region[rng.random(len(df)) < 0.05] = None
    df["region"] = region
    doc = schema.to_dict()
    doc["fields"].append({"name": "region", "type": "string", "constraints": {"required": False, "enum": REGIONS},
                          "x-synthgen": {"kind": "categorical", "nullable": True,
                                         "categories_source": "public: made by the test"}})
    return df.iloc[:n_train].reset_index(drop=True), df.iloc[n_train:].reset_index(drop=True), \
        Schema.from_dict(doc)


def owner_report(folder: Path):
    """(report with its release context, gate document, ledger path) for a dp-copula fit at epsilon 1."""
    import evaluators
    from synthgen.generators import registry
    from synthgen.privacy.ledger import PrivacyLedger
    from synthgen.release.config import Thresholds
    from synthgen.release.gate import run_gate

    train, holdout, schema = tables()
    ledger = Path(folder) / "ledger.json"
    PrivacyLedger.create(ledger, 3.0, 1e-5, dataset="diamonds+region")
    model = registry.get("dp-copula")(epsilon=EPSILON).fit(train, schema, ledger=PrivacyLedger(ledger),
                                                           random_state=0)
    syn = model.sample(len(train), random_state=1)
    privacy = model.privacy_spent_.to_dict()
    report = evaluators.evaluate(train, syn, holdout, schema, target="cut", privacy=privacy,
                                 quasi_identifiers=["color", "clarity"], sensitive="cut", random_state=0,
                                 audit=AUDIT)
    gate = run_gate(syn, schema, report_summary=report.summary, thresholds=Thresholds.from_dict(THRESHOLDS),
                    privacy=privacy, ledger=ledger, engine="native")
    full = report.with_release(dataset="diamonds + region (test table)", generator="dp-copula",
                               params=model.get_params(), ledger=ledger, gate=gate)
    return full, gate, ledger


_CACHE: dict = {}


def shared_owner_report(tmp_path_factory):
    """:func:`owner_report`, built once per test session (both report test files use it)."""
    if "case" not in _CACHE:
        _CACHE["case"] = owner_report(tmp_path_factory.mktemp("owner-report"))
    return _CACHE["case"]
