"""dp-marginal on a Dask frame (2-worker LocalCluster): a merged pass of fine histograms (DP bin edges), one merged
pass of exact marginals, then the in-memory loop.

Same data, same (test-only, seeded) noise: the Dask fit releases exactly the noisy measurements of the in-memory fit,
because both build the private holder from the same exact per-partition bincounts (synthgen.scale.marginals)."""
import numpy as np
import pytest

pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")

from synthgen.generators.marginal.dp import DPMarginal  # noqa: E402
from synthgen.privacy.noise import unsafe_seeded_noise  # noqa: E402
from synthgen.scale.frames import PartitionedTable  # noqa: E402

from .test_dask_fit import client, table, uneven  # noqa: E402,F401

FAST = {"max_rounds": 1, "max_cliques": 2, "round_iters": 30, "final_iters": 60, "n_bins": 8}
# heaps (exact heaped values) are counted in memory only: a Dask fit plans none, so the in-memory twin here has them
# off to release the same statistics (test_a_dask_fit_plans_no_heaps checks the Dask side)


def _fit(data, schema, seed, heaps=False):
    gen = DPMarginal(1.0, 1e-6, heaps=heaps, **FAST)
    with unsafe_seeded_noise(seed):
        gen.fit(data, schema, random_state=0)
    return gen


def _released(gen):
    return [(m.clique, m.sigma, m.values) for m in gen.measurements_]


def test_dp_marginal_dask_fit_releases_identical_noisy_measurements(client, monkeypatch):  # noqa: F811
    df, schema = table(2000)
    passes = []
    real = PartitionedTable.reduce
    monkeypatch.setattr(PartitionedTable, "reduce", lambda self, fn, *a: passes.append(fn.__name__) or
                        real(self, fn, *a))
    big = _fit(uneven(df, (1, 700, 0, 1296, 3)), schema, 7)
    # bins="dp-quantile" (the default): the fine histograms' pass (the model bins are read off their release),
    # then every round's marginals from one pass over the partitions
    assert passes == ["marginals_partition", "marginals_partition"]
    mem = _fit(df, schema, 7)
    a, b = _released(mem), _released(big)
    assert len(a) == len(b) > len(schema.learnable)  # the one-ways and at least one selected clique
    for (ca, sa, va), (cb, sb, vb) in zip(a, b):
        assert ca == cb and sa == sb and np.array_equal(va, vb), ca
    assert mem.rows_estimate_ == big.rows_estimate_
    assert mem.privacy_spent_.to_dict() == big.privacy_spent_.to_dict()
    # other noise, other release: the comparison can fail
    other = _released(_fit(df, schema, 8))
    assert not np.array_equal(other[0][2], a[0][2])


def test_a_dask_fit_plans_no_heaps(client):  # noqa: F811
    df, schema = table(2000)
    big, mem = (DPMarginal(1.0, 1e-6, **FAST).fit(t, schema, random_state=0)
                for t in (uneven(df, (1, 700, 0, 1296, 3)), df))  # fresh noise: a DP fit, with its spend details
    assert not any(c.heaps for c in big.codecs_) and "heaps" not in big.privacy_spent_.details["rho_split"]
    assert "heaps" in mem.privacy_spent_.details["rho_split"]
