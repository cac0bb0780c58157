"""Dask frames as fit input: validation per partition, then reductions that merge on the workers.

:func:`prepare_partitions` (called from ``BaseGenerator._prepare`` before any budget is reserved) validates every
partition against the declared schema with the in-memory rules (the same functions, passed in by the caller), merges
the violations by column and code (their messages hold public schema values only) and raises them all at once; it
returns a :class:`PartitionedTable`. Its :meth:`~PartitionedTable.reduce` maps a statistic over the partitions
(each conformed first: canonical dtypes, declared bounds) and tree-reduces the results with
:func:`~synthgen.scale.stats.merge` on the cluster; only the merged statistic comes back to the client, never rows.
With a distributed client the validation pass also keeps each conformed partition in its worker's memory
(:func:`persist_wanted`), so the fit's later passes neither re-read nor re-conform the input.
The one exception is :meth:`~PartitionedTable.collect`, which brings rows (DP-CTGAN's Poisson subsample,
:mod:`.subsample`) to the client process, which is the data owner's: nothing it holds is released without DP.

The scheduler is the active ``distributed.Client`` if there is one (:func:`synthgen.scale.cluster.connect` makes
one: an embedded ``LocalCluster`` or any scheduler address), else Dask's threaded scheduler in this process. A
failed or lost worker fails the pass with :class:`ClusterError`; the fit then fails as any fit that read rows does
(its budget stays committed; nothing is released).

A lost worker. Dask retries a task whose worker died on another worker (up to its
``distributed.scheduler.allowed-failures``, default 3), and synthgen allows that: every per-partition statistic
is an exact, deterministic function of its partition (integer counts, exact Gram sums), so a retried partition is
the same data read again and gives the same statistic bit for bit; the noise is drawn once, on the client, after
the merged statistic has come back, and the ledger is written only by the client (reserve before the fit, commit
once after it), so a retry neither adds a measurement nor a charge. (A retried partition of DP-CTGAN's Poisson
subsample, :meth:`PartitionedTable.collect`, draws its rows afresh from OS entropy; only the attempt that comes back
is used, so the fit still trains on one Poisson subsample, drawn once per row.) When the retries run out (or the
scheduler is gone) :func:`cluster_error` turns Dask's exception into one :class:`ClusterError` saying what happened
and the fix (never its task keys, which hash the input); the fit fails after reading rows, so its ledger entry is
committed exactly once, and no model is saved.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np

from ..exceptions import DataValidationError, SynthgenError
from .stats import Stats, merge

SPLIT_EVERY = 8  # fan-in of the tree reduction


class ClusterError(SynthgenError, RuntimeError):
    """A Dask pass failed (a worker lost, a task error that is not synthgen's own)."""


def cluster_error(exc: BaseException, what: str, outcome: str) -> ClusterError:
    """Dask's exception ``exc`` from ``what`` (e.g. "The Dask pass 'count_partition'") as a :class:`ClusterError`
    naming what happened and the fix; ``outcome`` says what became of the budget and the outputs. Only the
    exception's type is quoted (a task key hashes its input; a task's own message may quote a value)."""
    import concurrent.futures

    kind = type(exc).__name__
    if kind == "KilledWorker":
        said = ("lost its worker: every worker that ran one of its tasks died (retried up to Dask's "
                "distributed.scheduler.allowed-failures). The usual cause is memory: a nanny kills a worker above "
                "its memory_limit. Fix: give each worker more memory (memory_limit), fewer threads per worker or "
                "smaller partitions (more, smaller Parquet files), then run again")
    elif isinstance(exc, (concurrent.futures.CancelledError, OSError, TimeoutError)):
        said = (f"lost the cluster ({kind}: the scheduler or the client closed, or the connection dropped). "
                "Fix: check that the scheduler is running and reachable, then run again")
    else:
        said = (f"failed: a task raised {kind} on a worker. Fix: check the workers' logs (the input readable, "
                "every Parquet file of the same columns and types), then run again")
    return ClusterError(f"{what} {said}. {outcome}")


def is_dask_frame(obj: Any) -> bool:
    """A dask.dataframe.DataFrame, recognised without importing Dask."""
    return type(obj).__module__.split(".")[0] in ("dask", "dask_expr") and hasattr(obj, "to_delayed") \
        and hasattr(obj, "npartitions")


@dataclass(frozen=True)
class Found:
    """Violations merged across partitions: one per (column, code), counts summed (kept for the owner only)."""

    items: tuple

    def __add__(self, other: "Found") -> "Found":
        out: dict = {}
        for v in self.items + other.items:
            key = (v.column, v.code)
            out[key] = v if key not in out else replace(out[key], count=out[key].count + v.count)
        return Found(tuple(out.values()))


def _check_partition(part: Any, schema: Any, on_violation: str, blocking: Callable, conform: Callable) -> Stats:
    found = [v for v in schema.validate(part).violations if v.code != "empty_table"]
    stop = blocking(found, schema, on_violation)
    n = 0 if stop else len(conform(part, schema))
    return {"rows": np.array([n], dtype=np.int64), "found": Found(tuple(stop))}


def _check_and_keep(part: Any, schema: Any, on_violation: str, blocking: Callable, conform: Callable
                    ) -> tuple[Stats, Any]:
    """:func:`_check_partition` that also returns the conformed partition (kept on its worker for later passes)."""
    found = [v for v in schema.validate(part).violations if v.code != "empty_table"]
    stop = blocking(found, schema, on_violation)
    kept = part.iloc[:0] if stop else conform(part, schema)
    return {"rows": np.array([len(kept)], dtype=np.int64), "found": Found(tuple(stop))}, kept


def _as_is(part: Any, schema: Any) -> Any:
    return part


def persist_wanted() -> bool:
    """Keep conformed partitions in the workers' memory between passes (Dask config ``synthgen.persist``, default
    on with a distributed client): later passes then neither re-read nor re-conform; Dask spills to disk under
    memory pressure."""
    import dask

    return bool(dask.config.get("synthgen.persist", True)) and active_client() is not None


def _validate(table: "PartitionedTable", on_violation: str, blocking: Callable, conform: Callable
              ) -> tuple[Stats, "PartitionedTable"]:
    """The validation pass; with :func:`persist_wanted`, the conformed partitions stay on the workers."""
    import dask

    if not persist_wanted():
        return table.reduce_raw(_check_partition, table.schema, on_violation, blocking, conform), table
    pairs = [dask.delayed(_check_and_keep, nout=2)(p, table.schema, on_violation, blocking, conform)
             for p in table.parts]
    kept: list = []
    stats = table._run(_tree([s for s, _ in pairs]), [s for s, _ in pairs], "_check_partition",
                       keep=[f for _, f in pairs], kept=kept)
    return stats, replace(table, parts=tuple(kept), conform=_as_is)


def prepare_partitions(gen: Any, data: Any, schema: Any, on_violation: str, blocking: Callable,
                       conform: Callable) -> "PartitionedTable":
    """Validate ``data`` partition by partition (``blocking``/``conform``: the in-memory rules) and return it
    as a :class:`PartitionedTable`; every blocking violation of every partition is raised at once."""
    if not getattr(gen, "accepts_partitions", False):
        raise DataValidationError(
            f"{type(gen).__name__} cannot fit a Dask frame yet. Fix: use 'copula', 'dp-copula', 'dp-marginal' or "
            "'dp-ctgan', or pass a pandas DataFrame (e.g. a sample of the frame).")
    hook = getattr(gen, "_plan_partitions", None)  # a generator's extra plan for Dask input (public inputs only)
    table = PartitionedTable(tuple(data.to_delayed()), schema, conform, 0, fit_plan=hook(schema) if hook else None)
    stats, table = _validate(table, on_violation, blocking, conform)
    found = stats["found"].items
    if found:
        from ..schema import ValidationReport

        ValidationReport(tuple(found), int(stats["rows"][0])).raise_if_invalid("training data")
    return replace(table, n_rows=int(stats["rows"][0]))


def _on_conformed(part: Any, schema: Any, conform: Callable, fn: Callable, *args: Any) -> Stats:
    return fn(conform(part, schema), *args)


@dataclass(frozen=True, eq=False)
class PartitionedTable:
    """A validated Dask frame: its (lazy) partitions, the schema they are conformed to, and the exact row count
    after conforming (private: for the generators' own checks only, like ``len`` of an in-memory table)."""

    parts: tuple
    schema: Any
    conform: Callable
    n_rows: int
    progress: bool | None = None
    fit_plan: Any = None  # what the generator's _plan_partitions decided before any budget was reserved

    def __len__(self) -> int:
        return self.n_rows

    def with_progress(self, progress: bool | None) -> "PartitionedTable":
        return self if progress is None else replace(self, progress=bool(progress))

    def reduce(self, fn: Callable[..., Stats], *args: Any) -> Stats:
        """``fn(conformed partition, *args)`` on every partition, tree-merged on the cluster."""
        return self.reduce_raw(_on_conformed, self.schema, self.conform, fn, *args)

    def reduce_raw(self, fn: Callable[..., Stats], *args: Any) -> Stats:
        import dask

        leaves = [dask.delayed(fn)(p, *args) for p in self.parts]
        return self._run(_tree(leaves), leaves, getattr(fn if fn is not _on_conformed else args[2], "__name__",
                                                        "pass"))

    def collect(self, fn: Callable[..., Any], per_part: list, *args: Any) -> Any:
        """``fn(conformed partition i, per_part[i], *args)`` (a DataFrame each), concatenated on the client.
        Unlike :meth:`reduce` this brings ROWS to the client (e.g. a subsample to train on in memory)."""
        import dask

        leaves = [dask.delayed(_on_conformed)(p, self.schema, self.conform, fn, a, *args)
                  for p, a in zip(self.parts, per_part)]
        return self._run(dask.delayed(_concat)(*leaves), leaves, getattr(fn, "__name__", "collect"))

    def _run(self, root: Any, leaves: list, desc: str, keep: list | None = None, kept: list | None = None) -> Any:
        show = sys.stderr.isatty() if self.progress is None else self.progress
        try:
            return _compute(root, leaves, show, desc, keep or [], kept)
        except SynthgenError:
            raise
        except Exception as exc:  # noqa: BLE001 - a worker lost or a task failed: typed, cause chained
            raise cluster_error(exc, f"The Dask pass {desc!r}",
                                "Nothing was released; a ledger reservation made before this pass stays "
                                "committed, once (rows were read).") from exc


def _tree(leaves: list) -> Any:
    """A tree of :func:`~synthgen.scale.stats.merge` over ``leaves`` (fan-in :data:`SPLIT_EVERY`)."""
    import dask

    level = leaves
    while len(level) > 1:
        level = [dask.delayed(merge)(*level[i:i + SPLIT_EVERY]) for i in range(0, len(level), SPLIT_EVERY)]
    return level[0]


def _concat(*frames: Any) -> Any:
    import pandas as pd

    return pd.concat(frames, ignore_index=True)


def active_client() -> Any:
    """The current ``distributed.Client``, or None (then Dask's threaded scheduler runs in this process). Setting
    ``dask.config.set(scheduler="threads")`` (or ``"sync"``) runs here even while a client is open."""
    import dask

    if dask.config.get("scheduler", None) in ("threads", "sync", "synchronous", "single-threaded"):
        return None
    try:
        from distributed import get_client

        return get_client()
    except (ImportError, ValueError):
        return None


def _compute(root: Any, leaves: list, show: bool, desc: str, keep: list, kept: list | None) -> Stats:
    """``root`` computed (a bar over ``leaves``); with a client, ``keep``'s futures (held on the workers) are
    appended to ``kept``."""
    from tqdm.auto import tqdm

    client = active_client()
    bar = tqdm(total=len(leaves), desc=desc, unit="part", file=sys.stderr, disable=not show, leave=False, delay=2)
    try:
        if client is None:
            from dask.callbacks import Callback

            keys = {leaf.key for leaf in leaves}
            with Callback(posttask=lambda key, *a: bar.update(1) if key in keys else None):
                return root.compute(scheduler="threads")
        futures = client.compute([root] + leaves + list(keep))
        try:
            follow(futures[1:1 + len(leaves)], bar)
            out = futures[0].result()
        except BaseException:
            client.cancel(futures)  # a failed pass stops at once: no worker keeps reading for it
            raise
        if kept is not None:
            kept.extend(futures[1 + len(leaves):])
        return out
    finally:
        bar.close()


def follow(futures: list, bar: Any) -> None:
    """Tick ``bar`` as ``futures`` finish; raise the first failure at once (a partition whose retries ran out)
    instead of waiting for the others."""
    from distributed import as_completed

    for f in as_completed(futures):
        if f.status == "error":
            f.result()
        bar.update(1)
