"""DP-CTGAN privacy truthfulness (issue 10): nothing derived from the exact n reaches the spend, noise never comes
from random_state, callbacks get DP outputs only, secure mode is refused before the ledger is charged.

Each test here fails on the pre-round-3 main: there the sample rate was ``batch_size / n`` (a deterministic
function of the exact n), the count noise was drawn from ``random_state``, ``on_epoch`` received the critic's
loss on real rows and ``secure=True`` failed after the counts were computed.
"""
import json

import numpy as np
import pandas as pd
import pytest

from synthgen.exceptions import PrivacyError
from synthgen.generators.ctgan.model import DPCTGAN
from synthgen.generators.ctgan.plan import schedule
from synthgen.privacy.ledger import PrivacyLedger
from synthgen.privacy.noise import unsafe_seeded_noise
from synthgen.schema import BooleanField, CategoricalField, NumericField, Schema

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

TINY = dict(epochs=1, batch_size=32, embedding_dim=8, generator_dim=(16,), discriminator_dim=(16,), n_bins=6,
            verbose=False)


def table(n, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"g": rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.3, 0.1]),
                       "x": rng.random(n), "flag": rng.random(n) < 0.3})
    schema = Schema((CategoricalField("g", ("a", "b", "c"), categories_source="public:test"),
                     NumericField("x", 0, 1, bounds_source="public:test"), BooleanField("flag")))
    return df, schema


def _schedule_of(model):
    d = model.privacy_spent_.details["dpsgd"]
    return d["sample_rate"], d["noise_multiplier"], d["steps"]


def _numbers(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _numbers(v)
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield float(obj)


def test_the_schedule_is_a_function_of_the_noisy_row_count_only_not_of_n(tmp_path):
    df, schema = table(200)
    bigger = pd.concat([df, df.iloc[:1]], ignore_index=True)  # D plus one row: n = 201
    worlds = (200, 200, 200, 201)
    fits = [DPCTGAN(epsilon=3.0, **TINY).fit(df if n == 200 else bigger, schema, random_state=0) for n in worlds]
    for m in fits:
        d = m.privacy_spent_.details
        n_hat = d["row_count"]["value"]
        sched = schedule(m._plan(schema), n_hat)  # recomputed from the plan (public) and n_hat alone
        assert d["dpsgd"]["sample_rate"] == sched.sample_rate and d["dpsgd"]["planned_steps"] == sched.planned_steps
        assert m.rows_estimate_ == d["rows_estimate"]["estimate"]
    # refits of the SAME data draw a fresh row count, hence a different schedule (old main: identical, B / n).
    # (A noisy count can land on any integer, n included, so each claim is about the set of fits, not one fit.)
    assert len({m.privacy_spent_.details["row_count"]["value"] for m in fits[:3]}) > 1
    assert len({_schedule_of(m) for m in fits[:3]}) > 1
    hits = []
    for m, n in zip(fits, worlds):
        m.save(tmp_path / f"m{id(m)}")
        doc = json.loads((tmp_path / f"m{id(m)}" / "manifest.json").read_text())
        assert "n_rows" not in json.dumps(doc)
        hits.append(any(x == pytest.approx(32 / n, rel=1e-12) for x in _numbers(doc)))
    assert not all(hits[:3])  # old main: B / n in every manifest


def test_on_epoch_gets_no_loss_on_real_rows():
    df, schema = table(150)
    seen = []
    DPCTGAN(epsilon=3.0, **dict(TINY, epochs=2)).fit(df, schema, on_epoch=lambda e, eps, losses: seen.append(losses))
    assert len(seen) == 2
    assert all(set(losses) == {"generator"} for losses in seen)  # old main also passed "discriminator"


def test_secure_without_torchcsprng_is_refused_before_the_ledger_or_the_data(tmp_path, monkeypatch):
    from synthgen.generators.ctgan import model as model_mod
    from synthgen.privacy.dpsgd import secure_mode_available

    if secure_mode_available():  # pragma: no cover - not in the main environment
        pytest.skip("torchcsprng is installed: secure mode runs")

    def no_reading(*a, **k):
        raise AssertionError("the data was read")

    monkeypatch.setattr(model_mod, "measure", no_reading)
    df, schema = table(100)
    ledger = PrivacyLedger.create(tmp_path / "l.json", epsilon=5.0, delta=1e-5)
    before = (tmp_path / "l.json").read_text()
    with pytest.raises(PrivacyError, match="torchcsprng"):
        DPCTGAN(epsilon=1.0, secure=True, **TINY).fit(df, schema, ledger=ledger)
    assert ledger.charges() == () and ledger.spent() == (0.0, 0.0)
    assert (tmp_path / "l.json").read_text() == before
    ledger.verify()


def test_same_random_state_gives_fresh_noise_unless_the_test_switch_is_on():
    df, schema = table(300)
    a, b = (DPCTGAN(epsilon=3.0, **TINY).fit(df, schema, random_state=11) for _ in range(2))
    assert a.privacy_spent_.is_dp and b.privacy_spent_.is_dp
    fa, fb = np.concatenate(a.frequencies_), np.concatenate(b.frequencies_)
    assert not np.array_equal(fa, fb)  # old main: the noise came from random_state, identical counts
    with unsafe_seeded_noise(3):
        c = DPCTGAN(epsilon=3.0, **TINY).fit(df, schema, random_state=11)
    with unsafe_seeded_noise(3):
        d = DPCTGAN(epsilon=3.0, **TINY).fit(df, schema, random_state=11)
    np.testing.assert_array_equal(np.concatenate(c.frequencies_), np.concatenate(d.frequencies_))
    pd.testing.assert_frame_equal(c.sample(30, random_state=1), d.sample(30, random_state=1))
    for m in (c, d):
        sp = m.privacy_spent_.to_dict()
        assert sp["guarantee"] == "none" and "test switch" in sp["reason"]
        assert sp["accounted"]["epsilon"] == pytest.approx(3.0)
        json.dumps(sp)
