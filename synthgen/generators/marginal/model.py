"""The fitted graphical model of dp-marginal, on mbi: estimation from noisy marginals, sampling, persistence.

Everything here sees only noisy measurements (:class:`~.private.Measurement`) or a model estimated from them, so
it is post-processing with no privacy cost. mbi (and JAX) is imported lazily through :func:`mbi_module`, which first
switches JAX to float64 (mbi warns that float32 stalls its estimators on large tables) and leaves JAX's persistent
compilation cache off (mbi compiles many small programs, so a sweep of distinct models pays ~20 % to write them)
unless ``SYNTHGEN_JAX_CACHE`` names a directory: then a fresh process reuses what earlier ones compiled (a
pipeline that fits one table nightly, or samples a saved model again: CPS1988 in a fresh process, fit 13.3 s ->
5.2-7.1 s, sampling 2.2-2.7 s -> 0.6-0.8 s). A cached program depends on the domain sizes (public) and the
cliques the DP selection chose, never on rows; ``import synthgen`` never loads JAX.

A :class:`FittedModel` holds the model's cliques, log-potentials and clique marginals as numpy arrays plus the
total; it rebuilds an ``mbi.MarkovRandomField`` to sample. Sampling is mbi's ``synthetic_data`` (randomized
rounding along the junction tree); conditions on column values enter as evidence, an ``mbi.Constraint`` that puts
``-inf`` on the other values of the column (Shafer-Shenoy message passing), not as rejection. mbi draws from
numpy's global generator, so :func:`_global_seed` seeds it from ``random_state`` for the call and restores it after
(not thread-safe across concurrent samplers of one process). Saved state: JSON (cliques, total) plus arrays; no
pickle (mbi's own ``save`` pickles a PyTreeDef, so it is not used).

JAX keeps every compiled program for the life of the process, each holding memory maps; a fit compiles a few
dozen (every new set of cliques is a new program), so a process that fits many models (a benchmark, a sweep, a
service) reached Linux's ``vm.max_map_count`` (65,530 maps, ~40 fits of 6-12 columns) and LLVM aborted the whole
process ("Cannot allocate memory"). :func:`_room_for_programs` drops JAX's caches before an estimate or a sample
whenever the process holds more than ``MAP_SHARE`` of that limit (a later fit of the same structure recompiles).
"""
from __future__ import annotations

import contextlib
import gc
import os
import warnings
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from .coarse import CoarseQuery

Clique = tuple[str, ...]
_MBI: Any = None
#: Environment variable naming a directory for JAX's persistent compilation cache (unset or empty: no cache).
CACHE_ENV = "SYNTHGEN_JAX_CACHE"
CACHE_MAX_BYTES = 512 * 2**20  # the cache evicts its least recently used programs beyond this


def mbi_module() -> Any:
    """mbi, imported once with JAX in float64 (and the persistent compilation cache only if asked for)."""
    global _MBI
    if _MBI is None:
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
        import jax

        jax.config.update("jax_enable_x64", True)
        cache = os.environ.get(CACHE_ENV, "").strip()
        jax.config.update("jax_enable_compilation_cache", bool(cache))
        if cache:
            jax.config.update("jax_compilation_cache_dir", os.path.expanduser(cache))
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)  # mbi's programs compile fast
            jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
            jax.config.update("jax_compilation_cache_max_size", CACHE_MAX_BYTES)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import mbi
            import mbi.estimation  # noqa: F401
        _MBI = mbi
    return _MBI


MAP_SHARE = 0.5  # drop JAX's compiled programs once the process holds this share of vm.max_map_count


def _maps_in_use() -> tuple[int, int] | None:
    """(memory maps this process holds, the kernel's per-process limit); None where /proc cannot tell (not Linux)."""
    try:
        with open("/proc/sys/vm/max_map_count", "rb") as f:
            limit = int(f.read())
        with open("/proc/self/maps", "rb") as f:
            return sum(1 for _ in f), limit
    except (OSError, ValueError):
        return None


def _room_for_programs() -> None:
    """Clear JAX's caches of compiled programs when the process nears the kernel's map limit (module docstring)."""
    used = _maps_in_use()
    if used is not None and used[0] > MAP_SHARE * used[1]:
        import jax

        jax.clear_caches()
        gc.collect()


def mbi_domain(names: Sequence[str], sizes: Sequence[int]) -> Any:
    return mbi_module().Domain(tuple(names), tuple(int(s) for s in sizes))


def model_size_mb(names: Sequence[str], sizes: Sequence[int], cliques: Sequence[Clique]) -> float:
    """mbi's size of the junction tree the cliques imply (megabytes of float64 parameters)."""
    junction_tree = mbi_module().junction_tree
    return float(junction_tree.hypothetical_model_size(mbi_domain(names, sizes), list(cliques)))


@contextlib.contextmanager
def _light_compile(on: bool) -> Iterator[None]:
    """JAX's ``jax_disable_most_optimizations`` for the block (restored after): XLA then spends far less time
    compiling each new program, and the program runs slower. A flag read at compile time (not part of JIT's cache
    key), process-wide for the block like :func:`_global_seed`."""
    if not on:
        yield
        return
    import jax

    before = bool(jax.config.read("jax_disable_most_optimizations"))
    jax.config.update("jax_disable_most_optimizations", True)
    try:
        yield
    finally:
        jax.config.update("jax_disable_most_optimizations", before)


