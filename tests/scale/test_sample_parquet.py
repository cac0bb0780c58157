"""Sampling to partitioned Parquet: the same seed gives the same release whatever the workers or partitions, and a
Parquet directory or glob reads back (in memory, or lazily as a Dask frame that fits)."""
import numpy as np
import pandas as pd
import pytest

pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")

import dask  # noqa: E402

from synthgen.exceptions import InputError  # noqa: E402
from synthgen.generators.copula import DPGaussianCopula  # noqa: E402
from synthgen.io.tables import read_partitioned, read_table  # noqa: E402
from synthgen.scale.cluster import connect  # noqa: E402
from synthgen.scale.sample import plan_blocks, sample_to_parquet  # noqa: E402
from .test_dask_fit import table  # noqa: E402


@pytest.fixture(scope="module")
def fitted():
    df, schema = table(2000)
    return DPGaussianCopula(1.0, 1e-6, condition_on="flag").fit(df, schema, random_state=0), schema


def test_same_seed_same_release_whatever_workers_and_partitions(fitted, tmp_path):
    gen, schema = fitted
    kw = dict(random_state=11, block_rows=400, progress=False)
    with connect("local", n_workers=2, processes=False):
        two = sample_to_parquet(gen, 2300, tmp_path / "a", rows_per_partition=400, **kw)
        wide = sample_to_parquet(gen, 2300, tmp_path / "b", rows_per_partition=1200, **kw)
    with dask.config.set(scheduler="threads"):
        local = sample_to_parquet(gen, 2300, tmp_path / "c", rows_per_partition=800, **kw)
    assert (len(two), len(wide), len(local)) == (6, 2, 3)
    a, b, c = (read_table(tmp_path / d) for d in "abc")
    assert len(a) == 2300 and schema.validate(a, release=True).ok
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)
    other = read_table(sample_to_parquet(gen, 2300, tmp_path / "d", rows_per_partition=800,
                                         **{**kw, "random_state": 12})[0])
    assert not other["wage"].equals(a["wage"].iloc[:len(other)])
    # the files read back lazily, as a glob, and fit
    ddf = read_partitioned(str(tmp_path / "a" / "part-*.parquet"))
    assert ddf.npartitions == 6
    refit = DPGaussianCopula(1.0, 1e-6).fit(ddf, schema, random_state=0, progress=False)
    assert refit.rows_estimate_ == pytest.approx(2300, rel=0.2)


def test_blocks_and_refusals(fitted, tmp_path):
    assert plan_blocks(10, 4, 8) == [[4, 4], [2]]
    assert plan_blocks(10, 4, 1) == [[4], [4], [2]]
    gen, _ = fitted
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("keep")
    with pytest.raises(InputError, match="not an empty directory"):
        sample_to_parquet(gen, 10, tmp_path / "full")
    assert (tmp_path / "full" / "x.txt").read_text() == "keep"
    with pytest.raises(InputError, match="No Parquet files"):
        read_table(tmp_path / "full")
    assert not list(tmp_path.glob(".*tmp-*"))


def test_chunked_in_memory_sample_is_reproducible(fitted, monkeypatch):
    from synthgen.generators.copula import base as copula_base

    gen, schema = fitted
    monkeypatch.setattr(copula_base, "SAMPLE_CHUNK", 300)
    a = gen.sample(1000, random_state=3, progress=False)
    b = gen.sample(1000, random_state=3)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 1000 and schema.validate(a, release=True).ok
    assert np.isfinite(a["wage"]).all()
