"""Dask options of ``synthgen fit``, ``sample`` and ``evaluate`` (synthgen.scale): fit on a lazily read Parquet
dataset, sample into a directory of Parquet parts, evaluate a partitioned pair of tables (the owner's report), on
an embedded cluster or an existing scheduler.

Privacy: the same fit as in memory (the partitions are validated by the same rules and reduced to the same
statistics, see :mod:`synthgen.scale.frames`); nothing here prints anything about the data. The
evaluation is the owner's (:mod:`synthgen.release.scale_inputs` says what is sampled).
"""
from __future__ import annotations

from typing import Any

import click

from ..exceptions import ConfigError
from ..release.scale_inputs import cluster_for as cluster  # the one Dask-client block (checks the address first)

scheduler_option = click.option(
    "--scheduler", default=None, metavar="ADDR",
    help="Run on Dask: 'local' starts an embedded cluster, tcp://host:8786 uses a running scheduler. fit then reads "
         "DATA lazily (a Parquet file, directory or glob: one partition per file; generators that fit partitions).")


def partitioned_inputs(prep: Any, data: str, schema_path: str | None) -> Any:
    """The training table as a lazy Dask frame (nothing read yet) with its declared schema."""
    from ..io.tables import read_partitioned
    from ..release import pipeline
    from ..release.scale_inputs import check_accepts_partitions

    check_accepts_partitions(prep, "--scheduler")
    if schema_path is None:
        raise ConfigError("Table generators need a declared schema: pass --schema schema.json.")
    return pipeline.Inputs(read_partitioned(data), pipeline.load_schema(schema_path))


def sample_parts(model: Any, rows: int, out_dir: str, seed: int | None, scheduler: str | None, bars: bool) -> int:
    """Draw ``rows`` rows into ``out_dir/part-*.parquet`` (written atomically as one folder); the number of parts."""
    from ..scale.sample import sample_to_parquet

    with cluster(scheduler):
        return len(sample_to_parquet(model, rows, out_dir, random_state=seed, progress=bars))


def scaled_evaluation(real: str, holdout: str, synthetic: str, schema_path: str, scheduler: str, say: Any,
                      kwargs: dict) -> Any:
    """``synthgen evaluate --scheduler``: both tables read lazily; the report of
    :func:`synthgen.release.scale_inputs.scaled_report` (whole-table fidelity, the rest on seeded samples)."""
    from ..io.tables import read_partitioned
    from ..release import pipeline
    from ..release.scale_inputs import check_scheduler, scaled_report

    check_scheduler(scheduler, "--scheduler")
    schema = pipeline.load_schema(schema_path)
    frames = {}
    for path, what, release in ((real, "--real", False), (synthetic, "--synthetic", True)):
        frames[what] = read_partitioned(path)
        pipeline.check_columns(frames[what], schema, path, release=release)
    inputs = pipeline.Inputs(frames["--real"], schema, pipeline.read_table(holdout, "Holdout table"))
    with cluster(scheduler):
        return scaled_report(pipeline.evaluate, inputs, frames["--synthetic"], say=say, **kwargs)
