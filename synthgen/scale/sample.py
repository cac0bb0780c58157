"""Sampling to partitioned Parquet in parallel, reproducibly.

A fitted model is post-processing: sampling reads no private row and costs no budget. The release is cut into
fixed blocks of ``block_rows`` rows; block ``i`` is drawn from child ``i`` of one ``SeedSequence(random_state)``, and
partitions are whole runs of blocks. So the same seed (and ``block_rows``) gives the same release, row for row,
whatever the number of workers or of partitions. Files are written into a temporary directory that is renamed into
place only when every partition is written (nothing half-written is ever at ``path``).
"""
from __future__ import annotations

import math
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ConfigError, InputError
from .frames import active_client, cluster_error, follow

BLOCK_ROWS = 1 << 18


def _seed_sequence(random_state: Any) -> np.random.SeedSequence:
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if random_state is None:
        return np.random.SeedSequence()
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)) or random_state < 0:
        raise ConfigError(f"random_state must be None, a non-negative int or a SeedSequence; got {random_state!r}.")
    return np.random.SeedSequence(int(random_state))


def _write_partition(gen: Any, sizes: list[int], seeds: list, path: str) -> int:
    frames = [gen.sample(int(m), random_state=np.random.default_rng(s), progress=False) for m, s in zip(sizes, seeds)]
    df = pd.concat(frames, ignore_index=True)
    df.attrs = dict(frames[0].attrs)
    df.to_parquet(path, index=False)
    return len(df)


def plan_blocks(n: int, block_rows: int, rows_per_partition: int) -> list[list[int]]:
    """Block sizes of each partition: ``n`` rows in blocks of ``block_rows`` (the last one shorter), grouped into
    partitions of ``max(1, rows_per_partition // block_rows)`` blocks. A public function of public numbers."""
    n_blocks = math.ceil(n / block_rows)
    sizes = [block_rows] * (n_blocks - 1) + [n - block_rows * (n_blocks - 1)]
    per = max(1, int(rows_per_partition) // block_rows)
    return [sizes[i:i + per] for i in range(0, n_blocks, per)]


def _check(n: Any, block_rows: Any, rows_per_partition: Any, out: Path) -> None:
    for name, v in (("n", n), ("block_rows", block_rows), ("rows_per_partition", rows_per_partition)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ConfigError(f"{name} must be a positive whole number; got {v!r}.")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out} exists and is not an empty directory. Fix: choose a new output directory.")


def sample_to_parquet(gen: Any, n: int, path: str | Path, *, random_state: Any = None, block_rows: int = BLOCK_ROWS,
                      rows_per_partition: int = 4 * BLOCK_ROWS, progress: bool | None = None) -> list[Path]:
    """Draw ``n`` rows from the fitted ``gen`` into ``path/part-00000.parquet``, ... on the active Dask client (or
    threads in this process); returns the files in order. See the module docstring for the seeding."""
    import dask
    from tqdm.auto import tqdm

    gen._check_fitted()
    out = Path(path)
    _check(n, block_rows, rows_per_partition, out)
    groups = plan_blocks(int(n), int(block_rows), int(rows_per_partition))
    children = iter(_seed_sequence(random_state).spawn(sum(len(g) for g in groups)))
    tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    names = [f"part-{i:05d}.parquet" for i in range(len(groups))]
    tasks = [dask.delayed(_write_partition)(gen, g, [next(children) for _ in g], str(tmp / name))
             for g, name in zip(groups, names)]
    show = sys.stderr.isatty() if progress is None else bool(progress)
    try:
        with tqdm(total=len(tasks), desc="sample", unit="part", disable=not show, leave=False, delay=2) as bar:
            _run(tasks, bar)
        if out.exists():
            out.rmdir()
        tmp.rename(out)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, Exception) and not isinstance(exc, (ConfigError, InputError)):
            raise cluster_error(exc, f"Sampling to {out}", "Nothing was written there (a retried partition "
                                "rewrites the same rows: its seed is fixed).") from exc
        raise
    return [out / name for name in names]


def _run(tasks: list, bar: Any) -> None:
    client = active_client()
    if client is None:
        from dask.callbacks import Callback

        keys = {t.key for t in tasks}
        with Callback(posttask=lambda key, *a: bar.update(1) if key in keys else None):
            import dask

            dask.compute(*tasks, scheduler="threads")
        return
    futures = client.compute(tasks)
    try:
        follow(futures, bar)
    except BaseException:
        client.cancel(futures)
        raise
