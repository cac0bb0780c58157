"""DP-CTGAN on a Dask frame: a Poisson subsample drawn once from OS entropy, trained on in memory, accounted by
amplification by subsampling ((eps0, delta0) -> (log(1 + q(e^eps0 - 1)), q delta0)); q from declared bounds only."""
import json
import math
from dataclasses import replace

import pytest

pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")

from synthgen.exceptions import ConfigError  # noqa: E402
from synthgen.generators.base import conform_rows  # noqa: E402
from synthgen.generators.ctgan.model import DPCTGAN  # noqa: E402
from synthgen.privacy import PrivacyLedger  # noqa: E402
from synthgen.privacy.analysis.subsampling import amplified_epsilon, inner_target  # noqa: E402
from synthgen.privacy.noise import unsafe_seeded_noise  # noqa: E402
from synthgen.scale import subsample as subsample_module  # noqa: E402
from synthgen.scale.frames import PartitionedTable  # noqa: E402
from synthgen.schema.fields import RowBounds  # noqa: E402

from .test_dask_fit import client, table, uneven  # noqa: E402,F401

FAST = dict(DPCTGAN.contract_params, epochs=1)


def test_amplification_formula_and_inverse():
    for eps, q in ((1.0, 0.25), (0.3, 0.01), (4.0, 1e-4), (2.0, 1.0)):
        eps0, d0 = inner_target(eps, 1e-6, q)
        assert amplified_epsilon(eps0, q) <= eps and amplified_epsilon(eps0, q) == pytest.approx(eps, rel=1e-12)
        assert eps0 == pytest.approx(math.log1p(math.expm1(eps) / q), rel=1e-12) and q * d0 <= 1e-6
    assert amplified_epsilon(1.0, 0.1) == pytest.approx(math.log(1 + 0.1 * (math.e - 1)))


def _numbers(obj):
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in _numbers(v)]
    if isinstance(obj, (list, tuple)):
        return [x for v in obj for x in _numbers(v)]
    return [float(obj)] if isinstance(obj, (int, float)) and not isinstance(obj, bool) else []


def test_dask_fit_spend_is_the_amplified_guarantee_and_hides_the_subsample_size(client, monkeypatch):  # noqa: F811
    df, schema = table(3000)
    schema = replace(schema, rows=RowBounds(1000, 4000))
    sizes = []
    real = subsample_module.draw_subsample
    monkeypatch.setattr(subsample_module, "draw_subsample", lambda t, q: _record(sizes, real(t, q)))
    gen = DPCTGAN(1.0, 1e-6, subsample_rows=1000, **FAST).fit(uneven(df), schema, random_state=0)
    q = 1000 / 4000
    spent, sub = gen.privacy_spent_, gen.privacy_spent_.details["subsampling"]
    assert spent.is_dp and sub["rate"] == q
    assert spent.epsilon == amplified_epsilon(sub["inner_epsilon"], q) and spent.delta == q * sub["inner_delta"]
    eps0, delta0 = inner_target(1.0, 1e-6, q)
    assert sub["inner_epsilon"] == pytest.approx(eps0, rel=1e-9) and sub["inner_epsilon"] > 2.0  # eps0 >> eps
    assert spent.epsilon == pytest.approx(1.0, rel=1e-9) and spent.epsilon <= 1.0 + 1e-12
    assert sub["inner_delta"] == pytest.approx(delta0) and spent.delta <= 1e-6
    n_sub = sizes[-1]
    assert 500 < n_sub < 1000  # about q * 3000 rows were trained on
    state, _ = gen._get_state()
    released = _numbers(spent.to_dict()) + _numbers(json.loads(json.dumps(state, default=str))) + \
        _numbers(gen.get_params()) + [gen.rows_estimate_]
    assert float(n_sub) not in released and 3000.0 not in released
    assert len(gen.sample(20, random_state=0)) == 20


def _record(sizes, sub):
    sizes.append(len(sub))
    return sub


def test_subsample_draw_is_privacy_noise_not_a_seed():
    import dask

    df, schema = table(4000)
    parts = PartitionedTable(tuple(uneven(df, (1000, 0, 3000)).to_delayed()), schema, conform_rows, 4000)
    with dask.config.set(scheduler="threads"):
        a, b = (subsample_module.draw_subsample(parts, 0.3) for _ in range(2))
        with unsafe_seeded_noise(5):
            c = subsample_module.draw_subsample(parts, 0.3)
        with unsafe_seeded_noise(5):
            d = subsample_module.draw_subsample(parts, 0.3)
    assert abs(len(a) - 1200) < 6 * math.sqrt(4000 * 0.3 * 0.7)
    assert not (len(a) == len(b) and a.equals(b))  # OS entropy: a fresh subsample each time
    assert c.equals(d) and list(c.columns) == [f.name for f in schema.learnable]


def test_dask_fit_without_declared_row_bound_refused_before_budget(client, tmp_path):  # noqa: F811
    import dask.dataframe as dd

    df, schema = table(600)
    ledger = PrivacyLedger.create(tmp_path / "l.json", epsilon=2.0, delta=1e-5, dataset="t")
    with pytest.raises(ConfigError, match="rows.max"):
        DPCTGAN(1.0, 1e-6, **FAST).fit(dd.from_pandas(df, npartitions=2), schema, ledger=ledger)
    assert ledger.spent() == (0.0, 0.0)
