"""The privacy ledger: refuses overspend before work, append-only, detects hand edits."""
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


def test_ctrl_c_during_a_reservation_is_held_until_it_is_recorded(ledger, monkeypatch):
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


def test_generator_fit_interrupted_right_after_reserving_cancels(ledger, contract_data, monkeypatch):
    import os
    import signal

    from synthgen.generators.dp_copula import DPGaussianCopula

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
