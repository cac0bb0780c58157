"""Shared small tables for the evaluator tests (real data from synthgen.datasets, subsampled for speed)."""
import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def diamonds_parts():
    """(train, holdout, fresh, schema): 1,500 training rows, an equal-size holdout and 1,000 fresh real rows."""
    from synthgen import datasets

    df, schema = datasets.load("diamonds")
    df = df.sample(4000, random_state=0).reset_index(drop=True)
    train = df.iloc[:1500].reset_index(drop=True)
    holdout = df.iloc[1500:3000].reset_index(drop=True)
    fresh = df.iloc[3000:].reset_index(drop=True)
    return train, holdout, fresh, schema


def shuffle_columns(df: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Each column permuted independently: marginals kept exactly, every association destroyed."""
    rng = np.random.default_rng(seed)
    out = df.copy()
    for c in out.columns:
        out[c] = rng.permutation(out[c].to_numpy())
    return out


@pytest.fixture(scope="session")
def shuffle():
    return shuffle_columns


@pytest.fixture(scope="session")
def copy50(diamonds_parts):
    """Half verbatim training rows, half column-shuffled training rows."""
    train = diamonds_parts[0]
    half = train.sample(len(train) // 2, random_state=1)
    rest = shuffle_columns(train.drop(half.index), seed=2)
    return pd.concat([half, rest], ignore_index=True)


@pytest.fixture(scope="session")
def small_report(diamonds_parts):
    import evaluators

    train, holdout, _, schema = diamonds_parts
    syn = shuffle_columns(train, seed=5).iloc[:600]
    return evaluators.evaluate(train.iloc[:600], syn, holdout.iloc[:600], schema, target="cut",
                               quasi_identifiers=["color", "clarity"], sensitive="cut")
