"""Where Dask work runs: an embedded ``LocalCluster`` (the default) or an existing scheduler.

Nothing here reads data. :func:`connect` returns a ``distributed.Client``; while it is open (it is the default
client), fits on Dask frames reduce their partitions on its workers and :func:`~synthgen.scale.sample.sample_to_parquet`
writes its partitions there. Memory per worker: a fit keeps its share of the conformed table between passes (about
``rows x columns x 8`` bytes; Dask spills it to disk under memory pressure; ``dask.config.set({"synthgen.persist":
False})`` re-reads instead) and works on one partition (plus its normal scores: about ``rows x (columns + latent
dimensions) x 8`` bytes) at a time per thread; size partitions accordingly.
"""
from __future__ import annotations

from typing import Any

from ..exceptions import ConfigError


def connect(scheduler: str | None = "local", *, n_workers: int = 2, threads_per_worker: int = 1,
            memory_limit: str = "3GB", processes: bool = True) -> Any:
    """A ``distributed.Client``: ``"local"`` (or None) starts an embedded ``LocalCluster`` closed with the client;
    an address (``tcp://host:8786``, ``tls://...``) connects to a running scheduler.

    ``n_workers``, ``threads_per_worker``, ``memory_limit``, ``processes``: the LocalCluster's settings only.
    """
    try:
        from distributed import Client
    except ImportError as exc:
        raise ConfigError("Dask is not installed. Fix: pip install 'synthgen[dask]'.") from exc
    if scheduler in (None, "local"):
        for name, v in (("n_workers", n_workers), ("threads_per_worker", threads_per_worker)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"{name} must be a positive integer; got {v!r}.")
        return Client(n_workers=n_workers, threads_per_worker=threads_per_worker, memory_limit=memory_limit,
                      processes=processes, dashboard_address=None)
    if not isinstance(scheduler, str) or "://" not in scheduler:
        raise ConfigError(f"scheduler must be 'local' or an address like 'tcp://host:8786'; got {scheduler!r}.")
    try:
        return Client(scheduler, timeout="30s")
    except OSError as exc:
        raise ConfigError(f"Could not reach the Dask scheduler at {scheduler}: {type(exc).__name__}. "
                          "Fix: check the address and that the scheduler is running.") from exc
