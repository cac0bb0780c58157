"""Command-line value parsing shared by the commands."""
from __future__ import annotations

import json
from typing import Any

from ..exceptions import ConfigError


def parse_params(items: tuple[str, ...]) -> dict[str, Any]:
    """``key=value`` pairs; values parsed as JSON when possible (numbers, booleans, null, lists), else strings."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--param {item!r} must look like key=value, e.g. --param epochs=10.")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params


def check_privacy_request(out: Any, *, dp: bool, epsilon: Any, delta: Any, ledger: Any, what: str = "fit") -> None:
    """Before any budget is compared or data read: a bad epsilon/delta is bad input (exit 2, not "cannot pay");
    then one warning line each for a DP run without a ledger and for an epsilon that protects little."""
    from ..privacy.spend import WEAK_EPSILON, check_request

    eps, _ = check_request(epsilon, delta)
    if not dp:
        return
    if ledger is None:
        out.warn(f"this DP {what} is not charged to any ledger: nothing adds up its spend with other releases of the "
                 "same data. Fix: create one with `synthgen ledger init` and pass it (--ledger FILE; in release.yaml "
                 "privacy.ledger).")
    if eps is not None and eps > WEAK_EPSILON:
        out.warn(f"epsilon={eps:g} is above {WEAK_EPSILON:g}: such a DP guarantee protects little (an attacker's odds "
                 "may grow by a factor up to e^epsilon). Fix: use epsilon <= ~3 unless you know why.")
