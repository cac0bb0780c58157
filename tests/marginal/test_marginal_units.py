"""dp-marginal's pieces without JAX: the domain from the declared schema, the private holder's mechanisms, the
numpy inference used by the selection step."""
import itertools
import math

import numpy as np
import pandas as pd
import pytest

from synthgen.generators.marginal.domain import decode_table, encode_table, make_domain
from synthgen.generators.marginal.inference import independent_marginals, many_marginals, marginal
from synthgen.generators.marginal.private import PrivateMarginals
from synthgen.privacy.analysis import gaussian_sigma
from synthgen.privacy.noise import privacy_noise
from synthgen.testing.contract import contract_table


def test_domain_comes_from_the_declared_schema_only():
    df, schema = contract_table()
    codecs = make_domain(schema, n_bins=16, max_discrete=64)
    by = {c.name: c for c in codecs}
    assert [c.name for c in codecs] == [f.name for f in schema.learnable]
    assert by["x"].scale == "linear" and by["x"].grid[0] == 0 and by["x"].grid[-1] == 1000 and by["x"].size == 16
    assert by["group"].size == 4 and by["flag"].size == 2
    assert by["count"].nullable and by["count"].size == 16 + 1  # 101 integers > max_discrete: binned, plus null
    assert by["day"].scale == "linear"  # 366 dates > max_discrete
    # The data never enter: a table of other values gives the same domain, and a value outside the observed data
    # but inside the declared bounds is representable.
    other = df.assign(x=df["x"] * 0 + 999.0)
    assert make_domain(schema, 16, 64) == codecs
    codes = encode_table(other, codecs)
    assert (codes[:, 0] == 15).all()
    back = decode_table({c.name: codes[:, i] for i, c in enumerate(codecs)}, codecs, np.random.default_rng(0))
    assert ((back["x"] >= 937.5) & (back["x"] <= 1000)).all()


def test_encode_decode_every_kind():
    df, schema = contract_table(n=50)
    codecs = make_domain(schema, n_bins=8, max_discrete=400)  # dates now one cell per day
    codes = encode_table(df, codecs)
    back = decode_table({c.name: codes[:, i] for i, c in enumerate(codecs)}, codecs, np.random.default_rng(0))
    assert (back["group"] == df["group"]).all() and (back["flag"] == df["flag"]).all()
    assert (pd.to_datetime(back["day"]) == df["day"]).all()
    null = df["count"].isna().to_numpy()
    assert null.any() and (pd.isna(back["count"]).to_numpy() == null).all()
    assert (np.floor(back["count"][~null]) == back["count"][~null]).all()  # integers stay integers
    assert schema.validate(back.assign(id=df["id"]), release=True).ok


def _private(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 4, n)
    b = (a + (rng.random(n) < 0.1)) % 4  # strongly tied to a
    c = rng.integers(0, 3, n)
    codes = np.stack([a, b, c], axis=1)
    return codes, PrivateMarginals(codes, ("a", "b", "c"), (4, 4, 3), privacy_noise())


def test_measure_adds_gaussian_noise_of_the_stated_sigma():
    codes, pm = _private()
    rho = 0.01
    true = np.bincount(codes[:, 0] * 4 + codes[:, 1], minlength=16)
    errs = np.concatenate([pm.measure(("a", "b"), rho).values - true for _ in range(40)])
    sigma = gaussian_sigma(rho, 1.0)
    assert pm.measure(("a", "b"), rho).sigma == pytest.approx(sigma)
    assert 0.85 * sigma < errs.std() < 1.15 * sigma  # 640 draws: sd of the sd ratio ~0.03
    assert abs(errs.mean()) < 4 * sigma / math.sqrt(len(errs))


def test_selection_prefers_the_marginal_the_model_gets_wrong():
    codes, pm = _private()
    cands = [("a", "b"), ("a", "c"), ("b", "c")]
    ones = {k: np.bincount(codes[:, i], minlength=s) for i, (k, s) in enumerate(zip("abc", (4, 4, 3)))}
    answers = independent_marginals(ones, cands, len(codes))
    cands = [(c, ()) for c in cands]  # full resolution (no merge maps)
    picks = [pm.select(cands, answers, [1.0] * 3, rho=1.0, sigma_next=1.0) for _ in range(20)]
    assert picks == [0] * 20
    # A large penalty (sigma * cells) on the big candidates flips it to the smallest unexplained one... or none
    # dominates: with a vanishing budget the pick is close to uniform.
    tiny = [pm.select(cands, answers, [1.0] * 3, rho=1e-12, sigma_next=1.0) for _ in range(300)]
    assert min(np.bincount(tiny, minlength=3)) > 50