def estimate(names: Sequence[str], sizes: Sequence[int], measurements: Sequence[Any], total: float, iters: int,
             warm: "FittedModel | None" = None, tol: float | None = None, light: bool = False) -> "FittedModel":
    """Mirror descent (mbi, Armijo steps) on the L2 loss of the noisy measurements, warm-started from ``warm``;
    with ``tol``, at most ``iters`` steps, stopping once two blocks of 50 improve the loss by at most ``tol``
    (relative): the loss is of the noisy measurements only, so the stop is post-processing. ``light`` compiles
    with XLA's optimizations mostly off (:func:`_light_compile`): for the short intermediate estimates, whose time
    is compilation (65 columns: ~40 s to compile each new model, 0.9 s to run 100 iterations)."""
    mbi = mbi_module()
    domain = mbi_domain(names, sizes)
    pos = {a: i for i, a in enumerate(names)}
    # One order for a given set of cliques: the compiled program is cached by structure, order included.
    ordered = sorted(measurements, key=lambda m: (len(m.clique), [pos[a] for a in m.clique],
                                                  bool(getattr(m, "maps", ()))))
    lin = [mbi.LinearMeasurement(np.asarray(m.values, dtype=np.float64), tuple(m.clique), stddev=float(m.sigma),
                                 **({"query": CoarseQuery(m.maps)} if getattr(m, "maps", ()) else {}))
           for m in ordered]
    start = None if warm is None else warm.to_mrf().potentials
    _room_for_programs()
    with _light_compile(light):
        mrf = mbi.estimation.MirrorDescent().estimate(domain, lin, known_total=float(total), iters=int(iters),
                                                      warm_start=start, tol=tol)
    return FittedModel.from_mrf(names, sizes, mrf)


@contextlib.contextmanager
def _global_seed(rng: np.random.Generator) -> Iterator[None]:
    """numpy's global RNG seeded from ``rng`` for the block, then restored: mbi's row sampler draws from the global
    RNG and takes no generator. Sampling only (post-processing of the fitted model), never privacy noise."""
    state = np.random.get_state()
    np.random.seed(int(rng.integers(0, 2**32 - 1)))
    try:
        yield
    finally:
        np.random.set_state(state)


class FittedModel:
    """A fitted MRF as numpy arrays (see the module docstring)."""

    def __init__(self, names: Sequence[str], sizes: Sequence[int], potentials: Mapping[Clique, np.ndarray],
                 beliefs: Mapping[Clique, np.ndarray], total: float):
        self.names, self.sizes = tuple(names), tuple(int(s) for s in sizes)
        self.potentials = {tuple(c): np.asarray(v, dtype=np.float64) for c, v in potentials.items()}
        self.beliefs = {tuple(c): np.asarray(v, dtype=np.float64) for c, v in beliefs.items()}
        self.total = float(total)

    @property
    def cliques(self) -> list[Clique]:
        return list(self.potentials)

    @property
    def size_of(self) -> dict[str, int]:
        return dict(zip(self.names, self.sizes))

    @classmethod
    def from_mrf(cls, names: Sequence[str], sizes: Sequence[int], mrf: Any) -> "FittedModel":
        pots = {tuple(f.domain.attributes): np.asarray(f.values) for f in mrf.potentials.tables.values()}
        bel = {tuple(f.domain.attributes): np.asarray(f.values) for f in mrf.marginals.tables.values()}
        return cls(names, sizes, pots, bel, float(mrf.total))

    def to_mrf(self, constraints: tuple = ()) -> Any:
        mbi = mbi_module()
        import jax.numpy as jnp

        domain = mbi_domain(self.names, self.sizes)

        def vector(arrays: Mapping[Clique, np.ndarray]) -> Any:
            tables = {c: mbi.Factor(domain.project(c), jnp.asarray(v)) for c, v in arrays.items()}
            return mbi.CliqueVector(domain, list(arrays), tables)

        return mbi.MarkovRandomField(potentials=vector(self.potentials), marginals=vector(self.beliefs),
                                     total=self.total, constraints=constraints)

    def sample_codes(self, n: int, rng: np.random.Generator, evidence: Mapping[str, Sequence[int]] | None = None
                     ) -> dict[str, np.ndarray]:
        """``n`` rows of cell codes; ``evidence`` maps a column to the codes it may take (a model constraint)."""
        mbi = mbi_module()
        _room_for_programs()
        domain = mbi_domain(self.names, self.sizes)
        constraints = tuple(mbi.Constraint(domain.project([col]), valid=np.asarray(codes, dtype=np.int64)[:, None])
                            for col, codes in (evidence or {}).items())
        with _global_seed(rng):
            data = self.to_mrf(constraints).synthetic_data(int(n))
        cols = data.to_dict()
        return {a: np.asarray(cols[a], dtype=np.int64) for a in self.names}

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        arrays: dict[str, np.ndarray] = {}
        for i, v in enumerate(self.potentials.values()):
            arrays[f"potential{i}"] = v
        for i, v in enumerate(self.beliefs.values()):
            arrays[f"belief{i}"] = v
        return ({"names": list(self.names), "sizes": list(self.sizes), "total": self.total,
                 "potential_cliques": [list(c) for c in self.potentials],
                 "belief_cliques": [list(c) for c in self.beliefs]}, arrays)

    @classmethod
    def from_state(cls, js: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> "FittedModel":
        pots = {tuple(c): np.asarray(arrays[f"potential{i}"]) for i, c in enumerate(js["potential_cliques"])}
        bel = {tuple(c): np.asarray(arrays[f"belief{i}"]) for i, c in enumerate(js["belief_cliques"])}
        return cls(js["names"], js["sizes"], pots, bel, float(js["total"]))

