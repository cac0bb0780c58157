"""The privacy ledger: one append-only JSON file per dataset that refuses overspend before any work is done.

Every entry is an event:
- ``charge``: budget spent (committed at once);
- ``reserve``: budget set aside before a fit; it counts as spent until a ``commit`` or ``cancel`` names it.
  A fit that is interrupted or fails before anything is released is cancelled; a process killed outright
  leaves the reservation counted as spent (the safe side) until ``synthgen ledger resolve`` closes it;
- ``mark`` (``data_read``): written by :func:`charge` BEFORE the first private value is read (write-ahead), so
  :meth:`PrivacyLedger.resolve` can refund a dead process's reservation only when provably nothing was read, and
  commits it otherwise.

Integrity. The header (dataset, budget, neighbouring relation, composition rule) is hashed, and entries are
chained from that hash by sha256 (each hash covers the previous hash and the entry); the file also records its
``head`` (entry count and last hash). A hand edit that raises the budget, changes, drops or reorders an entry, or
cuts charges off the tail without rewriting ``head`` is detected on the next read; every fit also records the
entry (id and hash) it was charged to in its model manifest, and ``synthgen validate --ledger`` checks that entry
is still in the chain with the same spend. Threat model: this detects accidents and tampering by someone who does
not rewrite the whole file consistently; it is not a signature, and someone holding the private data and write
access can forge a consistent ledger (keep ledgers on append-only storage for that).

Composition across entries is basic (epsilons and deltas add up), valid for any mix of mechanisms and accountants.

``charge(ledger, ...)`` is the one idiom for spending: reserve before any work; cancel on failure only while no
private value has been read (``handle.data_read()`` marks that point); a failure after it commits the reservation,
because the failure itself may depend on the private data (otherwise retries would be free).
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from ..exceptions import BudgetExceededError, InvalidPrivacyParameterError, LedgerError
from ..io import atomic_write_json
from .ledger_chain import (LEDGER_FORMAT, Charge, _charges, _check_document, _entry_hash, _header_hash,
                           _open_reservations, _resolution, _spent)
from .ledger_process import _holder_state, _locked, interrupts_deferred
from .spend import NEIGHBOURING, check_epsilon_delta, check_request

_TOL = 1e-12


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Reservation:
    """Budget set aside for one piece of work. Use as a context manager: commit on success, cancel on error."""

    def __init__(self, ledger: "PrivacyLedger", charge_id: str):
        self.ledger, self.id, self._done, self._marked = ledger, charge_id, False, False
        self.hash = ""

    def commit(self, spent: tuple[float, float] | None = None, note: str | None = None) -> str:
        """Close the reservation as spent; ``spent`` records the (epsilon, delta) actually used. Returns the
        commit entry's hash."""
        if not self._done:
            entry: dict = {"event": "commit", "ref": self.id}
            if spent is not None:
                entry["spent"] = {"epsilon": float(spent[0]), "delta": float(spent[1])}
            if note:
                entry["reason"] = str(note)
            self.hash = self.ledger._append(entry)
            self._done = True
        return self.hash

    def mark_data_read(self) -> None:
        """Record, before it happens, that private data is about to be read (the write-ahead ``mark``)."""
        if not self._done and not self._marked:
            self.ledger._append({"event": "mark", "ref": self.id, "mark": "data_read"})
            self._marked = True

    def cancel(self, reason: str = "work not released") -> None:
        if not self._done:
            self.hash = self.ledger._append({"event": "cancel", "ref": self.id, "reason": reason})
            self._done = True

    def __enter__(self) -> "Reservation":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.cancel(f"interrupted: {exc_type.__name__}")


