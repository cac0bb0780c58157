"""The privacy ledger: refuses overspend before work, append-only, detects hand edits (header and tail too), and
the charge() idiom that cancels only before private data was read."""
import json

import pytest

from synthgen.exceptions import BudgetExceededError, InvalidPrivacyParameterError, LedgerError
from synthgen.privacy import PrivacyLedger


@pytest.fixture
def ledger(tmp_path):
    return PrivacyLedger.create(tmp_path / "cps.ledger.json", epsilon=2.0, delta=1e-5, dataset="cps")


def test_charges_are_listed_and_summed(ledger):
    ledger.charge(0.5, 1e-6, generator="dp-copula", purpose="fit")
    ledger.charge(0.25, 0.0, generator="schema-draft", purpose="bounds")
    assert ledger.spent() == pytest.approx((0.75, 1e-6))
    assert ledger.remaining() == pytest.approx((1.25, 9e-6))
    charges = ledger.charges()
    assert [c.generator for c in charges] == ["dp-copula", "schema-draft"]
    assert all(c.status == "committed" and c.time for c in charges)
    doc = ledger.to_dict()
    assert doc["neighbouring"] == "add/remove one row" and len(doc["charges"]) == 2


def test_overspend_is_refused_before_any_work_and_file_unchanged(ledger):
    ledger.charge(1.5, 0.0, generator="g", purpose="p")
    before = ledger.path.read_bytes()
    with pytest.raises(BudgetExceededError, match="remaining"):
        ledger.charge(0.6, 0.0, generator="g", purpose="too much")
    with pytest.raises(BudgetExceededError):
        ledger.reserve(0.1, 2e-5, generator="g", purpose="delta too big")
    assert ledger.path.read_bytes() == before


def test_reservation_commits_on_success_and_cancels_on_interrupt(ledger):
    with ledger.reserve(1.0, 1e-6, generator="g", purpose="ok"):
        assert ledger.spent()[0] == pytest.approx(1.0)  # pending counts as spent
    with pytest.raises(KeyboardInterrupt):
        with ledger.reserve(0.5, 1e-6, generator="g", purpose="interrupted"):
            raise KeyboardInterrupt
    statuses = [c.status for c in ledger.charges()]
    assert statuses == ["committed", "cancelled"]
    assert ledger.spent()[0] == pytest.approx(1.0)


def test_pending_reservation_of_a_killed_process_stays_spent(ledger):
    ledger.reserve(0.7, 0.0, generator="g", purpose="process killed")  # never committed nor cancelled
    reopened = PrivacyLedger(ledger.path)
    assert reopened.spent()[0] == pytest.approx(0.7)
    assert reopened.charges()[0].status == "pending"


@pytest.mark.parametrize("edit", ["epsilon", "drop", "budget", "json", "schema"])
def test_hand_edits_are_detected(ledger, edit):
    ledger.charge(0.5, 0.0, generator="g", purpose="a")
    ledger.charge(0.5, 0.0, generator="g", purpose="b")
    doc = json.loads(ledger.path.read_text())
    if edit == "epsilon":
        doc["entries"][0]["epsilon"] = 0.01
    elif edit == "drop":
        del doc["entries"][0]
    elif edit == "budget":
        doc["budget"]["epsilon"] = 0.5  # below what was already spent
    elif edit == "schema":
        doc["entries"][0]["epsilon"] = -1
    text = json.dumps(doc) if edit != "json" else ledger.path.read_text()[:-20]
    ledger.path.write_text(text)
    with pytest.raises(LedgerError, match="ledger|Ledger"):
        PrivacyLedger(ledger.path).spent()


def test_missing_ledger_and_bad_budget(tmp_path):
    with pytest.raises(LedgerError, match="does not exist"):
        PrivacyLedger(tmp_path / "nope.json")
    with pytest.raises(InvalidPrivacyParameterError):
        PrivacyLedger.create(tmp_path / "a.json", epsilon=0, delta=1e-6)
    with pytest.raises(InvalidPrivacyParameterError):
        PrivacyLedger.create(tmp_path / "b.json", epsilon=1, delta=1.0)


def test_create_existing(ledger):
    with pytest.raises(LedgerError, match="already exists"):
        PrivacyLedger.create(ledger.path, epsilon=2.0, delta=1e-5)
    assert PrivacyLedger.create(ledger.path, epsilon=2.0, delta=1e-5, exist_ok=True).total_epsilon == 2.0
    with pytest.raises(LedgerError, match="cannot be changed"):
        PrivacyLedger.create(ledger.path, epsilon=5.0, delta=1e-5, exist_ok=True)


