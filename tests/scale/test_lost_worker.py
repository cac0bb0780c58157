"""A worker process lost in the middle of a DP fit's statistics pass (2-worker LocalCluster of processes).

A worker plugin ends the worker's process (``os._exit``) as it starts a task of a pass after validation, i.e. after
the ledger reservation and its data-read mark. Lost once: Dask retries the partition on the other worker, the same
data read again; the fit succeeds with one charge and, with the same seeded test noise, the same release. Lost on
every try (retries used up): the fit fails with a typed ClusterError saying a worker was lost and the fix, its ledger
entry committed exactly once (nothing pending), no model written; ``synthgen fit --scheduler`` on Parquet exits 2."""
from __future__ import annotations

import json
import os

import pytest

pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import dask  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from synthgen.exceptions import NotFittedError, SynthgenError  # noqa: E402
from synthgen.generators.copula import DPGaussianCopula  # noqa: E402
from synthgen.privacy import PrivacyLedger  # noqa: E402
from synthgen.scale.cluster import connect  # noqa: E402
from synthgen.scale.frames import ClusterError  # noqa: E402
from .test_dask_fit import captured_fit, table, uneven  # noqa: E402

STATS_PASS = "_on_conformed"  # the task name of every pass after validation (frames.PartitionedTable.reduce)


class KillWorker(distributed.WorkerPlugin):
    """End this worker's process as it starts a statistics-pass task while the file ``armed`` exists: ``once``,
    the worker that removes the file dies (the others run on), else every try dies."""

    def __init__(self, armed: str, once: bool):
        self.armed, self.once = armed, once

    def transition(self, key, start, finish, **kwargs):
        name = str(key[0] if isinstance(key, tuple) else key)
        if finish != "executing" or not name.startswith(STATS_PASS):
            return
        try:
            os.remove(self.armed) if self.once else os.stat(self.armed)
        except FileNotFoundError:
            return
        os._exit(1)


@pytest.fixture(scope="module")
def cluster():
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):  # one retry: a second death is final
        client = connect("local", n_workers=2, processes=True, memory_limit="1GB")
    yield client
    client.close()


def set_retries(dask_scheduler, n):
    dask_scheduler.allowed_failures = n  # what distributed.scheduler.allowed-failures set at start


RESTART_S = 300  # a killed worker's nanny restarts it; under a loaded 2-core CI run that once took over 60 s


@pytest.fixture
def killer(cluster, tmp_path):
    """``killer(once, retries)`` arms a :class:`KillWorker` on both workers once both are up; disarmed after the test
    (the plugin stays registered, harmless: unregistering it could race with a worker still restarting). Teardown does
    not wait for the restarts: the next ``install`` does, so a slow restart costs time, not a failed teardown."""
    armed = tmp_path / "armed"

    def install(once, retries=1):
        cluster.wait_for_workers(2, timeout=RESTART_S)
        cluster.run_on_scheduler(set_retries, n=retries)
        armed.touch()
        cluster.register_plugin(KillWorker(str(armed), once), name="kill-worker")
        return armed

    yield install
    armed.unlink(missing_ok=True)
    cluster.run_on_scheduler(set_retries, n=1)


def only_charge(ledger):
    (c,) = ledger.charges()
    assert ledger.verify()["pending"] == 0
    return c


def test_a_worker_lost_once_is_retried_same_data_one_charge_same_release(cluster, killer, monkeypatch, tmp_path):
    df, schema = table()
    ledgers = [PrivacyLedger.create(tmp_path / f"l{i}.json", epsilon=3.0, delta=1e-5, dataset="t") for i in (0, 1)]
    calm = captured_fit(monkeypatch, DPGaussianCopula(1.0, 1e-6), uneven(df), schema, 5, ledger=ledgers[0])
    armed = killer(once=True)
    hit = captured_fit(monkeypatch, DPGaussianCopula(1.0, 1e-6), uneven(df), schema, 5, ledger=ledgers[1])
    assert not armed.exists()  # a worker did die mid-pass (the one that disarmed it)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(calm.parts[0].histograms, hit.parts[0].histograms))
    assert calm.parts[0].gram.tobytes() == hit.parts[0].gram.tobytes()
    for ledger in ledgers:
        c = only_charge(ledger)
        assert (c.status, c.epsilon) == ("committed", 1.0)


def test_a_worker_lost_for_good_fails_the_fit_cleanly_charged_once(cluster, killer, tmp_path):
    df, schema = table()
    ledger = PrivacyLedger.create(tmp_path / "l.json", epsilon=3.0, delta=1e-5, dataset="t")
    killer(once=False, retries=0)  # the first death is final (no retry left): faster
    gen = DPGaussianCopula(1.0, 1e-6)
    with pytest.raises(ClusterError) as err:
        gen.fit(uneven(df), schema, ledger=ledger, progress=False)
    text = str(err.value)
    assert isinstance(err.value, SynthgenError) and type(err.value.__cause__).__name__ == "KilledWorker"
    assert "lost its worker" in text and "Fix:" in text and "memory_limit" in text and "committed" in text
    assert "_on_conformed-" not in text and "tcp://" not in text  # no task keys (they hash the input), no addresses
    c = only_charge(ledger)
    assert (c.status, c.data_read, c.epsilon) == ("committed", True, 1.0)
    assert ledger.spent() == (1.0, 1e-6)
    with pytest.raises(NotFittedError):
        gen.sample(5)


def test_cli_fit_on_parquet_with_a_lost_worker_exits_2_and_writes_nothing(cluster, killer, monkeypatch, tmp_path):
    from synthgen.cli import main

    df, schema = table()
    data = tmp_path / "train"
    data.mkdir()
    for i, a in enumerate(range(0, len(df), 1000)):
        df.iloc[a:a + 1000].to_parquet(data / f"part-{i}.parquet", index=False)
    schema.save(tmp_path / "schema.json")
    PrivacyLedger.create(tmp_path / "l.json", epsilon=3.0, delta=1e-5, dataset="t")
    address = cluster.cluster.scheduler_address  # the CLI's client joins the test cluster (and closes only itself)
    monkeypatch.setattr("synthgen.scale.cluster.connect", lambda scheduler: distributed.Client(address))
    killer(once=False, retries=0)  # the first death is final (no retry left): faster
    r = CliRunner().invoke(main, [str(a) for a in (
        "fit", data, "--schema", tmp_path / "schema.json", "--generator", "dp-copula", "--epsilon", 1,
        "--ledger", tmp_path / "l.json", "--out", tmp_path / "model", "--scheduler", "local")],
        catch_exceptions=False)
    assert r.exit_code == 2, r.stderr
    doc = json.loads(r.stdout)
    assert doc["error"]["type"] == "ClusterError" and "lost its worker" in doc["error"]["message"]
    left = sorted(p.name for p in tmp_path.iterdir() if p.name not in ("l.json.lock", "armed"))
    assert left == ["l.json", "schema.json", "train"]  # no model folder, no temp folder beside it
    c = only_charge(PrivacyLedger(tmp_path / "l.json"))
    assert (c.status, c.data_read) == ("committed", True)
