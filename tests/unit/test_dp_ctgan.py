"""DP-CTGAN: spend never above target, bad input, save/load, conditional sampling, encoder from the schema."""
import json

import numpy as np
import pandas as pd
import pytest

from synthgen.exceptions import ConfigError, InvalidPrivacyParameterError, PrivacyError, SynthgenError
from synthgen.generators.ctgan.encoder import TableEncoder
from synthgen.generators.ctgan.model import DPCTGAN
from synthgen.privacy.ledger import PrivacyLedger
from synthgen.schema import BooleanField, CategoricalField, NumericField, Schema

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

TINY = dict(epochs=2, batch_size=32, embedding_dim=8, generator_dim=(16,), discriminator_dim=(16,), n_bins=6,
            verbose=False)


def table(n=300, seed=0):
    rng = np.random.default_rng(seed)
    g = rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.3, 0.1])
    wage = np.clip(np.exp(rng.normal(6, 0.6, n)) + 50, 50, 20000)
    df = pd.DataFrame({"g": g, "wage": wage, "edu": rng.integers(0, 19, n).astype(float),
                       "flag": rng.random(n) < 0.3})
    schema = Schema((CategoricalField("g", ("a", "b", "c"), categories_source="public:test"),
                     NumericField("wage", 50, 20000, bounds_source="public:test"),
                     NumericField("edu", 0, 18, integer=True, bounds_source="public:test"),
                     BooleanField("flag")))
    return df, schema


@pytest.fixture(scope="module")
def fitted():
    df, schema = table()
    return DPCTGAN(epsilon=2.0, **TINY).fit(df, schema, random_state=0)


def test_spend_is_the_target_split_and_the_readings_recompute(fitted):
    sp = fitted.privacy_spent_
    assert sp.epsilon == pytest.approx(2.0) and sp.delta <= 1e-9  # undeclared rows.max: the public default delta
    d = sp.details
    from synthgen.privacy.analysis.dpsgd_plan import (count_noise_multiplier, gaussian_noise_multiplier,
                                                      row_count_split)
    from synthgen.privacy.analysis.zcdp import gaussian_exact_delta
    from synthgen.privacy.dpsgd import epsilon_prv

    eps0, dlt0, eps1, dlt1 = row_count_split(2.0, sp.delta)
    rc, c, g = d["row_count"], d["counts"], d["dpsgd"]
    assert rc["noise_multiplier"] == pytest.approx(gaussian_noise_multiplier(eps0, dlt0))
    assert gaussian_exact_delta(eps0, rc["noise_multiplier"]) <= dlt0  # the row count is exactly (eps0, dlt0)-DP
    assert d["rest"] == {"epsilon": pytest.approx(eps1), "delta": pytest.approx(dlt1)}
    assert c["noise_multiplier"] == pytest.approx(count_noise_multiplier(eps1, dlt1, 0.1))
    assert c["histograms"] == 4 + len(c["pairs"]) + c["bin_edge_histograms"] and c["bin_edge_histograms"] == 1
    assert c["noise_std_per_cell"] == pytest.approx(c["noise_multiplier"] * np.sqrt(c["histograms"]))
    # the rest is PRV-composed (counts as a prior Gaussian, then the steps) and within its planned part
    again = epsilon_prv(g["noise_multiplier"], g["sample_rate"], g["steps"], dlt1, prior=(c["noise_multiplier"],))
    assert g["epsilon_prv"] == pytest.approx(min(again, eps1), rel=1e-6) and g["epsilon_prv"] <= eps1
    assert g["epsilon_rdp"] > 0 and g["sampling"] == "Poisson"
    assert fitted.n_steps_ == g["steps"] <= g["planned_steps"]
    assert fitted.rows_estimate_ == d["rows_estimate"]["estimate"] > 1


def test_samples_conform_and_respect_declared_domain(fitted):
    out = fitted.sample(500, random_state=1)
    assert fitted.schema_.validate(out, release=True).ok
    assert set(out["g"]) <= {"a", "b", "c"} and out["wage"].between(50, 20000).all()


def test_conditional_sampling(fitted):
    out = fitted.sample(200, random_state=2, conditions={"g": "c"})
    assert (out["g"] == "c").all()
    with pytest.raises(ConfigError, match="'g'"):
        fitted.sample(10, conditions={"g": "zzz"})
    with pytest.raises(ConfigError, match="wage"):
        fitted.sample(10, conditions={"wage": 100})