def test_ctrl_c_during_a_reservation_is_held_until_it_is_recorded(ledger, monkeypatch, default_sigint):
    """A SIGINT that lands while the ledger writes a reservation must not leave it uncancelled (the CI flake)."""
    import os
    import signal

    from synthgen.privacy.ledger import interrupts_deferred

    real_append = PrivacyLedger._append

    def append_then_interrupt(self, entry, check_budget=None):
        real_append(self, entry, check_budget)
        if entry["event"] == "reserve":
            os.kill(os.getpid(), signal.SIGINT)  # delivered right after the write, before reserve() returns

    monkeypatch.setattr(PrivacyLedger, "_append", append_then_interrupt)
    reservation = None
    with pytest.raises(KeyboardInterrupt):
        try:
            with interrupts_deferred():
                reservation = ledger.reserve(1.0, 1e-6, generator="g", purpose="fit")
        except BaseException:
            assert reservation is not None, "the interrupt landed before the reservation was recorded"
            reservation.cancel("interrupted")
            raise
    assert ledger.to_dict()["spent"]["epsilon"] == 0.0
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_generator_fit_interrupted_right_after_reserving_cancels(ledger, contract_data, monkeypatch,
                                                                 default_sigint):
    import os
    import signal

    from synthgen.generators.copula import DPGaussianCopula

    df, schema = contract_data
    real_append = PrivacyLedger._append

    def append_then_interrupt(self, entry, check_budget=None):
        real_append(self, entry, check_budget)
        if entry["event"] == "reserve":
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(PrivacyLedger, "_append", append_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        DPGaussianCopula(epsilon=1.0).fit(df, schema, ledger=ledger, random_state=0)
    events = [e["event"] for e in json.loads(ledger.path.read_text())["entries"]]
    assert events == ["reserve", "cancel"]
    assert ledger.to_dict()["spent"]["epsilon"] == 0.0


# ------------------------------------------------------------------ integrity of the header and the tail (v2)
def _edit(path, change):
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize("with_entries", [False, True])
def test_raising_the_budget_by_hand_is_detected(tmp_path, with_entries):
    """Old main accepted a budget edited from 3 to 30 (the header was outside the hash chain)."""
    ledger = PrivacyLedger.create(tmp_path / "l.json", epsilon=3.0, delta=1e-5, dataset="d")
    if with_entries:
        ledger.charge(2.5, 0.0, generator="g", purpose="a")
    _edit(ledger.path, lambda d: d["budget"].update(epsilon=30.0))
    with pytest.raises(LedgerError, match="hash|head"):
        PrivacyLedger(ledger.path).remaining()
    with pytest.raises(LedgerError):
        PrivacyLedger(ledger.path).verify()


@pytest.mark.parametrize("field,value", [("dataset", "other"), ("neighbouring", "replace one row")])
def test_other_header_edits_are_detected(ledger, field, value):
    ledger.charge(0.5, 0.0, generator="g", purpose="a")
    _edit(ledger.path, lambda d: d.update({field: value}))
    with pytest.raises(LedgerError):
        PrivacyLedger(ledger.path).verify()


@pytest.mark.parametrize("cut", [1, 2])
def test_cutting_charges_off_the_tail_is_detected_by_the_head(ledger, cut):
    """Old main accepted a ledger whose last charges were deleted (a prefix of a valid chain is valid)."""
    for p in ("a", "b", "c"):
        ledger.charge(0.5, 0.0, generator="g", purpose=p)
    _edit(ledger.path, lambda d: d.update(entries=d["entries"][:-cut]))
    with pytest.raises(LedgerError, match="head"):
        PrivacyLedger(ledger.path).spent()


def test_verify_summarises_a_sound_ledger(ledger):
    ledger.charge(0.5, 1e-6, generator="g", purpose="a")
    with ledger.reserve(0.25, 0.0, generator="g", purpose="b"):
        pass
    out = ledger.verify()
    doc = json.loads(ledger.path.read_text())
    assert out["entries"] == 3 == len(doc["entries"]) and out["head"] == doc["entries"][-1]["hash"]
    assert out["spent"]["epsilon"] == pytest.approx(0.75) and out["budget"] == {"epsilon": 2.0, "delta": 1e-5}


def test_find_returns_the_record_with_its_committed_spend(ledger):
    c = ledger.charge(0.5, 0.0, generator="g", purpose="direct")
    res = ledger.reserve(0.3, 1e-7, generator="dp-copula", purpose="fit")
    rec = ledger.find(res.id)
    assert rec["status"] == "pending" and rec["spent"] is None and rec["epsilon"] == 0.3
    res.commit((0.29, 1e-7))
    rec = ledger.find(res.id)
    assert rec["status"] == "committed" and rec["spent"] == {"epsilon": 0.29, "delta": 1e-7}
    assert rec["generator"] == "dp-copula" and rec["hash"] and rec["close_hash"] == res.hash
    assert ledger.find(c.id)["status"] == "committed"
    cancelled = ledger.reserve(0.1, 0.0, generator="g", purpose="x")
    cancelled.cancel("test")
    assert ledger.find(cancelled.id)["status"] == "cancelled"
    with pytest.raises(LedgerError, match="no entry"):
        ledger.find("c-000000000000")


# ------------------------------------------------------------------ charge(): cancel only before data is read
def test_charge_commits_on_success_with_the_spend_and_gives_the_entry(ledger):
    from synthgen.privacy.ledger import charge

    with charge(ledger, 0.5, 1e-6, generator="g", purpose="fit") as h:
        assert h.entry is None and ledger.spent()[0] == pytest.approx(0.5)  # reserved before the work
        h.data_read()
        h.record_spent(0.4, 1e-6)
    assert h.entry["ledger"] == ledger.dataset and h.entry["id"] and h.entry["hash"]
    rec = ledger.find(h.entry["id"])
    assert rec["status"] == "committed" and rec["spent"] == {"epsilon": 0.4, "delta": 1e-6}


def test_charge_cancels_a_failure_before_data_read(ledger):
    from synthgen.privacy.ledger import charge

    with pytest.raises(ValueError):
        with charge(ledger, 0.5, 0.0, generator="g", purpose="fit") as h:
            raise ValueError("bad parameter")
    assert [c.status for c in ledger.charges()] == ["cancelled"] and ledger.spent() == (0.0, 0.0)
    assert h.entry is None


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_charge_commits_a_failure_after_data_read(ledger, exc):
    """Old main refunded a fit that failed after touching the data, so a data-dependent failure was free."""
    from synthgen.privacy.ledger import charge

    with pytest.raises(exc):
        with charge(ledger, 0.5, 0.0, generator="g", purpose="fit") as h:
            h.data_read()
            raise exc("failed on a private value")
    assert [c.status for c in ledger.charges()] == ["committed"]
    assert ledger.spent()[0] == pytest.approx(0.5)
    ledger.verify()


def test_charge_without_a_ledger_records_nothing():
    from synthgen.privacy.ledger import charge

    with charge(None, 0.5, 0.0, generator="g", purpose="fit") as h:
        h.data_read()
    assert h.entry is None


# ------------------------------------------------------------------ resolve: reservations of killed processes
@pytest.fixture
def dead_pid(monkeypatch):
    """Reservations made while this fixture is active record the pid of a process that has ended."""
    import os
    import subprocess
    import sys

    import synthgen.privacy.ledger as ledger_mod

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    monkeypatch.setattr(ledger_mod.os, "getpid", lambda: proc.pid)
    yield proc.pid
    monkeypatch.setattr(ledger_mod.os, "getpid", os.getpid)


def _killed_fit(ledger, read: bool):
    """A charge() whose process dies inside it: the reservation (and the data_read mark if ``read``) stays."""
    from synthgen.privacy.ledger import ChargeHandle

    handle = ChargeHandle(ledger.reserve(0.5, 1e-6, generator="g", purpose="fit", write_ahead=True))
    if read:
        handle.data_read()
    return handle.reservation.id


def test_resolve_commits_a_dead_reservation_that_had_read_data(ledger, dead_pid):
    cid = _killed_fit(ledger, read=True)
    assert [c.data_read for c in ledger.charges()] == [True]
    done = ledger.resolve()
    assert [(r["id"], r["action"]) for r in done] == [(cid, "committed")]
    assert ledger.find(cid)["status"] == "committed" and ledger.spent()[0] == pytest.approx(0.5)
    ledger.verify()
    assert ledger.resolve() == []


def test_resolve_cancels_only_a_reservation_provably_unread(ledger, dead_pid):
    unread = _killed_fit(ledger, read=False)
    legacy = ledger.reserve(0.25, 0.0, generator="g", purpose="no write-ahead promise").id
    done = {r["id"]: r["action"] for r in ledger.resolve()}
    assert done == {unread: "cancelled", legacy: "committed"}
    assert ledger.spent()[0] == pytest.approx(0.25)
    ledger.verify()


def test_resolve_leaves_a_running_process_alone_unless_forced(ledger):
    cid = _killed_fit(ledger, read=True)  # recorded with this (live) process's pid
    assert [r["action"] for r in ledger.resolve()] == ["left"]
    assert ledger.find(cid)["status"] == "pending"
    with pytest.raises(LedgerError, match="no pending reservation"):
        ledger.resolve("c-000000000000")
    assert [r["action"] for r in ledger.resolve(cid, force=True)] == ["committed"]


def test_a_reservation_closed_elsewhere_cannot_be_closed_again(ledger):
    from synthgen.privacy.ledger import Reservation

    res = ledger.reserve(0.5, 0.0, generator="g", purpose="fit")
    Reservation(ledger, res.id).cancel("closed by another process")
    before = ledger.path.read_bytes()
    with pytest.raises(LedgerError, match="not open"):
        res.commit()
    assert ledger.path.read_bytes() == before
    ledger.verify()


def test_check_affordable_validates_before_comparing_with_the_budget(ledger):
    for eps, dlt in ((float("inf"), None), (float("nan"), None), (1.0, 0.5), (-1.0, None)):
        with pytest.raises(InvalidPrivacyParameterError):
            ledger.check_affordable(eps, dlt)
    with pytest.raises(BudgetExceededError, match="cannot pay"):
        ledger.check_affordable(3.0, None)
    ledger.check_affordable(1.0, 1e-6)
    with pytest.raises(InvalidPrivacyParameterError):
        ledger.charge(float("inf"), 0.0, generator="g", purpose="p")
