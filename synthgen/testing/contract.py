"""The contract every registered generator must pass (like scikit-learn's ``parametrize_with_checks``).

Checks are plain functions ``check(name)`` that raise ``AssertionError``. Which ones apply is decided by the
generator's tags, its ``data_kind`` and ``provides_dp`` class attributes, in :func:`yield_checks` (scikit-learn's
``_yield_checks``), never by an ``if`` inside a check. Generators declare small ``contract_params`` so the suite
runs in seconds.

Privacy argument of the DP checks (they must be able to fail; ``tests/privacy/planted`` proves they do):

- neighbouring worlds ADD a row (the canary: a unique category, an extreme value), so the row count changes;
  every fit draws fresh noise (no shared seed), and an effect is judged against one row's noise-free effect;
- fits repeat only under :func:`~synthgen.privacy.noise.unsafe_seeded_noise`, and such a fit says "no guarantee"
  (keeping the accountant's numbers in ``accounted``); a fitted or loaded model samples identically per seed;
- the default delta comes from declared facts: with no ``rows.max`` declared it is ``default_delta(None)`` for n
  and n + 1 rows alike (delta(n) would be a perfect distinguisher).
"""
from __future__ import annotations

import json
import math
import struct
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from ..exceptions import NotFittedError, PrivacyError
from ..generators import registry
from ..privacy.ledger import PrivacyLedger
from ..privacy.noise import unsafe_seeded_noise
from ..privacy.spend import DPSpend, NoGuarantee, default_delta
from ..schema import (BooleanField, CategoricalField, DatetimeField, IdentifierField, NumericField, RowBounds,
                      Schema)

CANARY_VALUE = 987.654321  # the extreme value of the canary row (the others live in roughly [0, 120])
CANARY_CATEGORY = "zz-canary-7f3a"  # declared in the schema, held by the canary row only
CANARY_NEAR = 20.0  # "near the canary": |x - CANARY_VALUE| < CANARY_NEAR (no other row is within 800)
CONTRACT_EPSILON = 3.0
N_ROWS = 400  # rows of the fixture without the canary
Check = Callable[[str], None]
# name -> parameter overrides applied by make() on top of contract_params (tests set entries to make slow
# generators faster, e.g. fewer epochs, where the privacy statistics do not depend on them).
PARAM_OVERRIDES: dict[str, dict[str, Any]] = {}


# ------------------------------------------------------------------------------------------------ fixtures
def contract_table(n: int = N_ROWS, seed: int = 0, canary: bool = True, rows_max: int | None = 10_000
                   ) -> tuple[pd.DataFrame, Schema]:
    """A mixed-type table (nulls, integers, booleans, datetimes, an identifier) and its declared schema.

    ``canary=True`` APPENDS the canary row (n + 1 rows): with and without it are neighbouring datasets under
    add/remove one row. ``rows_max=None`` declares no maximum row count (so a delta(n) leak would show).
    """
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    base = np.where(group == "a", 30.0, np.where(group == "b", 60.0, 90.0))
    x = np.clip(base + rng.normal(0, 8, n), 0, 1000)
    count = np.clip(np.round(x / 10 + rng.normal(0, 1, n)), 0, 100).astype(float)
    count[rng.random(n) < 0.1] = np.nan
    df = pd.DataFrame({
        "id": [f"user-{i:05d}" for i in range(n)],
        "x": x,
        "count": count,
        "group": group,
        "flag": rng.random(n) < (x / 120),
        "day": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
    })
    if canary:
        row = {"id": "user-canary", "x": CANARY_VALUE, "count": 7.0, "group": CANARY_CATEGORY, "flag": True,
               "day": pd.Timestamp("2020-06-15")}
        df = pd.concat([df, pd.DataFrame([row])], ignore_index=True)
    df["count"] = pd.array(df["count"].to_numpy(), dtype="Float64").astype("Int64")
    schema = Schema((
        IdentifierField("id", synthesize="regenerate"),
        NumericField("x", 0, 1000, bounds_source="public:contract fixture"),
        NumericField("count", 0, 100, integer=True, nullable=True, bounds_source="public:contract fixture"),
        CategoricalField("group", ("a", "b", "c", CANARY_CATEGORY), categories_source="public:contract fixture"),
        BooleanField("flag"),
        DatetimeField("day", "2020-01-01", "2020-12-31", bounds_source="public:contract fixture", date_only=True),
    ), name="contract", rows=RowBounds(max=rows_max) if rows_max else None)
    return df, schema