def test_numpy_inference_matches_brute_force():
    rng = np.random.default_rng(3)
    sizes = {"a": 3, "b": 4, "c": 2, "d": 5}
    pots = {("a", "b"): rng.normal(size=(3, 4)), ("b", "c"): rng.normal(size=(4, 2)),
            ("c", "d"): rng.normal(size=(2, 5)), ("a",): rng.normal(size=3)}
    joint = np.zeros((3, 4, 2, 5))
    for cl, v in pots.items():
        shape = [sizes[x] if x in cl else 1 for x in "abcd"]
        joint = joint + v.reshape(shape)
    p = np.exp(joint - joint.max())
    p = p / p.sum() * 100.0
    for q in itertools.chain(itertools.combinations("abcd", 2), [("d", "a"), ("c",), ("b", "d", "a")]):
        axes = tuple(i for i, x in enumerate("abcd") if x not in q)
        kept = [x for x in "abcd" if x in q]
        want = np.transpose(p.sum(axis=axes), [kept.index(x) for x in q])
        assert np.allclose(marginal(pots, tuple(q), sizes, 100.0), want, atol=1e-10), q
    beliefs = {("a", "b"): p.sum(axis=(2, 3))}
    got = many_marginals(pots, beliefs, [("b", "a"), ("c", "d")], sizes, 100.0)
    assert np.allclose(got[0], p.sum(axis=(2, 3)).T) and np.allclose(got[1], p.sum(axis=(0, 1)))


def test_elimination_order_is_the_greedy_min_size_order_read_off_the_factors():
    """The kept neighbourhoods give the order a scan of every factor at every step gives (ties by name), on random
    models: the fast order must not change an answer, and a wrong neighbourhood update changes the order."""
    from synthgen.generators.marginal.inference import _elimination_order

    def reference(cliques, query, sizes):
        factors, order = [tuple(c) for c in cliques], []
        elim = sorted({a for c in factors for a in c} - set(query))
        while elim:
            def cost(z):
                return math.prod(sizes[a] for a in {a for c in factors if z in c for a in c})
            z = min(elim, key=cost)
            elim.remove(z)
            order.append(z)
            inside = {a for c in factors if z in c for a in c} - {z}
            factors = [c for c in factors if z not in c] + [tuple(sorted(inside))]
        return order

    rng = np.random.default_rng(5)
    for _ in range(300):
        names = [f"v{i:02d}" for i in range(int(rng.integers(3, 16)))]
        sizes = {a: int(rng.integers(2, 7)) for a in names}
        cliques = {tuple(rng.choice(names, size=min(int(rng.integers(1, 4)), len(names)), replace=False))
                   for _ in range(int(rng.integers(1, 2 * len(names))))}
        query = tuple(rng.choice(names, size=int(rng.integers(1, 3)), replace=False))
        assert _elimination_order(sorted(cliques), query, sizes) == reference(sorted(cliques), query, sizes)


def test_a_query_too_large_to_eliminate_gets_the_product_of_the_models_oneways(monkeypatch):
    """A wide model (54 columns: 112 GiB asked for) must not crash the selection: beyond MAX_CELLS, the answer is
    the product of the model's one-way marginals (exact below it, as above)."""
    from synthgen.generators.marginal import inference

    rng = np.random.default_rng(4)
    sizes = {"a": 3, "b": 4, "c": 2, "d": 5}
    pots = {("a", "b"): rng.normal(size=(3, 4)), ("b", "c"): rng.normal(size=(4, 2)),
            ("c", "d"): rng.normal(size=(2, 5))}
    exact = marginal(pots, ("a", "d"), sizes, 100.0)
    beliefs = {("a", "b"): rng.random((3, 4)), ("c", "d"): rng.random((2, 5))}
    assert np.allclose(many_marginals(pots, beliefs, [("a", "d")], sizes, 100.0)[0], exact)
    monkeypatch.setattr(inference, "MAX_CELLS", 7)  # every elimination step of ("a", "d") now builds > 7 cells
    with pytest.raises(inference._TooLarge):
        marginal(pots, ("a", "d"), sizes, 100.0)
    got = many_marginals(pots, beliefs, [("a", "d"), ("d", "a")], sizes, 100.0)
    pa, pd_ = beliefs[("a", "b")].sum(axis=1), beliefs[("c", "d")].sum(axis=0)
    want = np.multiply.outer(pa / pa.sum(), pd_ / pd_.sum()) * 100.0
    assert np.allclose(got[0], want) and np.allclose(got[1], want.T) and not np.allclose(got[0], exact)


def test_the_size_check_does_not_overflow_on_many_columns():
    """16 columns of 32 cells in one factor is 2**80 cells: the check must see that, not an int64 wrap-around."""
    names = [f"x{i}" for i in range(16)]
    sizes = dict.fromkeys(names, 32)
    pots = {(a, b): np.zeros((32, 32)) for a, b in itertools.combinations(names, 2)}  # a complete graph
    with pytest.raises(Exception) as info:
        marginal(pots, ("x0", "x1"), sizes, 1.0)
    assert type(info.value).__name__ == "_TooLarge"
    beliefs = {c: np.full((32, 32), 1.0) for c in pots}
    beliefs.pop(("x0", "x1"))
    got = many_marginals(pots, beliefs, [("x0", "x1")], sizes, 10.0)[0]
    assert got.shape == (32, 32) and np.allclose(got, 10.0 / 1024)