class PrivacyLedger:
    """A per-dataset privacy budget stored in one JSON file.

    >>> ledger = PrivacyLedger.create("adult.ledger.json", epsilon=3.0, delta=1e-5, dataset="adult")
    >>> with ledger.reserve(1.0, 1e-6, generator="dp-copula", purpose="fit"):
    ...     ...  # the work; nothing is charged if it raises
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._read()  # fail early on a missing or invalid file

    # ----- creation
    @classmethod
    def create(cls, path: str | os.PathLike, epsilon: float, delta: float, dataset: str | None = None,
               exist_ok: bool = False) -> "PrivacyLedger":
        path = Path(path)
        eps, dlt = check_epsilon_delta(epsilon, delta)
        if path.exists():
            if not exist_ok:
                raise LedgerError(f"Ledger {path} already exists; open it with PrivacyLedger({str(path)!r}).")
            led = cls(path)
            if abs(led.total_epsilon - eps) > _TOL or abs(led.total_delta - dlt) > _TOL:
                raise LedgerError(
                    f"Ledger {path} exists with budget (epsilon={led.total_epsilon}, delta={led.total_delta}), "
                    f"not ({eps}, {dlt}). A budget cannot be changed after the fact; create a new ledger.")
            return led
        doc = {"format": LEDGER_FORMAT, "dataset": dataset or path.stem, "created": _now(),
               "neighbouring": NEIGHBOURING, "composition": "basic (epsilons and deltas add up)",
               "budget": {"epsilon": eps, "delta": dlt}, "entries": []}
        doc["head"] = {"entries": 0, "hash": _header_hash(doc)}
        with _locked(path):
            if path.exists():
                raise LedgerError(f"Ledger {path} was created by another process meanwhile.")
            atomic_write_json(path, doc)
        return cls(path)

    # ----- reading
    def _read(self) -> dict:
        if not self.path.exists():
            raise LedgerError(f"Ledger file {self.path} does not exist. Fix: create it with "
                              "PrivacyLedger.create(path, epsilon, delta) or `synthgen ledger init`.")
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise LedgerError(f"Ledger {self.path} is not valid JSON (line {exc.lineno}). It may have been "
                              "edited by hand; restore it from a backup.") from None
        _check_document(doc, self.path)
        return doc

    @property
    def dataset(self) -> str:
        return self._read()["dataset"]

    @property
    def total_epsilon(self) -> float:
        return float(self._read()["budget"]["epsilon"])

    @property
    def total_delta(self) -> float:
        return float(self._read()["budget"]["delta"])

    def charges(self) -> tuple[Charge, ...]:
        return _charges(self._read())

    def spent(self) -> tuple[float, float]:
        """(epsilon, delta) spent, pending reservations included."""
        return _spent(_charges(self._read()))

    def remaining(self) -> tuple[float, float]:
        doc = self._read()
        eps, dlt = _spent(_charges(doc))
        return max(0.0, doc["budget"]["epsilon"] - eps), max(0.0, doc["budget"]["delta"] - dlt)

    def can_afford(self, epsilon: float, delta: float) -> bool:
        r_eps, r_dlt = self.remaining()
        return epsilon <= r_eps + _TOL and delta <= r_dlt + _TOL

    def check_affordable(self, epsilon: float | None, delta: float | None = None) -> None:
        """Refuse a request before any work: a bad epsilon/delta is an :class:`InvalidPrivacyParameterError`
        (checked first, so it is never mistaken for overspend); one the ledger cannot pay a
        :class:`BudgetExceededError`. ``None`` skips that part (its default is checked when it is reserved)."""
        eps, dlt = check_request(epsilon, delta)
        r_eps, r_dlt = self.remaining()
        if (eps is not None and eps > r_eps + _TOL) or (dlt is not None and dlt > r_dlt + _TOL):
            raise BudgetExceededError(
                f"Ledger {self.path} cannot pay " + ", ".join(f"{k}={v:g}" for k, v in (("epsilon", eps),
                                                                                      ("delta", dlt)) if v is not None)
                + f": remaining (epsilon={r_eps:.4g}, delta={r_dlt:.3g}). Nothing was run. "
                "Fix: ask for less epsilon/delta or use a ledger with budget left.")

    def to_dict(self) -> dict:
        doc = self._read()
        eps, dlt = _spent(_charges(doc))
        return {"path": str(self.path), "dataset": doc["dataset"], "neighbouring": doc["neighbouring"],
                "budget": doc["budget"], "spent": {"epsilon": eps, "delta": dlt},
                "remaining": {"epsilon": max(0.0, doc["budget"]["epsilon"] - eps),
                              "delta": max(0.0, doc["budget"]["delta"] - dlt)},
                "charges": [c.__dict__ for c in _charges(doc)]}

    # ----- writing
    def charge(self, epsilon: float, delta: float, generator: str, purpose: str,
               details: dict | None = None) -> Charge:
        """Spend budget now. Raises :class:`BudgetExceededError` (file unchanged) if it would overspend."""
        cid = self._append_spend("charge", epsilon, delta, generator, purpose, details)
        return next(c for c in self.charges() if c.id == cid)

    def reserve(self, epsilon: float, delta: float, generator: str, purpose: str,
                details: dict | None = None, write_ahead: bool = False) -> Reservation:
        """Set budget aside before work starts; refuses overspend before any work is done. ``write_ahead``: the
        caller promises to call :meth:`Reservation.mark_data_read` BEFORE it reads any private value (as
        :func:`charge` does), so that :meth:`resolve` may refund it if its process dies before the mark."""
        return Reservation(self, self._append_spend("reserve", epsilon, delta, generator, purpose, details,
                                                    write_ahead))

    def _append_spend(self, event: str, epsilon: float, delta: float, generator: str, purpose: str,
                      details: dict | None, write_ahead: bool = False) -> str:
        try:
            eps, dlt = float(epsilon), float(delta)
        except (TypeError, ValueError):
            eps = dlt = math.nan
        if not (math.isfinite(eps) and eps >= 0 and 0 <= dlt < 1):
            raise InvalidPrivacyParameterError(
                f"A charge needs a finite epsilon >= 0 and 0 <= delta < 1; got ({epsilon}, {delta}). Nothing was "
                "charged. Fix: ask for a finite epsilon and a small delta.")
        cid = f"c-{uuid.uuid4().hex[:12]}"
        entry = {"event": event, "id": cid, "generator": str(generator), "epsilon": eps, "delta": dlt,
                 "purpose": str(purpose)}
        if details:
            entry["details"] = details
        if event == "reserve":  # who holds it, so that `synthgen ledger resolve` can tell a dead holder
            entry["process"] = {"pid": os.getpid(), "host": socket.gethostname(),
                                **({"marks": "data_read"} if write_ahead else {})}
        self._append(entry, check_budget=(eps, dlt))
        return cid

    def _append(self, entry: dict, check_budget: tuple[float, float] | None = None) -> str:
        with _locked(self.path):
            doc = self._read()
            ref = entry.get("ref")
            if ref is not None and (ref not in _open_reservations(doc) or (entry["event"] == "mark" and any(
                    e["event"] == "mark" and e.get("ref") == ref for e in doc["entries"]))):
                raise LedgerError(f"Ledger {self.path}: reservation {ref!r} is not open (closed by another process, "
                                  "e.g. `synthgen ledger resolve --force`); nothing was written.")
            if check_budget is not None:
                eps, dlt = _spent(_charges(doc))
                need_eps, need_dlt = check_budget
                tot_eps, tot_dlt = doc["budget"]["epsilon"], doc["budget"]["delta"]
                if eps + need_eps > tot_eps + _TOL or dlt + need_dlt > tot_dlt + _TOL:
                    raise BudgetExceededError(
                        f"Ledger {self.path} (dataset {doc['dataset']!r}) cannot pay epsilon={need_eps:.4g}, "
                        f"delta={need_dlt:.3g}: spent ({eps:.4g}, {dlt:.3g}) of ({tot_eps:.4g}, {tot_dlt:.3g}), "
                        f"remaining ({max(0.0, tot_eps - eps):.4g}, {max(0.0, tot_dlt - dlt):.3g}). Nothing was run. "
                        "Fix: ask for less epsilon/delta or use a ledger with budget left.")
            entries = doc["entries"]
            entry = dict(entry, time=_now())
            prev = entries[-1]["hash"] if entries else _header_hash(doc)
            entry["hash"] = _entry_hash(prev, entry)
            entries.append(entry)
            doc["head"] = {"entries": len(entries), "hash": entry["hash"]}
            atomic_write_json(self.path, doc)
            return entry["hash"]

    # ----- checking
    def verify(self) -> dict:
        """Check the whole file (schema, header hash, chain, head, reservation references, budget). Raises
        :class:`LedgerError` naming the first problem; returns a summary when all is well."""
        doc = self._read()
        eps, dlt = _spent(_charges(doc))
        return {"path": str(self.path), "dataset": doc["dataset"], "entries": len(doc["entries"]),
                "head": doc["head"]["hash"], "spent": {"epsilon": eps, "delta": dlt}, "budget": doc["budget"],
                "pending": len(_open_reservations(doc))}

    def resolve(self, entry_id: str | None = None, force: bool = False) -> list[dict]:
        """Close reservations left pending by a process that ended without closing them (killed, crashed).

        Each is committed when its process may have read private data (a ``data_read`` mark, or no write-ahead
        promise) and cancelled only when provably nothing was read (see :func:`ledger_chain._resolution`). One
        whose process still runs on this host, or ran on another host, is left alone (``action: "left"``)
        unless ``force``. ``entry_id``: that reservation only. Returns one record per pending reservation."""
        doc = self._read()
        pending = sorted(_open_reservations(doc))
        if entry_id is not None:
            if entry_id not in pending:
                raise LedgerError(f"Ledger {self.path} has no pending reservation {entry_id!r}; see `synthgen "
                                  "ledger show` for the pending ones.")
            pending = [entry_id]
        out = []
        for cid in pending:
            reserve = next(e for e in doc["entries"] if e["event"] == "reserve" and e["id"] == cid)
            holder = _holder_state(reserve.get("process"))
            if holder != "ended" and not force:
                out.append({"id": cid, "action": "left", "reason": f"its process {holder}; rerun with --force "
                            "if you know it has ended"})
                continue
            action, reason = _resolution(doc, cid)
            res = Reservation(self, cid)
            with interrupts_deferred():
                res.commit(note=reason) if action == "commit" else res.cancel(reason)
            out.append({"id": cid, "action": "committed" if action == "commit" else "cancelled", "reason": reason,
                        "epsilon": float(reserve["epsilon"]), "delta": float(reserve["delta"])})
        return out

    def find(self, entry_id: str) -> dict:
        """The record of one reservation or charge: its request, status, committed spend and hashes."""
        doc = self._read()
        rec: dict | None = None
        for e in doc["entries"]:
            if e["event"] in ("charge", "reserve") and e.get("id") == entry_id:
                rec = {"id": e["id"], "event": e["event"], "generator": e["generator"], "purpose": e["purpose"],
                       "epsilon": float(e["epsilon"]), "delta": float(e["delta"]), "hash": e["hash"],
                       "status": "committed" if e["event"] == "charge" else "pending", "spent": None,
                       "data_read": e["event"] == "charge"}
            elif rec is not None and e.get("ref") == entry_id and e["event"] == "mark":
                rec["data_read"] = True
            elif rec is not None and e.get("ref") == entry_id:
                rec["status"] = "committed" if e["event"] == "commit" else "cancelled"
                rec["close_hash"] = e["hash"]
                rec["spent"] = e.get("spent")
        if rec is None:
            raise LedgerError(f"Ledger {self.path} has no entry {entry_id!r}. The model was charged to another "
                              "ledger, or entries were removed from this one.")
        return rec


# -------------------------------------------------------------------------------------------- helpers
class ChargeHandle:
    """What :func:`charge` yields: mark the point where private data is first read; read the entry after."""

    def __init__(self, reservation: Reservation | None):
        self.reservation = reservation
        self.read = False
        self.spent: tuple[float, float] | None = None
        self.entry: dict | None = None

    def data_read(self) -> None:
        """From here on a failure commits the reservation (the failure may depend on private values). Call it
        BEFORE the first read: it writes the ledger's ``mark`` first (a process killed before the mark is
        provably refundable by ``synthgen ledger resolve``; one killed after it is charged)."""
        self.read = True
        if self.reservation is not None:
            with interrupts_deferred():
                self.reservation.mark_data_read()

    def record_spent(self, epsilon: float, delta: float) -> None:
        """The (epsilon, delta) actually used, written with the commit."""
        self.spent = (float(epsilon), float(delta))


@contextlib.contextmanager
def charge(ledger: "PrivacyLedger | None", epsilon: float, delta: float, *, generator: str, purpose: str,
           details: dict | None = None) -> Iterator[ChargeHandle]:
    """Reserve (epsilon, delta) on ``ledger`` for the block (``None``: no ledger, nothing recorded).

    On success the reservation is committed; on failure or Ctrl-C it is cancelled only if ``data_read()`` was not
    called yet, and committed otherwise. Ctrl-C is held while the ledger is written and our record of it made.
    """
    if ledger is None:
        yield ChargeHandle(None)
        return
    handle = ChargeHandle(None)
    try:
        with interrupts_deferred():  # no Ctrl-C between the ledger write and our record of it
            handle.reservation = ledger.reserve(epsilon, delta, generator=generator, purpose=purpose,
                                                details=details, write_ahead=True)
        yield handle  # a Ctrl-C held above is delivered before this line, inside the try
    except BaseException as exc:
        res = handle.reservation
        if res is not None:
            with interrupts_deferred():
                if handle.read:
                    res.commit(handle.spent, note=f"failed after private data was read ({type(exc).__name__}): "
                                                  "charged, as the failure may depend on the data")
                else:
                    res.cancel(f"failed before any private value was read ({type(exc).__name__})")
        raise
    res = handle.reservation
    with interrupts_deferred():
        res.commit(handle.spent)
    handle.entry = {"ledger": ledger.dataset, "id": res.id, "hash": res.hash}