def contract_images(n_per_class: int = 30, seed: int = 0, canary: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Small labelled images (8x8 digits from scikit-learn); ``canary=True`` appends one all-white image of class 0."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed)
    idx = np.concatenate([rng.choice(np.flatnonzero(digits.target == c), n_per_class, replace=False)
                          for c in range(10)])
    images, labels = (digits.images[idx] / 16.0).astype(np.float32), digits.target[idx].astype(np.int64)
    if canary:
        images = np.concatenate([images, np.ones((1,) + images.shape[1:], dtype=np.float32)])
        labels = np.concatenate([labels, np.zeros(1, dtype=np.int64)])
    return images, labels


def world(name: str, canary: bool = False, rows_max: int | None = 10_000) -> tuple[Any, Any]:
    """Data and schema of one world: the fixture without (D) or with (D plus the canary row) the extra row."""
    if registry.entry(name).data_kind == "image":
        return contract_images(canary=canary), None
    return contract_table(canary=canary, rows_max=rows_max)


def n_rows(data: Any) -> int:
    return len(data[1]) if isinstance(data, tuple) else len(data)


# ------------------------------------------------------------------------------------------------ plumbing
def make(name: str, **overrides: Any) -> Any:
    cls = registry.get(name)
    params = dict(getattr(cls, "contract_params", {}))
    if cls.provides_dp and "epsilon" in cls._param_names() and "epsilon" not in params:
        params["epsilon"] = CONTRACT_EPSILON
    params.update(PARAM_OVERRIDES.get(name, {}))
    params.update({k: v for k, v in overrides.items() if k in cls._param_names()})
    return cls(**params)


def fit(name: str, random_state: int | None = 0, data: Any = None, **params: Any) -> Any:
    """Fit ``name`` (contract parameters plus ``params``) on ``data`` (default: the world with the canary)."""
    data, schema = data if data is not None else world(name, canary=True)
    gen = make(name, **params)
    out = gen.fit(data, schema, random_state=random_state)
    assert out is gen, f"{name}: fit must return self"
    return gen


def saved_manifest(gen: Any) -> dict:
    with tempfile.TemporaryDirectory() as d:
        gen.save(Path(d) / "model")
        return json.loads((Path(d) / "model" / "manifest.json").read_text(encoding="utf-8"))


def _as_arrays(sample: Any) -> list[np.ndarray]:
    if isinstance(sample, pd.DataFrame):
        # numpy's str conversion: pandas 3's astype(str) keeps nulls as NaN, which never compare equal
        return [sample[c].to_numpy(dtype=object).astype(str) for c in sample.columns]
    if isinstance(sample, tuple):
        return [np.asarray(s) for s in sample]
    if hasattr(sample, "images"):
        return [np.asarray(sample.images), np.asarray(sample.labels)]
    return [np.asarray(sample)]


def same(a: Any, b: Any) -> bool:
    xa, xb = _as_arrays(a), _as_arrays(b)
    return len(xa) == len(xb) and all(u.shape == v.shape and np.array_equal(u, v) for u, v in zip(xa, xb))


def canary_shares(gen: Any, n: int = 20_000, random_state: int = 0) -> tuple[float, float]:
    """Shares of ``n`` samples near the canary's value and with its unique category (each ~1 / (N + 1) if one row's
    effect showed without noise)."""
    out = gen.sample(n, random_state=random_state)
    x = out["x"].to_numpy(dtype=float, na_value=np.nan)
    return float(np.mean(np.abs(x - CANARY_VALUE) < CANARY_NEAR)), float((out["group"] == CANARY_CATEGORY).mean())


# ------------------------------------------------------------------------------------------- common checks
def check_registry_agrees_with_class(name: str) -> None:
    e, cls = registry.entry(name), registry.get(name)
    assert e.guarantee == ("dp" if cls.provides_dp else "none"), \
        f"{name}: the registry says guarantee={e.guarantee!r} but {cls.__name__}.provides_dp={cls.provides_dp}"
    assert e.data_kind == cls.data_kind, \
        f"{name}: the registry says data_kind={e.data_kind!r} but {cls.__name__}.data_kind={cls.data_kind!r}"
    assert cls.registry_name == name, f"{name}: the class says its registry name is {cls.registry_name!r}"


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


def check_sampling_repeats_per_seed(name: str) -> None:
    gen = fit(name)
    a, b, c = (gen.sample(50, random_state=s) for s in (7, 7, 8))
    assert same(a, b), f"{name}: a fitted model must sample identically for the same random_state"
    assert not same(a, c), f"{name}: another random_state must give different samples"


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
        loaded.attach_images(world(name, canary=True)[0])
    assert same(gen.sample(40, random_state=5), loaded.sample(40, random_state=5)), \
        f"{name}: a saved and loaded model must sample identically for the same random_state"
    assert loaded.privacy_spent_ == gen.privacy_spent_, f"{name}: privacy spend lost in save/load"
    assert loaded.rows_estimate_ == gen.rows_estimate_, f"{name}: rows_estimate_ lost in save/load"


# -------------------------------------------------------------------------------------------- table checks
def check_samples_conform(name: str) -> None:
    gen = fit(name)
    out = gen.sample(64, random_state=1)
    assert len(out) == 64, f"{name}: asked for 64 rows, got {len(out)}"
    report = gen.schema_.validate(out, release=True)
    assert report.ok, f"{name}: samples break the schema: {[str(v) for v in report.violations]}"
    assert out.attrs.get("privacy") == gen.privacy_spent_.to_dict(), \
        f"{name}: samples must carry their privacy spend in .attrs['privacy']"


def _needles(value: float) -> list[bytes]:
    return [struct.pack("<d", value), struct.pack("<f", value), repr(value).encode(), f"{value:.4f}".encode()]


def check_canary_not_in_artifact(name: str) -> None:
    """No value held by one row (the canary's extreme x) in the saved model's files or in the samples."""
    gen = fit(name)
    with tempfile.TemporaryDirectory() as d:
        gen.save(Path(d) / "model")
        for f in (Path(d) / "model").iterdir():
            blob = f.read_bytes()
            for needle in _needles(CANARY_VALUE):
                assert needle not in blob, f"{name}: the canary's extreme value is stored in {f.name}"
    x = gen.sample(5000, random_state=0)["x"].to_numpy(dtype=float, na_value=np.nan)
    assert not np.isclose(x, CANARY_VALUE, rtol=0, atol=1e-6).any(), \
        f"{name}: the canary's extreme value reappears in samples"


# ----------------------------------------------------------------------------------------------- DP checks
def check_dp_spend(name: str) -> None:
    gen = fit(name)
    spent = gen.privacy_spent_
    assert isinstance(spent, DPSpend), f"{name}: a DP generator must report a DPSpend, got {spent}"
    assert 0 < spent.epsilon <= gen.epsilon + 1e-9, f"{name}: spent epsilon {spent.epsilon} > target"
    assert spent.neighbouring == "add/remove one row"


def check_rows_estimate(name: str) -> None:
    """A DP fit sets ``rows_estimate_`` (a DP estimate of n, the default release size), saved in the manifest."""
    gen = fit(name)
    est = getattr(gen, "rows_estimate_", None)
    assert isinstance(est, float) and np.isfinite(est) and est >= 0, \
        f"{name}: a DP fit must set rows_estimate_ to a finite float >= 0; got {est!r}"
    assert saved_manifest(gen)["rows_estimate"] == est, f"{name}: the manifest's rows_estimate differs"


def check_fresh_noise_per_fit(name: str) -> None:
    """Privacy noise never comes from random_state: two fits with the same seed on the same data differ."""
    a, b = fit(name, random_state=3), fit(name, random_state=3)
    assert a.rows_estimate_ != b.rows_estimate_ or not same(a.sample(200, random_state=0),
                                                           b.sample(200, random_state=0)), \
        f"{name}: two fits with the same random_state gave the same model: the privacy noise is seeded"


def check_seeded_noise_switch(name: str) -> None:
    """Under unsafe_seeded_noise fits repeat exactly, and each says it has no guarantee (accountant kept)."""
    models = []
    for _ in range(2):
        with unsafe_seeded_noise(11):
            models.append(fit(name, random_state=3))
    a, b = models
    assert same(a.sample(100, random_state=0), b.sample(100, random_state=0)), \
        f"{name}: fits under unsafe_seeded_noise (same seed, same random_state) must repeat exactly"
    for m in models:
        spent = m.privacy_spent_
        assert isinstance(spent, NoGuarantee) and "seeded" in spent.reason, \
            f"{name}: a fit under unsafe_seeded_noise must carry NoGuarantee('...seeded...'); got {spent}"
        assert isinstance(spent.accounted, DPSpend) and spent.accounted.epsilon > 0, \
            f"{name}: the seeded fit's spend must keep the accountant's DPSpend in `accounted`"
        assert saved_manifest(m)["privacy"]["guarantee"] == "none", f"{name}: the manifest claims DP"


def check_ledger_charged(name: str) -> None:
    data, schema = world(name, canary=True)
    with tempfile.TemporaryDirectory() as d:
        ledger = PrivacyLedger.create(Path(d) / "l.json", epsilon=10.0, delta=1e-5)
        gen = make(name).fit(data, schema, ledger=ledger, random_state=0)
        eps, _ = ledger.spent()
        assert eps >= gen.privacy_spent_.epsilon - 1e-9 and eps > 0, f"{name}: the ledger was not charged"
        assert [c.status for c in ledger.charges()] == ["committed"]
        entry = gen.ledger_entry_
        assert entry and ledger.find(entry["id"])["status"] == "committed", \
            f"{name}: ledger_entry_ must name the committed ledger entry; got {entry!r}"
        assert saved_manifest(gen)["ledger_entry"] == entry, f"{name}: the manifest lost the ledger entry"


def check_default_delta_ignores_n(name: str) -> None:
    """Without a declared rows.max the default delta is default_delta(None) for n and n + 1 rows alike."""
    deltas = []
    for canary in (False, True):
        data, schema = world(name, canary=canary, rows_max=None)
        deltas.append(make(name).fit(data, schema).privacy_spent_.delta)
    assert deltas[0] == deltas[1] == default_delta(None), \
        f"{name}: default delta {deltas} for n and n+1 rows; expected {default_delta(None)} (rows.max undeclared)"


def check_canary_effect(name: str) -> None:
    """D vs D plus the canary row, fresh noise per fit: the share of samples near the canary's value (and with its
    unique category) must not move by half of one row's noise-free effect, 1 / (N + 1), beyond what varies between
    fits. Fails when |mean gap| > half a row's effect AND the gap is t_{df}(1 - 5e-5) fit-to-fit standard errors
    (a correct generator fails with probability < 1e-4). Slow generators (fit > 1 s) get 3 fits per world, else 5."""
    from scipy.stats import t as student_t

    one_row = 1.0 / (N_ROWS + 1)
    shares: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    fits = 5
    for i in range(2 * fits):
        canary = i % 2 == 1
        start = time.perf_counter()
        gen = fit(name, random_state=None, data=world(name, canary=canary))
        if i == 0 and time.perf_counter() - start > 1.0:
            fits = 3
        shares[canary].append(canary_shares(gen))
        if min(len(v) for v in shares.values()) >= fits:
            break
    k = min(len(v) for v in shares.values())
    crit = float(student_t.ppf(1 - 5e-5, df=2 * k - 2))
    for j, what in enumerate(("samples near the canary's value", "the canary's category")):
        a, b = (np.array([s[j] for s in shares[w][:k]]) for w in (True, False))
        gap = float(a.mean() - b.mean())
        se = math.sqrt(a.var(ddof=1) / k + b.var(ddof=1) / k + (a.mean() + b.mean()) / 20_000 / k)
        assert abs(gap) <= 0.5 * one_row or abs(gap) <= crit * se, \
            (f"{name}: the canary row moves the share of {what} by {gap:.5f} (one row: {one_row:.5f}; "
             f"{abs(gap) / se:.1f} standard errors over {k} fits per world)")


# ------------------------------------------------------------------------------------------- non-DP checks
def check_no_guarantee(name: str) -> None:
    spent = fit(name).privacy_spent_
    assert isinstance(spent, NoGuarantee) and spent.reason, f"{name}: non-DP generators must say so"


def check_ledger_refused(name: str) -> None:
    data, schema = world(name, canary=True)
    with tempfile.TemporaryDirectory() as d:
        ledger = PrivacyLedger.create(Path(d) / "l.json", epsilon=10.0, delta=1e-5)
        try:
            make(name).fit(data, schema, ledger=ledger, random_state=0)
        except PrivacyError:
            assert ledger.spent() == (0.0, 0.0)
        else:
            raise AssertionError(f"{name}: a non-DP generator must refuse to charge a privacy ledger")


def check_fit_repeats_per_seed(name: str) -> None:
    a, b = fit(name, random_state=3), fit(name, random_state=3)
    assert same(a.sample(30, random_state=0), b.sample(30, random_state=0)), \
        f"{name}: without privacy noise, fitting twice with the same random_state must give the same model"


# ------------------------------------------------------------------------------------------ check selection
COMMON_CHECKS: tuple[Check, ...] = (check_registry_agrees_with_class, check_init_stores_params, check_not_fitted,
                                    check_sampling_repeats_per_seed, check_save_load_roundtrip)
TABLE_CHECKS: tuple[Check, ...] = (check_samples_conform, check_canary_not_in_artifact)
DP_CHECKS: tuple[Check, ...] = (check_dp_spend, check_rows_estimate, check_fresh_noise_per_fit,
                                check_seeded_noise_switch, check_ledger_charged, check_default_delta_ignores_n)
DP_TABLE_CHECKS: tuple[Check, ...] = (check_canary_effect,)
NON_DP_CHECKS: tuple[Check, ...] = (check_no_guarantee, check_ledger_refused, check_fit_repeats_per_seed)


def yield_checks(name: str) -> Iterator[Check]:
    """The checks that apply to ``name``, chosen by its class's tags (``data_kind``, ``provides_dp``)."""
    cls = registry.get(name)
    table = cls.data_kind == "table"
    yield from COMMON_CHECKS
    if table:
        yield from TABLE_CHECKS
    yield from (DP_CHECKS if cls.provides_dp else NON_DP_CHECKS)
    if cls.provides_dp and table:
        yield from DP_TABLE_CHECKS