def test_save_load_holds_weights_and_noisy_frequencies_only(fitted, tmp_path):
    fitted.save(tmp_path / "m")
    files = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert files == ["arrays.safetensors", "manifest.json"]
    from safetensors.numpy import load_file

    keys = load_file(str(tmp_path / "m" / "arrays.safetensors")).keys()
    assert all(k.startswith(("generator.", "frequencies.", "edges.")) for k in keys)
    loaded = DPCTGAN.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.sample(50, random_state=3), fitted.sample(50, random_state=3))
    assert loaded.pairs_ == fitted.pairs_ and len(fitted.pairs_) == 5
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["privacy"]["epsilon"] <= 2.0


def test_on_epoch_early_stop_gets_dp_outputs_and_keeps_the_planned_guarantee():
    from synthgen.privacy.noise import unsafe_seeded_noise

    df, schema = table(200)
    seen = []

    def cb(epoch, eps, losses):
        seen.append((epoch, eps, set(losses)))
        return False  # stop after the first epoch

    params = dict(TINY, epochs=4)
    with unsafe_seeded_noise(5):  # same noise in both fits, so the same schedule
        g = DPCTGAN(epsilon=2.0, **params).fit(df, schema, random_state=5, on_epoch=cb)
    with unsafe_seeded_noise(5):
        full = DPCTGAN(epsilon=2.0, **params).fit(df, schema, random_state=5)
    assert len(seen) == 1 and seen[0][2] == {"generator"} and 0 < seen[0][1] <= 2.0
    assert g.n_steps_ < full.n_steps_
    a, b = g.privacy_spent_.accounted, full.privacy_spent_.accounted
    assert not g.privacy_spent_.is_dp and a is not None  # the test switch: no guarantee, numbers kept
    assert a.details["stopped_early_at_epoch"] == 1 and a.details["dpsgd"]["steps"] == g.n_steps_
    # stopping early is post-processing of the planned run: the guarantee is the planned one
    assert a.epsilon == b.epsilon and a.details["dpsgd"]["epsilon_prv"] < b.details["dpsgd"]["epsilon_prv"]


def test_epsilon_too_small_fails_before_the_ledger_is_charged(tmp_path):
    df, schema = table(200)
    ledger = PrivacyLedger.create(tmp_path / "l.json", epsilon=1.0, delta=1e-5)
    with pytest.raises(InvalidPrivacyParameterError, match="epsilon"):
        DPCTGAN(epsilon=1e-4, **dict(TINY, batch_size=100)).fit(df, schema, ledger=ledger, random_state=0)
    assert ledger.charges() == ()


def test_batch_larger_than_the_declared_max_rows_fails_before_the_ledger(tmp_path):
    from dataclasses import replace

    from synthgen.schema import RowBounds

    df, schema = table(50)
    declared = replace(schema, rows=RowBounds(max=60))
    ledger = PrivacyLedger.create(tmp_path / "l.json", epsilon=5.0, delta=1e-4)
    with pytest.raises(ConfigError, match="batch_size=64 .*declared maximum of 60"):
        DPCTGAN(epsilon=1.0, **dict(TINY, batch_size=64)).fit(df, declared, ledger=ledger, random_state=0)
    assert ledger.charges() == ()
    # without declared bounds a batch larger than the (private) table is no error: the rate is clamped
    m = DPCTGAN(epsilon=3.0, **dict(TINY, batch_size=64)).fit(df, schema, random_state=0)
    assert m.privacy_spent_.details["dpsgd"]["sample_rate"] <= 0.5


def test_bad_parameters_are_typed_errors():
    df, schema = table(100)
    for bad in (dict(epochs=0), dict(generator_dim=()), dict(count_fraction=1.5), dict(generator_lr=-1.0),
                dict(discriminator_loss="hinge"), dict(marginal_weight=-0.1), dict(marginal_weight=True),
                dict(pair_weight=-1.0), dict(pairs="all"), dict(pairs=[("wage", "nope")], count_fraction=0)):
        with pytest.raises(SynthgenError):
            DPCTGAN(epsilon=1.0, **dict(TINY, **bad)).fit(df, schema, random_state=0)


