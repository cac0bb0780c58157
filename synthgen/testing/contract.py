"""The contract every registered generator must pass (like scikit-learn's ``parametrize_with_checks``).

``tests/contract/test_contract.py`` runs :data:`CHECKS` over every name in the registry whose dependencies are
installed. Each check takes a registry name and raises ``AssertionError`` on failure. Generators declare small
``contract_params`` so the whole suite runs in seconds.

Image generators (``data_kind == "image"``) get the image fixture from :func:`contract_images`; table generators
get :func:`contract_table`, which plants a canary row (a unique category and an extreme value).
"""
from __future__ import annotations

import struct
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..generators import registry
from ..exceptions import NotFittedError, PrivacyError
from ..privacy.ledger import PrivacyLedger
from ..privacy.spend import DPSpend, NoGuarantee
from ..schema import (BooleanField, CategoricalField, DatetimeField, IdentifierField, NumericField, RowBounds,
                      Schema)

CANARY_VALUE = 987.654321  # the extreme value of the canary row (others live in roughly [0, 120])
CANARY_CATEGORY = "zz-canary-7f3a"  # declared in the schema, held by the canary row only
CONTRACT_EPSILON = 3.0
N_ROWS = 400


def contract_table(n: int = N_ROWS, seed: int = 0, canary: bool = True) -> tuple[pd.DataFrame, Schema]:
    """A small mixed-type table with nulls, integers, booleans, datetimes and an identifier, plus its schema."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    base = np.where(group == "a", 30.0, np.where(group == "b", 60.0, 90.0))
    x = np.clip(base + rng.normal(0, 8, n), 0, 1000)
    count = np.clip(np.round(x / 10 + rng.normal(0, 1, n)), 0, 100).astype(float)
    count[rng.random(n) < 0.1] = np.nan
    flag = rng.random(n) < (x / 120)
    day = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    df = pd.DataFrame({
        "id": [f"user-{i:05d}" for i in range(n)],
        "x": x,
        "count": pd.array(count, dtype="Float64").astype("Int64"),
        "group": group,
        "flag": flag,
        "day": day,
    })
    if canary:
        df.loc[n - 1, ["x", "group"]] = [CANARY_VALUE, CANARY_CATEGORY]
    schema = Schema((
        IdentifierField("id", synthesize="regenerate"),
        NumericField("x", 0, 1000, bounds_source="public:contract fixture"),
        NumericField("count", 0, 100, integer=True, nullable=True, bounds_source="public:contract fixture"),
        CategoricalField("group", ("a", "b", "c", CANARY_CATEGORY), categories_source="public:contract fixture"),
        BooleanField("flag"),
        DatetimeField("day", "2020-01-01", "2020-12-31", bounds_source="public:contract fixture", date_only=True),
    ), name="contract", rows=RowBounds(max=10_000))
    return df, schema


def contract_images(n_per_class: int = 30, seed: int = 0) -> Any:
    """Small labelled image data for image generators (8x8 digits from scikit-learn)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed)
    idx = np.concatenate([rng.choice(np.flatnonzero(digits.target == c), n_per_class, replace=False)
                          for c in range(10)])
    return (digits.images[idx] / 16.0).astype(np.float32), digits.target[idx].astype(np.int64)


# ------------------------------------------------------------------------------------------ plumbing
def make(name: str, **overrides: Any) -> Any:
    cls = registry.get(name)
    params = dict(getattr(cls, "contract_params", {}))
    if cls.provides_dp and "epsilon" in cls._param_names() and "epsilon" not in params:
        params["epsilon"] = CONTRACT_EPSILON
    params.update(overrides)
    return cls(**params)


def fixture_for(name: str) -> tuple[Any, Any]:
    kind = registry.entry(name).data_kind
    if kind == "image":
        return contract_images(), None
    return contract_table()


def fit(name: str, random_state: int = 0, **kw: Any) -> Any:
    data, schema = fixture_for(name)
    gen = make(name)
    out = gen.fit(data, schema, random_state=random_state, **kw)
    assert out is gen, f"{name}: fit must return self"
    return gen


def _as_arrays(sample: Any) -> list[np.ndarray]:
    if isinstance(sample, pd.DataFrame):
        # numpy's str conversion: pandas 3's astype(str) keeps nulls as NaN, which never compare equal
        return [sample[c].to_numpy(dtype=object).astype(str) for c in sample.columns]
    if isinstance(sample, tuple):
        return [np.asarray(s) for s in sample]
    if hasattr(sample, "images"):
        return [np.asarray(sample.images), np.asarray(sample.labels)]
    return [np.asarray(sample)]


def _same(a: Any, b: Any) -> bool:
    xa, xb = _as_arrays(a), _as_arrays(b)
    return len(xa) == len(xb) and all(u.shape == v.shape and np.array_equal(u, v) for u, v in zip(xa, xb))


# -------------------------------------------------------------------------------------------- checks
def check_init_stores_params(name: str) -> None:
    gen = make(name)
    params = gen.get_params()
    for k in type(gen)._param_names():
        assert k in params, f"{name}: parameter {k!r} is not stored as an attribute of the same name"
    learned = [a for a in vars(gen) if a.endswith("_") and not a.startswith("_")]
    assert not learned, f"{name}: __init__ set learned attributes {learned}"


def check_not_fitted(name: str) -> None:
    gen = make(name)
    for call in (lambda: gen.sample(5), lambda: gen.save(tempfile.mkdtemp())):
        try:
            call()
        except NotFittedError:
            continue
        raise AssertionError(f"{name}: using an unfitted generator must raise NotFittedError")


