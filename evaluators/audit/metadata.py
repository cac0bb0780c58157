"""The white-box ``metadata`` score: everything a fit releases besides its data and its noisy statistics.

A fitted model publishes metadata with every release: its privacy spend (the manifest's and the model card's
``privacy`` record with all its details, and the card's summary), its parameters, its schema, its row estimate
and the state its manifest saves (:func:`synthgen.persistence.describe_model`, ``_get_state``). All of it must be
a function of PUBLIC inputs (parameters, declared schema) and of DP outputs only. A field that is a
deterministic function of the private data (the exact n written into the spend as ``1 / n``, a step count from
the exact n, a bound read off the data) takes one value in every fit on D and another in every fit on D',
whatever the fresh noise: a perfect test, which the game certifies up to its ceiling.

:func:`released_fields` flattens one fit's metadata into ``{path: number}`` (strings, booleans and nulls become
a stable hash in [0, 1), so equal values give equal numbers); :func:`field_matrix` aligns the fields of many fits
(a field missing from a fit reads as the hash of ``"<missing>"``) and drops the fields that take one value in
every fit of both worlds (they cannot tell the worlds apart). Each remaining field is one statistic of the game,
named ``metadata:<path>``; the threshold half picks among them like among the other statistics, so the bound
half judges one field only (no double dipping). Fields that carry DP outputs (a noisy row count, a sample rate
computed from it) vary from fit to fit and tell the worlds apart only as far as the noise allows.

Left out: the creation time and the package version (they vary with the clock and the install, not the data),
and the ledger entry (the audit fits charge no ledger).
"""
from __future__ import annotations

import hashlib
import math
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

SKIP = frozenset({"created", "synthgen_version", "ledger_entry"})
PREFIX = "metadata:"
MISSING = "<missing>"


def _hash(value: Any) -> float:
    text = repr(value) if not isinstance(value, str) else "s:" + value
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:12], 16) / 16.0 ** 12


def _scalar(value: Any) -> float:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return _hash(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else _hash(repr(v))
    return _hash(repr(value))


def _flatten(obj: Any, path: str, out: dict) -> None:
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            _flatten(v, f"{path}.{k}" if path else str(k), out)
    elif isinstance(obj, (list, tuple)):
        out[f"{path}.len"] = float(len(obj))
        for i, v in enumerate(obj):
            _flatten(v, f"{path}.{i}", out)
    elif isinstance(obj, np.ndarray):
        _flatten(obj.tolist(), path, out)
    else:
        out[path] = _scalar(obj)


def released_metadata(gen: Any) -> dict:
    """What a fit's manifest and model card publish besides arrays: describe_model (less the clock, version and
    ledger entry), the row estimate, the saved state and the card's privacy summary."""
    from synthgen._json import jsonable
    from synthgen.persistence import describe_model

    doc = {k: v for k, v in describe_model(gen, nonfinite="null").items() if k not in SKIP}
    state, _ = gen._get_state()
    doc.update({"rows_estimate": float(gen.rows_estimate_), "state": jsonable(state, nonfinite="null"),
                "privacy_summary": gen.privacy_spent_.summary()})
    return doc


def released_fields(gen: Any) -> dict[str, float]:
    """One fit's released metadata as ``{path: number}`` (see the module docstring)."""
    out: dict[str, float] = {}
    _flatten(released_metadata(gen), "", out)
    return out


def field_matrix(fits: Sequence[Mapping[str, float]]) -> tuple[list[str], np.ndarray]:
    """``(names, values[fit, field])`` over the fields that take more than one value across ``fits``; names carry
    the ``metadata:`` prefix."""
    keys: list[str] = sorted(set().union(*(f.keys() for f in fits))) if fits else []
    missing = _hash(MISSING)
    values = np.array([[f.get(k, missing) for k in keys] for f in fits], dtype=np.float64).reshape(len(fits),
                                                                                                    len(keys))
    varies = [j for j in range(len(keys)) if len(np.unique(values[:, j])) > 1]
    return [PREFIX + keys[j] for j in varies], values[:, varies]


def differing_fields(names: Iterable[str], values0: np.ndarray, values1: np.ndarray) -> list[str]:
    """The fields whose value sets in the two worlds do not overlap at all (each a perfect test on these fits)."""
    out = []
    for j, name in enumerate(names):
        if not set(np.unique(values0[:, j])) & set(np.unique(values1[:, j])):
            out.append(name)
    return out