def test_secure_mode_accepts_a_seed_and_is_refused_in_the_plan_without_torchcsprng():
    from synthgen.privacy.dpsgd import secure_mode_available

    df, schema = table(100)
    if secure_mode_available():  # pragma: no cover - torchcsprng is not in the main environment
        DPCTGAN(epsilon=2.0, secure=True, **TINY).fit(df, schema, random_state=0)
    else:
        with pytest.raises(PrivacyError, match="torchcsprng.*before any data is read"):
            DPCTGAN(epsilon=1.0, secure=True, **TINY)._plan(schema)


@pytest.mark.parametrize("cols", [["g", "flag"], ["wage", "edu"]])
def test_only_categorical_or_only_numeric(cols):
    df, schema = table(150)
    sub = Schema(tuple(schema[c] for c in cols))
    g = DPCTGAN(epsilon=2.0, **TINY).fit(df[cols], sub, random_state=0)
    out = g.sample(40, random_state=0)
    assert list(out.columns) == cols and sub.validate(out, release=True).ok


def test_hundreds_of_categories_and_an_all_null_column():
    rng = np.random.default_rng(0)
    n = 150
    cats = tuple(f"c{i:03d}" for i in range(400))
    df = pd.DataFrame({"big": rng.choice(cats[:50], n), "empty": [np.nan] * n, "x": rng.random(n)})
    schema = Schema((CategoricalField("big", cats, categories_source="public:test"),
                     NumericField("empty", 0, 1, nullable=True, bounds_source="public:test"),
                     NumericField("x", 0, 1, bounds_source="public:test")))
    g = DPCTGAN(epsilon=2.0, **TINY).fit(df, schema, random_state=0)
    out = g.sample(100, random_state=0)
    assert schema.validate(out, release=True).ok
    assert out["empty"].isna().any()  # the null slot exists; its share is a noisy count (150 rows: very noisy)
    codes, offsets = TableEncoder(schema).encode(df)  # training rows held as small codes, not one-hot
    assert codes.shape == (n, 3) and codes.dtype == np.int64


def test_encoder_is_schema_driven():
    df, schema = table(100)
    enc = TableEncoder(schema, n_bins=10)
    kinds = {c.name: (c.kind, c.log) for c in enc.columns}
    assert kinds == {"g": ("categorical", False), "wage": ("binned", True), "edu": ("levels", False),
                     "flag": ("boolean", False)}
    codes, offsets = enc.encode(df)
    # decoding the encoded rows gives the values back (offsets carry the position inside a bin)
    j = [c.name for c in enc.columns].index("wage")
    back = enc.decode(codes, offsets)
    assert np.allclose(back["wage"], df["wage"], rtol=1e-4)
    assert (back["g"] == df["g"]).all() and np.array_equal(back["edu"], df["edu"])
    assert offsets[:, j].min() >= -1 and offsets[:, j].max() <= 1
    # same schema, different data: same layout (nothing read off the data)
    enc2 = TableEncoder(schema, n_bins=10)
    assert enc2.spans == enc.spans and enc2.dim == enc.dim


def test_marginal_loss_is_zero_at_the_noisy_frequencies_and_positive_elsewhere():
    import torch

    from synthgen.generators.ctgan.losses import MarginalLoss as _MarginalLoss

    df, schema = table(100)
    enc = TableEncoder(schema, n_bins=6)
    rng = np.random.default_rng(0)
    freqs = [rng.dirichlet(np.ones(c.slots)) for c in enc.columns]
    ml = _MarginalLoss(enc, freqs)
    logits = torch.zeros(4, enc.dim)
    for (s0, k), f in zip(enc.col_softmax, freqs):
        logits[:, s0:s0 + k] = torch.as_tensor(np.log(f), dtype=torch.float32)
    assert float(ml.loss(logits)) == pytest.approx(0.0, abs=1e-4)
    assert float(ml.loss(torch.zeros(4, enc.dim))) > 0.01


def test_bce_loss_without_marginal_term_still_trains():
    df, schema = table(150)
    g = DPCTGAN(epsilon=2.0, discriminator_loss="bce", marginal_weight=0.0, **TINY).fit(df, schema, random_state=0)
    assert schema.validate(g.sample(30, random_state=0), release=True).ok and g.privacy_spent_.epsilon <= 2.0


def test_n_threads_is_validated_before_any_budget_is_spent(tmp_path):
    from synthgen.exceptions import ConfigError
    from synthgen.generators.ctgan.model import DPCTGAN
    from synthgen.privacy import PrivacyLedger
    from synthgen.testing.contract import contract_table

    df, schema = contract_table()
    ledger = PrivacyLedger.create(tmp_path / "l.json", epsilon=5.0, delta=1e-5)
    with pytest.raises(ConfigError, match="n_threads"):
        DPCTGAN(epsilon=3.0, epochs=1, n_threads="many").fit(df, schema, ledger=ledger)
    assert ledger.spent() == (0.0, 0.0)
    assert DPCTGAN(epsilon=1.0).n_threads == 1  # reproducible by default


