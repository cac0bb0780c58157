import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import fakegen  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _fake_generators():
    """Test-only generators, registered for the CLI tests only (and removed afterwards)."""
    fakegen.register()
    yield
    fakegen.unregister()


@pytest.fixture(scope="session")
def small_cps(tmp_path_factory):
    """A 600-row subsample of the real CPS1988 table, split 80/20, written as CSV, plus its declared schema."""
    from synthgen import datasets

    df, schema = datasets.load("cps1988")
    df = df.sample(n=600, random_state=0).reset_index(drop=True)
    train, holdout = datasets.train_holdout(df, seed=0)
    d = tmp_path_factory.mktemp("cps")
    train.to_csv(d / "train.csv", index=False)
    holdout.to_csv(d / "holdout.csv", index=False)
    schema.save(d / "schema.json")
    return d
