"""Exact marginals merged over partitions equal dp-marginal's own exact counts of the whole table."""
import numpy as np
import pytest

pytest.importorskip("dask.dataframe")

from synthgen.generators.base import conform_rows  # noqa: E402
from synthgen.generators.marginal.domain import encode_table  # noqa: E402
from synthgen.generators.marginal.dp import DPMarginal  # noqa: E402
from synthgen.generators.marginal.private import PrivateMarginals  # noqa: E402
from synthgen.scale.frames import PartitionedTable  # noqa: E402
from synthgen.scale.marginals import exact_marginals  # noqa: E402

from .test_dask_fit import table, uneven  # noqa: E402


def test_partitioned_marginals_equal_the_private_holders_counts():
    import dask

    df, schema = table(2000)
    gen = DPMarginal(1.0, 1e-6)
    plan = gen._plan(schema)
    prepared = gen._prepare(df, schema, "raise")
    cliques = [()] + [(n,) for n in plan.names] + list(plan.candidates)
    assert any(len(c) >= 2 for c in cliques)
    holder = PrivateMarginals(encode_table(prepared, plan.codecs), plan.names, plan.sizes, np.random.default_rng(0))
    with dask.config.set(scheduler="threads"):
        parts = PartitionedTable(tuple(uneven(df, (700, 0, 1299, 1)).to_delayed()), schema, conform_rows, 2000)
        got = exact_marginals(parts, plan.codecs, cliques)
    mem = exact_marginals(prepared, plan.codecs, cliques)
    for c in cliques:
        assert np.array_equal(got[c], holder._true(c)), c
        assert np.array_equal(mem[c], got[c]), c
