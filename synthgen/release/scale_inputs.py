"""A release on Dask (``scheduler:`` in the config, ``synthgen run --scheduler``): the training table is read as a
lazy Dask frame, the fit reduces its partitions on the cluster, the release rows are sampled in memory as without
Dask, and the owner's evaluation runs in two parts:

* fidelity from merged statistics over the WHOLE real table (:func:`synthgen.scale.evaluate.fidelity`: per-column
  histograms over the declared bins and the correlation of bin codes, reduced per partition), in the report's
  summary as ``full_table_fidelity``;
* the full evaluation (utility, membership inference, detection, ...) on a seeded sample of the real rows: at most
  :data:`EVAL_SAMPLE_CAP` rows drawn uniformly without replacement with the config's seed, in the summary (and the
  report's meta) as ``evaluation_sample``.

Privacy argument: both are the owner's evaluation (statistics of private rows without noise), written only to
``owner-evaluation/``, never into the release bundle. The sample's size is ``min(cap, n)``: it depends on the exact
row count n only there, like the report's row counts. The release itself (its size, the fit, the gate on the
synthetic rows) is the same as without Dask; nothing here reads rows before the fit has reserved its budget except
the scheduler connection, which reads none. Dask (and numpy) are imported only when a scheduler is given.
"""
from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Any, Callable, Iterator

from ..exceptions import ConfigError

EVAL_SAMPLE_CAP = 50_000


def check_scheduler(value: Any, key: str = "scheduler") -> str | None:
    """``None``, ``"local"`` or an address with a scheme (``tcp://host:8786``); anything else is a ConfigError."""
    if value is None:
        return None
    if not isinstance(value, str) or not (value == "local" or ("://" in value and value.split("://", 1)[1])):
        raise ConfigError(f"{key} must be 'local' (an embedded Dask cluster) or a scheduler address like "
                          f"'tcp://host:8786'; got {value!r}. Fix the value or drop it (then no Dask is used). "
                          "Nothing was fitted and no budget was charged.")
    return value


@contextlib.contextmanager
def cluster_for(scheduler: str | None) -> Iterator[Any]:
    """The Dask client for the block (closed after it), or nothing when ``scheduler`` is None. An unreachable
    scheduler is a ConfigError raised here, before any budget is reserved."""
    if scheduler is None:
        yield None
        return
    from ..scale.cluster import connect

    with connect(check_scheduler(scheduler)) as client:
        yield client


def check_accepts_partitions(prep: Any, option: str) -> None:
    """Refuse, before any charge, a generator that cannot fit a partitioned table (``option`` names the switch)."""
    if not getattr(prep.model, "accepts_partitions", False):
        raise ConfigError(f"Generator {prep.entry.name!r} cannot fit on a partitioned table ({option}). Fix: drop "
                          f"{option} (the table is then read into memory) or use a generator that fits "
                          "partitions (copula, dp-copula, dp-marginal, dp-ctgan). Nothing was fitted and no budget "
                          "was charged.")


def partitioned_inputs(cfg: Any, prep: Any) -> Any:
    """The training table as a lazy Dask frame (only its Parquet footers are read), its declared schema and the
    holdout in memory. A generator that cannot fit partitions is refused here, before the fit charges."""
    from ..io.tables import read_partitioned
    from .inputs import Inputs, check_columns, load_schema, read_table

    check_accepts_partitions(prep, "scheduler/--scheduler")
    if cfg.schema is None:
        raise ConfigError("Table generators need a declared schema: set schema: in the release config.")
    schema = load_schema(cfg.schema)
    frame = read_partitioned(cfg.train)
    check_columns(frame, schema, cfg.train)
    holdout = read_table(cfg.holdout, "Holdout table") if cfg.holdout is not None else None
    return Inputs(frame, schema, holdout)


def _take(part: Any, idx: Any) -> Any:
    return part.iloc[idx]


def sample_rows(frame: Any, seed: int, cap: int = EVAL_SAMPLE_CAP) -> Any:
    """At most ``cap`` rows of the Dask ``frame``, drawn uniformly without replacement with ``seed`` (the same rows
    for the same files and seed, whatever the cluster), in a seeded random order, as one pandas frame."""
    import dask
    import numpy as np
    import pandas as pd

    sizes = np.asarray(frame.map_partitions(len).compute(), dtype=np.int64)
    n = int(sizes.sum())
    rng = np.random.default_rng(seed)
    picked = np.sort(rng.choice(n, size=min(int(cap), n), replace=False))
    cuts = np.concatenate([[0], np.cumsum(sizes)])
    tasks = []
    for i, part in enumerate(frame.to_delayed()):
        idx = picked[(picked >= cuts[i]) & (picked < cuts[i + 1])] - cuts[i]
        if len(idx):
            tasks.append(dask.delayed(_take)(part, idx))
    rows = [r for r in dask.compute(*tasks) if len(r)]
    out = pd.concat(rows, ignore_index=True) if rows else frame._meta.copy()
    return out.iloc[rng.permutation(len(out))].reset_index(drop=True)


def scaled_report(evaluate: Callable[..., Any], inputs: Any, synthetic: Any, *, seed: int,
                  cap: int = EVAL_SAMPLE_CAP, say: Callable[[str], None] = lambda _: None, **kwargs: Any) -> Any:
    """The owner's report for a Dask release: ``evaluate`` (:func:`synthgen.release.pipeline.evaluate`) on a
    seeded sample of at most ``cap`` training rows, its summary extended with the whole table's merged-statistics
    fidelity and a record of the sample.

    ``evaluate``: the in-memory evaluation, called with the sampled inputs.
    ``inputs``: the release's inputs (``train`` a Dask frame).
    ``synthetic``: the synthetic rows: in memory (a release: evaluated whole), or a Dask frame (``synthgen
    evaluate --scheduler``: sampled like the real rows, with ``seed + 1``).
    ``seed``: seeds the sample (and the evaluation, as without Dask).
    ``cap``: the most real rows the full evaluation sees.
    """
    from ..scale.evaluate import fidelity
    from ..scale.frames import is_dask_frame

    say(f"owner's evaluation (private): fidelity from merged statistics of the whole training table; utility, "
        f"privacy attacks and detection on a seeded sample of at most {cap:,} training rows (seed {seed})")
    sample = sample_rows(inputs.train, seed, cap)
    lazy = is_dask_frame(synthetic)
    rows = sample_rows(synthetic, seed + 1, cap) if lazy else synthetic
    report = evaluate(replace(inputs, train=sample), rows, seed=seed, **kwargs)
    record = {"rows": int(len(sample)), "cap": int(cap), "seed": int(seed),
              "method": "uniform without replacement over the training rows (numpy default_rng(seed))",
              "applies_to": "every metric except full_table_fidelity (the whole table, merged statistics)"}
    if lazy:  # a partitioned synthetic table is sampled the same way (seed + 1); synthetic_table records the sample
        record["synthetic_rows"], record["synthetic_seed"] = int(len(rows)), int(seed) + 1
    summary = {**report.summary, "evaluation_sample": record,
               "full_table_fidelity": fidelity(inputs.train, synthetic, inputs.schema)}
    return replace(report, summary=summary, meta={**report.meta, "evaluation_sample": record})
