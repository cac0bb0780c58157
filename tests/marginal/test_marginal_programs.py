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