def check_samples_conform(name: str) -> None:
    gen = fit(name)
    out = gen.sample(64, random_state=1)
    if registry.entry(name).data_kind == "table":
        assert len(out) == 64, f"{name}: asked for 64 rows, got {len(out)}"
        report = gen.schema_.validate(out, release=True)
        assert report.ok, f"{name}: samples break the schema: {[str(v) for v in report.violations]}"
        assert "privacy" in out.attrs, f"{name}: samples must carry their privacy spend in .attrs"


def check_seeds(name: str) -> None:
    gen = fit(name)
    a, b = gen.sample(50, random_state=7), gen.sample(50, random_state=7)
    c = gen.sample(50, random_state=8)
    assert _same(a, b), f"{name}: the same random_state must give identical samples"
    assert not _same(a, c), f"{name}: another random_state must give different samples"
    g1, g2 = fit(name, random_state=3), fit(name, random_state=3)
    assert _same(g1.sample(30, random_state=0), g2.sample(30, random_state=0)), \
        f"{name}: fitting twice with the same random_state must give the same model"


def check_save_load_roundtrip(name: str) -> None:
    from ..persistence import load_model

    gen = fit(name)
    with tempfile.TemporaryDirectory() as d:
        gen.save(Path(d) / "model")
        files = sorted(p.name for p in (Path(d) / "model").iterdir())
        assert "manifest.json" in files, f"{name}: no manifest.json in the saved model"
        bad = [f for f in files if f.endswith((".pkl", ".pickle", ".pt", ".joblib"))]
        assert not bad, f"{name}: pickle-style files saved: {bad}"
        loaded = load_model(Path(d) / "model")
    assert type(loaded) is type(gen)
    if getattr(type(gen), "needs_private_data_at_sample", False):
        # Narrow, documented exception (image augmentation): such a generator transforms the private images
        # themselves at sample time, and a saved model must never contain them. So a loaded one must refuse to
        # sample until the images are re-attached (attach_images); after that it must reproduce the samples.
        try:
            loaded.sample(5, random_state=0)
        except NotFittedError:
            pass
        else:
            raise AssertionError(f"{name}: a loaded model sampled without its images re-attached")
        loaded.attach_images(fixture_for(name)[0])
    assert _same(gen.sample(40, random_state=5), loaded.sample(40, random_state=5)), \
        f"{name}: save/load must reproduce identical samples"
    assert loaded.privacy_spent_ == gen.privacy_spent_, f"{name}: privacy spend lost in save/load"


def check_privacy_spent(name: str) -> None:
    gen = fit(name)
    spent = gen.privacy_spent_
    if gen.provides_dp:
        assert isinstance(spent, DPSpend), f"{name}: a DP generator must report a DPSpend"
        assert 0 < spent.epsilon <= gen.epsilon + 1e-9, f"{name}: spent epsilon {spent.epsilon} > target"
        assert spent.neighbouring == "add/remove one row"
    else:
        assert isinstance(spent, NoGuarantee) and spent.reason, f"{name}: non-DP generators must say so"


def check_ledger(name: str) -> None:
    data, schema = fixture_for(name)
    with tempfile.TemporaryDirectory() as d:
        ledger = PrivacyLedger.create(Path(d) / "l.json", epsilon=10.0, delta=1e-5)
        gen = make(name)
        if gen.provides_dp:
            gen.fit(data, schema, ledger=ledger, random_state=0)
            eps, _ = ledger.spent()
            assert eps >= gen.privacy_spent_.epsilon - 1e-9 and eps > 0, f"{name}: the ledger was not charged"
            assert [c.status for c in ledger.charges()] == ["committed"]
        else:
            try:
                gen.fit(data, schema, ledger=ledger, random_state=0)
            except PrivacyError:
                assert ledger.spent() == (0.0, 0.0)
            else:
                raise AssertionError(f"{name}: a non-DP generator must refuse to charge a privacy ledger")


def _needles(value: float) -> list[bytes]:
    return [struct.pack("<d", value), struct.pack("<f", value), repr(value).encode(), f"{value:.4f}".encode()]


def check_canary_not_in_artifact(name: str) -> None:
    if registry.entry(name).data_kind != "table":
        return
    gen = fit(name)
    with tempfile.TemporaryDirectory() as d:
        gen.save(Path(d) / "model")
        for f in (Path(d) / "model").iterdir():
            blob = f.read_bytes()
            for needle in _needles(CANARY_VALUE):
                assert needle not in blob, f"{name}: the canary's extreme value is stored in {f.name}"
    out = gen.sample(2000, random_state=0)
    assert not np.isclose(out["x"].to_numpy(dtype=float), CANARY_VALUE, rtol=0, atol=1e-6).any(), \
        f"{name}: the canary's extreme value reappears in samples"
    if gen.provides_dp:
        # The canary must not be detectable in the release's extremes: the tail mass beyond the normal range
        # is about the same whether or not the canary row was in the training data.
        data, schema = contract_table(canary=False)
        without = make(name).fit(data, schema, random_state=0).sample(2000, random_state=0)
        tail_with = float((out["x"] > 500).mean())
        tail_without = float((without["x"] > 500).mean())
        assert abs(tail_with - tail_without) < 0.02, \
            f"{name}: the canary shifts the release's upper tail ({tail_with:.3f} vs {tail_without:.3f})"
        assert (out["group"] == CANARY_CATEGORY).mean() < 0.02, \
            f"{name}: the canary's unique category is over-represented in DP samples"


CHECKS: tuple[Callable[[str], None], ...] = (
    check_init_stores_params,
    check_not_fitted,
    check_samples_conform,
    check_seeds,
    check_save_load_roundtrip,
    check_privacy_spent,
    check_ledger,
    check_canary_not_in_artifact,
)
