"""Dask options of ``synthgen fit`` and ``sample`` (synthgen.scale): fit on a lazily read Parquet dataset, sample
into a directory of Parquet parts, on an embedded cluster or an existing scheduler.

Privacy: the same fit as in memory (the partitions are validated by the same rules and reduced to the same
statistics, see :mod:`synthgen.scale.frames`); nothing here prints anything about the data.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import click

from ..exceptions import ConfigError

scheduler_option = click.option(
    "--scheduler", default=None, metavar="ADDR",
    help="Run on Dask: 'local' starts an embedded cluster, tcp://host:8786 uses a running scheduler. fit then reads "
         "DATA lazily (a Parquet file, directory or glob: one partition per file; generators that fit partitions).")


@contextlib.contextmanager
def cluster(scheduler: str | None) -> Iterator[Any]:
    """The Dask client for the block (closed after it), or nothing when ``scheduler`` is None."""
    if scheduler is None:
        yield None
        return
    from ..scale.cluster import connect

    with connect(scheduler) as client:
        yield client


def partitioned_inputs(prep: Any, data: str, schema_path: str | None) -> Any:
    """The training table as a lazy Dask frame (nothing read yet) with its declared schema."""
    from ..io.tables import read_partitioned
    from ..release import pipeline

    if not getattr(prep.model, "accepts_partitions", False):
        raise ConfigError(f"Generator {prep.entry.name!r} cannot fit on a partitioned table (--scheduler). Fix: "
                          "drop --scheduler (the table is then read into memory) or use a generator that fits "
                          "partitions (e.g. copula, dp-copula).")
    if schema_path is None:
        raise ConfigError("Table generators need a declared schema: pass --schema schema.json.")
    return pipeline.Inputs(read_partitioned(data), pipeline.load_schema(schema_path))


def sample_parts(model: Any, rows: int, out_dir: str, seed: int | None, scheduler: str | None, bars: bool) -> int:
    """Draw ``rows`` rows into ``out_dir/part-*.parquet`` (written atomically as one folder); the number of parts."""
    from ..scale.sample import sample_to_parquet

    with cluster(scheduler):
        return len(sample_to_parquet(model, rows, out_dir, random_state=seed, progress=bars))
