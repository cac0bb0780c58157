"""dp-marginal drops JAX's compiled programs before the process nears Linux's map limit (found in a 25-table sweep:
after ~40 dp-marginal fits in one process LLVM aborted it, "Cannot allocate memory", 65,530 maps in use)."""
import numpy as np
import pytest

pytest.importorskip("mbi")

from synthgen.generators.marginal import model  # noqa: E402


def test_the_caches_are_cleared_only_near_the_limit(monkeypatch):
    import jax

    cleared = []
    monkeypatch.setattr(jax, "clear_caches", lambda: cleared.append(1))
    monkeypatch.setattr(model, "_maps_in_use", lambda: (30_000, 65_530))
    model._room_for_programs()
    assert cleared == []
    monkeypatch.setattr(model, "_maps_in_use", lambda: (40_000, 65_530))
    model._room_for_programs()
    assert cleared == [1]
    monkeypatch.setattr(model, "_maps_in_use", lambda: None)  # not Linux: nothing to read, nothing done
    model._room_for_programs()
    assert cleared == [1]


def test_maps_are_read_from_proc_and_a_cleared_process_still_fits(monkeypatch):
    used = model._maps_in_use()
    if used is None:
        pytest.skip("no /proc here")
    assert 0 < used[0] < used[1]
    from synthgen.generators.marginal.dp import DPMarginal
    from synthgen.schema import CategoricalField, RowBounds, Schema
    import pandas as pd

    rng = np.random.default_rng(0)
    df = pd.DataFrame({c: rng.choice(list("abc"), 400) for c in "xyz"})
    schema = Schema(tuple(CategoricalField(c, list("abc"), categories_source="public:t") for c in "xyz"),
                    rows=RowBounds(max=1000))
    monkeypatch.setattr(model, "MAP_SHARE", 0.0)  # every estimate and sample clears the caches first
    gen = DPMarginal(epsilon=1.0, max_rounds=2, final_iters=20).fit(df, schema, random_state=0)
    assert len(gen.sample(50, random_state=1)) == 50


_FIT = """
import numpy as np, pandas as pd
from synthgen.generators import registry
from synthgen.schema import CategoricalField, NumericField, RowBounds, Schema
rng = np.random.default_rng(0)
df = pd.DataFrame({"a": rng.choice(["x", "y"], 400), "v": rng.normal(5, 1, 400)})
s = Schema((CategoricalField("a", ("x", "y"), categories_source="public:t"),
            NumericField("v", 0, 10, bounds_source="public:t")), rows=RowBounds(max=1000))
registry.get("dp-marginal")(epsilon=1.0, max_rounds=1, final_iters=20).fit(df, s, random_state=0).sample(50)
import jax
print(jax.config.jax_enable_compilation_cache)
"""


@pytest.mark.parametrize("cache", [False, True])
def test_the_persistent_compilation_cache_is_used_only_when_asked_for(tmp_path, cache):
    """SYNTHGEN_JAX_CACHE names a directory: a fresh process then reuses what earlier ones compiled (CPS1988:
    fit 13.3 -> 5-7 s, sampling 2.2-2.7 -> 0.6-0.8 s); unset, nothing is written anywhere."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != model.CACHE_ENV}
    if cache:
        env[model.CACHE_ENV] = str(tmp_path / "jax")
    out = subprocess.run([sys.executable, "-c", _FIT], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == str(cache)
    written = list((tmp_path / "jax").glob("*")) if (tmp_path / "jax").exists() else []
    assert bool(written) is cache