def test_pair_histogram_is_the_crosstab_of_the_slots():
    df, schema = table(200)
    enc = TableEncoder(schema, n_bins=6)
    codes, _ = enc.encode(df)
    h = enc.pair_histogram(codes, 0, 3)  # g x flag
    want = pd.crosstab(df["g"], df["flag"]).reindex(index=["a", "b", "c"], columns=[False, True], fill_value=0)
    np.testing.assert_array_equal(h, want.to_numpy())
    assert h.sum() == len(df)


def test_auto_pairs_touch_a_categorical_column_and_named_pairs_are_checked():
    from synthgen.generators.ctgan.plan import resolve_pairs as _resolve_pairs

    df, schema = table(50)
    enc = TableEncoder(schema, n_bins=6)
    names = [c.name for c in enc.columns]
    auto = {(names[a], names[b]) for a, b in _resolve_pairs(enc, "auto")}
    # g and flag are conditional (categorical/boolean); wage x edu is the only pair without one
    assert auto == {("g", "wage"), ("g", "edu"), ("g", "flag"), ("wage", "flag"), ("edu", "flag")}
    assert _resolve_pairs(enc, None) == [] and _resolve_pairs(enc, []) == []
    assert _resolve_pairs(enc, [("flag", "wage"), ("wage", "flag")]) == [(1, 3)]
    with pytest.raises(ConfigError, match="'income'"):
        _resolve_pairs(enc, [("income", "wage")])
    with pytest.raises(ConfigError, match="itself"):
        _resolve_pairs(enc, [("wage", "wage")])
    with pytest.raises(ConfigError, match="pairs must be"):
        DPCTGAN(pairs="all", **TINY).fit(df, schema, random_state=0)


def test_pair_loss_is_zero_at_the_noisy_joint_and_positive_elsewhere():
    import torch

    from synthgen.generators.ctgan.losses import PairLoss as _PairLoss

    df, schema = table(100)
    enc = TableEncoder(schema, n_bins=6)
    rng = np.random.default_rng(1)
    pa, pb = rng.dirichlet(np.ones(enc.columns[0].slots)), rng.dirichlet(np.ones(enc.columns[1].slots))
    pl = _PairLoss(enc, [(0, 1)], [np.outer(pa, pb)])
    logits = torch.zeros(8, enc.dim)
    for j, p in ((0, pa), (1, pb)):
        s0, k = enc.col_softmax[j]
        logits[:, s0:s0 + k] = torch.as_tensor(np.log(p), dtype=torch.float32)
    assert float(pl.loss(logits, None, None)) == pytest.approx(0.0, abs=1e-4)
    assert float(pl.loss(torch.zeros(8, enc.dim), None, None)) > 0.01
    # a conditioned row counts with its condition's one-hot, as at sampling time
    col = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])  # rows 0-3 conditioned on g (slot 2), rows 4-7 on flag
    slot = torch.tensor([2, 2, 2, 2, 0, 0, 0, 0])
    target = 0.5 * np.outer(np.eye(3)[2], pb) + 0.5 * np.outer(pa, pb)
    target = np.maximum(target, 1e-3)
    assert float(_PairLoss(enc, [(0, 1)], [target / target.sum()]).loss(logits, col, slot)) < 0.01
    assert float(_PairLoss(enc, [(0, 1)], [np.outer(pa, pb)]).loss(logits, col, slot)) > 0.03


def test_noisy_pairs_teach_the_generator_a_link_the_marginals_cannot():
    """flag is True exactly when g == "c": with the 2-way counts the samples keep the link, without them not."""
    rng = np.random.default_rng(3)
    n = 1200
    g = rng.choice(["a", "b", "c"], size=n, p=[0.4, 0.3, 0.3])
    df = pd.DataFrame({"g": g, "wage": np.exp(rng.normal(6, 0.6, n)) + 50, "flag": g == "c"})
    schema = Schema((CategoricalField("g", ("a", "b", "c"), categories_source="public:test"),
                     NumericField("wage", 50, 20000, bounds_source="public:test"), BooleanField("flag")))
    params = dict(TINY, epochs=6, batch_size=60, count_fraction=0.3, pair_weight=2.0, generator_lr=2e-3)

    from synthgen.privacy.noise import unsafe_seeded_noise

    def agreement(pairs):
        with unsafe_seeded_noise(0):  # a fixed draw of the noise: the comparison is not a coin toss
            m = DPCTGAN(epsilon=8.0, pairs=pairs, **params).fit(df, schema, random_state=0)
        s = m.sample(2000, random_state=1)
        return float(((s["g"] == "c") == s["flag"].astype(bool)).mean())

    with_pairs, without = agreement("auto"), agreement(None)
    assert with_pairs > 0.9
    assert with_pairs > without + 0.1


