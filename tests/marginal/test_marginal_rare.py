"""dp-marginal's rare-category merge: a categorical with more declared categories than max_categories keeps the
frequent ones (by noisy counts, charged) and shares one "other" cell among the rest, decoded back to them by
their noisy counts; conditions on a rare category still hold; the state round-trips."""
import numpy as np
import pandas as pd
import pytest

from synthgen.generators.marginal.dp import DPMarginal
from synthgen.persistence import load_model
from synthgen.privacy.accountants import ZCDPBudget
from synthgen.schema import BooleanField, CategoricalField, Schema

CATS = tuple(f"c{i}" for i in range(200))
PARAMS = dict(epsilon=2.0, delta=1e-6, max_categories=8, max_cliques=1, max_rounds=1, round_iters=50,
              final_iters=100)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    city = np.repeat(CATS[:12], [400] * 7 + [100] * 5)  # 7 frequent, 5 rare by the cap, 188 in no row
    flag = np.where(np.isin(city, CATS[7:12]), rng.random(len(city)) < 0.9, rng.random(len(city)) < 0.1)
    df = pd.DataFrame({"city": city, "flag": flag}).sample(frac=1.0, random_state=0).reset_index(drop=True)
    schema = Schema((CategoricalField("city", CATS, categories_source="public:test"), BooleanField("flag")),
                    name="rare")
    return df, schema


@pytest.fixture(scope="module")
def fitted(data):
    df, schema = data
    return DPMarginal(**PARAMS).fit(df, schema, random_state=0)


def test_frequent_categories_keep_their_cells_and_the_merge_is_charged(fitted):
    codec = fitted.codecs_[0]
    assert codec.grid == CATS[:7] and len(codec.rare) == 193 and codec.size == 8  # 7 kept + "other"
    spent = fitted.privacy_spent_
    rho = ZCDPBudget(2.0, spent.delta).rho
    split = spent.details["rho_split"]
    assert split["categories"] == pytest.approx(0.5 * 0.25 * rho / 2, rel=1e-9)
    assert split["one-way"] == pytest.approx(1.5 * 0.25 * rho / 2, rel=1e-9)
    assert sum(split.values()) == pytest.approx(rho, rel=1e-9) and spent.epsilon == 2.0
    full = DPMarginal(**{**PARAMS, "max_categories": None}).fit(*_data_only(fitted), random_state=0)
    assert full.codecs_[0].size == 200 and "categories" not in full.privacy_spent_.details["rho_split"]


def _data_only(fitted):
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"city": rng.choice(CATS[:12], 500), "flag": rng.random(500) < 0.5})
    return df, fitted.schema_


def test_other_cell_decodes_to_rare_categories_by_their_noisy_counts(fitted, data):
    df, _ = data
    syn = fitted.sample(6000, random_state=0)
    assert set(syn["city"]) <= set(CATS)
    rare = syn[~syn["city"].isin(CATS[:7])]
    true_share = 500 / len(df)
    assert abs(len(rare) / len(syn) - true_share) < 0.05
    assert rare["city"].isin(CATS[7:12]).mean() > 0.5  # the rare categories rows hold, not the 188 empty ones
    assert rare["flag"].mean() > 0.6 and syn[syn["city"].isin(CATS[:7])]["flag"].mean() < 0.3  # (city, flag) kept


def test_conditions_on_a_rare_category_and_round_trip(fitted, tmp_path):
    c = fitted.sample(300, random_state=1, conditions={"city": "c9"})
    assert (c["city"] == "c9").all()
    both = fitted.sample(300, random_state=1, conditions={"city": ["c0", "c150"]})
    assert set(both["city"]) <= {"c0", "c150"}
    fitted.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.codecs_[0] == fitted.codecs_[0]  # declared labels, rare list and weights
    a, b = fitted.sample(300, random_state=2), loaded.sample(300, random_state=2)
    assert a.astype(str).equals(b.astype(str))
