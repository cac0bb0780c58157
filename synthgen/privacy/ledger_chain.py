"""The ledger file's integrity rules: the header hash, the entry hash chain, the head record, and what a valid
document is (see :mod:`synthgen.privacy.ledger` for the threat model). Pure functions over the parsed JSON."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..exceptions import LedgerError

LEDGER_FORMAT = "synthgen-ledger/2"
_HEADER_KEYS = ("format", "dataset", "created", "neighbouring", "composition", "budget")


def _header_hash(doc: dict) -> str:
    body = {k: doc.get(k) for k in _HEADER_KEYS}
    return hashlib.sha256(("synthgen-ledger-header" + json.dumps(body, sort_keys=True)).encode("utf-8")).hexdigest()


def _entry_hash(prev: str, entry: dict) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256((prev + json.dumps(body, sort_keys=True)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Charge:
    id: str
    time: str
    generator: str
    epsilon: float
    delta: float
    purpose: str
    status: str  # "committed", "pending" or "cancelled"
    data_read: bool = False  # a reservation whose process marked that it had started reading private data


def _bad(path: Path, what: str) -> LedgerError:
    return LedgerError(f"Ledger {path} is in an invalid state: {what}. It may have been edited by hand; "
                       "restore it from a backup (a ledger is append-only and must not be edited).")


def _check_document(doc: Any, path: Path) -> None:
    import jsonschema

    from ..resources import load_json_schema

    errs = list(jsonschema.Draft202012Validator(load_json_schema("ledger")).iter_errors(doc))
    if errs:
        e = errs[0]
        raise _bad(path, f"{'/'.join(map(str, e.path)) or 'top level'}: {e.message}")
    if doc["format"] != LEDGER_FORMAT:
        raise _bad(path, f"format {doc['format']!r} is not {LEDGER_FORMAT!r}")
    prev, ids, closed, marked = _header_hash(doc), {}, set(), set()
    for i, entry in enumerate(doc["entries"]):
        if entry.get("hash") != _entry_hash(prev, entry):
            what = "the header (budget, dataset) or entry 0" if i == 0 else f"entry {i}"
            raise _bad(path, f"{what} does not match its hash (changed, removed or reordered entries)")
        prev = entry["hash"]
        ev = entry["event"]
        if ev in ("charge", "reserve"):
            if entry.get("id") in ids:
                raise _bad(path, f"entry {i} repeats id {entry.get('id')!r}")
            ids[entry["id"]] = ev
        else:
            ref = entry.get("ref")
            if ids.get(ref) != "reserve" or ref in closed or (ev == "mark" and (ref in marked or "mark" not in entry)):
                raise _bad(path, f"entry {i} ({ev}) refers to no open reservation")
            (marked if ev == "mark" else closed).add(ref)
    head = doc.get("head") or {}
    if head.get("entries") != len(doc["entries"]) or head.get("hash") != prev:
        raise _bad(path, "the head does not match the last entry (entries were cut off or added by hand)")
    eps, dlt = _spent(_charges(doc))
    if eps > doc["budget"]["epsilon"] + 1e-9 or dlt > doc["budget"]["delta"] + 1e-15:
        raise _bad(path, "the recorded spend exceeds the budget")


def _charges(doc: dict) -> tuple[Charge, ...]:
    status: dict[str, str] = {}
    read = {e["ref"] for e in doc["entries"] if e["event"] == "mark"}
    for e in doc["entries"]:
        if e["event"] == "commit":
            status[e["ref"]] = "committed"
        elif e["event"] == "cancel":
            status[e["ref"]] = "cancelled"
    out = []
    for e in doc["entries"]:
        if e["event"] in ("charge", "reserve"):
            st = "committed" if e["event"] == "charge" else status.get(e["id"], "pending")
            out.append(Charge(e["id"], e["time"], e["generator"], float(e["epsilon"]), float(e["delta"]),
                              e["purpose"], st, e["event"] == "charge" or e["id"] in read))
    return tuple(out)


def _open_reservations(doc: dict) -> set[str]:
    """Ids of the reservations neither committed nor cancelled."""
    return {c.id for c in _charges(doc) if c.status == "pending"}


def _resolution(doc: dict, entry_id: str) -> tuple[str, str]:
    """How a pending reservation whose process has ended is closed: ("commit" | "cancel", reason).

    Cancelled only when it is provable that no private value was read: the reservation was made under the
    write-ahead protocol (``process.marks == "data_read"``: the process appends a ``mark`` entry BEFORE it reads
    any private value) and no such mark follows it. Otherwise (a mark, or a reservation written before marks
    existed) it is committed at the reserved amount, as the lost work may depend on the data."""
    reserve = next(e for e in doc["entries"] if e["event"] == "reserve" and e["id"] == entry_id)
    marked = any(e["event"] == "mark" and e.get("ref") == entry_id for e in doc["entries"])
    protocol = (reserve.get("process") or {}).get("marks") == "data_read"
    if protocol and not marked:
        return "cancel", ("resolved: the process ended before reading any private value (no data_read mark); "
                          "refunded")
    why = "after it marked reading private data" if marked else "and its reservation predates data_read marks"
    return "commit", f"resolved: the process ended {why}; charged, as the lost work may depend on the data"


def _spent(charges: tuple[Charge, ...]) -> tuple[float, float]:
    live = [c for c in charges if c.status != "cancelled"]
    return float(sum(c.epsilon for c in live)), float(sum(c.delta for c in live))