def test_quantile_edges_follow_the_noisy_quantiles_and_ignore_noise_in_empty_ranges():
    from synthgen.generators.ctgan.encoder import quantile_edges

    rng = np.random.default_rng(0)
    x = rng.normal(30, 3, 20000)  # declared range 0-100, data around 30
    h = np.histogram(x, bins=128, range=(0, 100))[0].astype(float)
    sd = 60.0
    noisy = h + rng.normal(0, sd, 128)
    e = quantile_edges(noisy, 0.0, 100.0, 8, noise_sd=sd)
    assert e[0] == 0.0 and e[-1] == 100.0 and np.all(np.diff(e) > 0)
    truth = np.quantile(x, np.arange(1, 8) / 8)
    np.testing.assert_allclose(e[1:-1], truth, atol=1.0)
    # without the threshold, noise spread over the empty 0-20 and 40-100 drags the edges away from the quantiles
    loose = quantile_edges(np.maximum(noisy, 0), 0.0, 100.0, 8, noise_sd=0.0)
    assert np.abs(loose[1:-1] - truth).max() > 2 * np.abs(e[1:-1] - truth).max()
    # sparse data: fine bins are merged until the threshold keeps most of the mass, edges still inside the data
    small = np.histogram(x[:300], bins=128, range=(0, 100))[0] + rng.normal(0, sd, 128)
    e2 = quantile_edges(small, 0.0, 100.0, 4, noise_sd=sd)
    assert 15 < e2[1] < 45 and len(e2) >= 3
    # too few rows for the noise even in n_bins merged bins: equal-width edges, as if nothing were counted
    # (a dense block of 3000 rows in the first 16 fine bins that a coarser merge would keep, 100 rows on every
    # 8th fine bin elsewhere that it would not: edges read off the block alone would crowd into 0-12.5)
    spiky = np.zeros(128)
    spiky[::8] = 100.0
    spiky[:16] = 3000.0 / 16
    np.testing.assert_allclose(quantile_edges(spiky + rng.normal(0, 200, 128), 0.0, 100.0, 8, noise_sd=200.0),
                               np.linspace(0, 100, 9))


def test_dp_quantile_bins_roundtrip_and_hide_a_lone_extreme_value(tmp_path):
    df, schema = table(3000)
    df.loc[0, "wage"] = 19500.0  # a canary far above everyone else (declared upper 20000)
    m = DPCTGAN(epsilon=2.0, bins="dp-quantile", **TINY).fit(df, schema, random_state=0)
    e = m.edges_["wage"]  # log1p(wage - 50) space
    assert np.all(np.diff(e) > 0) and e[-1] == pytest.approx(np.log1p(20000 - 50))
    assert not np.any((e[1:-1] > np.log1p(5000)))  # no edge anywhere near the canary
    enc = m.encoder_
    codes, offsets = enc.encode(df.iloc[1:200])
    back = enc.decode(codes, offsets)  # offsets are the in-bin positions the generator's tanh outputs model
    np.testing.assert_allclose(back["wage"].to_numpy(), df["wage"].iloc[1:200].to_numpy(), rtol=1e-4)
    m.save(tmp_path / "m")
    loaded = DPCTGAN.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.edges_["wage"], e)
    pd.testing.assert_frame_equal(loaded.sample(40, random_state=2), m.sample(40, random_state=2))
    assert m.privacy_spent_.details["counts"]["bin_edge_histograms"] == 1
    with pytest.raises(ConfigError, match="count_fraction"):
        DPCTGAN(bins="dp-quantile", count_fraction=0, **TINY).fit(df, schema, random_state=0)
    with pytest.raises(ConfigError, match="bins must be"):
        DPCTGAN(bins="quantile", **TINY).fit(df, schema, random_state=0)
