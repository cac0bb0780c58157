"""Independent accounting check: recompute a fitted model's epsilon from what it records, with accountants outside
the training path (Google's ``dp-accounting``: PLD, and RDP as a second, looser reading), and flag disagreement.

What is recomputed (add/remove one row throughout):

- DP-CTGAN (details ``row_count``, ``counts``, ``dpsgd``, ``rest``): the noisy row count is one Gaussian with the
  recorded noise multiplier at the recorded row-count delta; the rest is the count release (one Gaussian, the
  recorded joint noise multiplier) composed with the PLANNED number of Poisson-subsampled Gaussian DP-SGD steps
  at the recorded rate and noise multiplier (the guarantee is that of the planned run; stopping early is
  post-processing), at the recorded rest delta. The two add up by basic composition, as in the fit. When the
  parameters are at hand, the recorded schedule is also checked against the plan's rule
  (``q = min(0.5, batch_size / n_hat)``, ``max(1, int(epochs / q))`` steps).
- zCDP generators (dp-copula, dp-image; details ``rho_split``): every share is a Gaussian mechanism of L2
  sensitivity 1 with noise multiplier ``1 / sqrt(2 rho)``; a composition of Gaussians is the Gaussian with
  ``sum 1/sigma^2`` (an identity), so PLD reads one Gaussian with ``rho = sum of the shares`` at the claimed
  delta. The claim itself is the Canonne-Kamath-Steinke conversion of rho, which is looser than the exact
  Gaussian: PLD reads lower, RDP (the same conversion on a grid of orders) reads about the claim; the plain
  ``rho + 2 sqrt(rho log(1/delta))`` is reported as the loosest upper check.

Agreement. ``covers``: the PLD reading is at most the claim (times ``1 + tolerance``): the recorded mechanism
spends no more than claimed, which is the privacy-relevant direction (an epsilon edited lower, or a noise
multiplier edited lower, fails it). ``not_overclaimed``: the claim is at most the RDP reading (times
``1 + tolerance``): a claim above every accountant's reading says the record and the claim do not belong
together (conservative, not a leak). ``agrees`` is both. This checks the BOOKKEEPING: a model whose code adds
less noise than it records passes it; catching that is the empirical audit's job (:mod:`.game`, :mod:`.one_run`).
"""
from __future__ import annotations

import contextlib
import logging
import math
from pathlib import Path
from typing import Any, Iterator, Mapping

from synthgen.exceptions import PrivacyError

TOLERANCE = 0.02
ACCOUNTANT = "dp-accounting PLD"


class AccountingCheckError(PrivacyError):
    """The accounting check cannot run: dp-accounting missing, or a record it cannot read."""


def _dpa() -> Any:
    try:
        import dp_accounting
    except ImportError:
        raise AccountingCheckError("the independent accounting check needs Google's dp-accounting package. "
                                   "Fix: pip install dp-accounting") from None
    return dp_accounting


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """dp-accounting's RDP logs (through absl) every fractional order it skips; keep them off the console."""
    log = logging.getLogger("absl")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _epsilon(event: Any, delta: float, which: str) -> float:
    dpa = _dpa()
    rel = dpa.NeighboringRelation.ADD_OR_REMOVE_ONE
    acc = dpa.pld.PLDAccountant(rel) if which == "pld" else dpa.rdp.RdpAccountant(neighboring_relation=rel)
    with _quiet():
        acc.compose(event)
        return float(acc.get_epsilon(float(delta)))


def _readings(event: Any, delta: float) -> dict:
    return {"pld": _epsilon(event, delta, "pld"), "rdp": _epsilon(event, delta, "rdp")}


def _gaussian(noise_multiplier: float) -> Any:
    return _dpa().GaussianDpEvent(float(noise_multiplier))


def _dpsgd(noise_multiplier: float, sample_rate: float, steps: int) -> Any:
    dpa = _dpa()
    return dpa.SelfComposedDpEvent(dpa.PoissonSampledDpEvent(float(sample_rate), _gaussian(noise_multiplier)),
                                   int(steps))


# ------------------------------------------------------------------------------------------------ inputs
def _record(obj: Any) -> tuple[str, dict, dict]:
    """``(generator, privacy dict, params)`` from a fitted model, a manifest dict or a model directory/manifest."""
    if isinstance(obj, (str, Path)):
        from synthgen.persistence import read_manifest

        obj = read_manifest(obj)
    if isinstance(obj, Mapping):
        if "privacy" not in obj:
            raise AccountingCheckError("the manifest has no 'privacy' record. Fix: pass a fitted model or the "
                                       "dict of its manifest.json.")
        return str(obj.get("generator", "")), dict(obj["privacy"]), dict(obj.get("params") or {})
    spent = getattr(obj, "privacy_spent_", None)
    if spent is None:
        raise AccountingCheckError(f"{type(obj).__name__} is not fitted (no privacy_spent_). Fix: fit it first.")
    return str(getattr(obj, "registry_name", "")), spent.to_dict(), dict(obj.get_params())


def _dp_record(privacy: Mapping[str, Any]) -> tuple[dict, str | None]:
    """The (epsilon, delta, details) record to check and, for a fit without a guarantee, its reason."""
    if privacy.get("guarantee") == "dp":
        return dict(privacy), None
    acc = privacy.get("accounted")
    if privacy.get("guarantee") == "none" and acc:
        return dict(acc), str(privacy.get("reason"))
    raise AccountingCheckError(f"nothing to recompute: the model claims no guarantee "
                               f"({privacy.get('reason', 'unspecified')}) and records no accountant spend.")


# ------------------------------------------------------------------------------------------------ DP-CTGAN
def _ctgan_schedule(details: Mapping[str, Any], params: Mapping[str, Any]) -> dict | None:
    """The recorded schedule against the plan's rule, from the noisy row count (None without the parameters)."""
    if "batch_size" not in params:
        return None
    from synthgen.generators.ctgan.plan import DEFAULT_EPOCHS
    from synthgen.privacy.analysis.dpsgd_plan import MAX_SAMPLE_RATE, dpsgd_steps, sample_rate

    epochs = DEFAULT_EPOCHS if params.get("epochs") is None else int(params["epochs"])
    q = sample_rate(int(params["batch_size"]), float(details["row_count"]["value"]), MAX_SAMPLE_RATE)
    steps = dpsgd_steps(epochs, q)
    sgd = details["dpsgd"]
    ok = math.isclose(q, float(sgd["sample_rate"]), rel_tol=1e-9) and steps == int(sgd["planned_steps"])
    return {"sample_rate": q, "planned_steps": steps, "matches_record": ok}


def _check_ctgan(record: Mapping[str, Any], params: Mapping[str, Any], tol: float) -> tuple[float, float, dict]:
    """``(pld epsilon, rdp epsilon, detail)`` of a DP-CTGAN record (see the module docstring)."""
    d = record["details"]
    rc, sgd, rest = d["row_count"], d["dpsgd"], d["rest"]
    counts = d.get("counts") or None
    row = _readings(_gaussian(rc["noise_multiplier"]), rc["delta"])
    events = [_gaussian(counts["noise_multiplier"])] if counts else []
    events.append(_dpsgd(sgd["noise_multiplier"], sgd["sample_rate"], sgd["planned_steps"]))
    tail = _readings(_dpa().ComposedDpEvent(events), rest["delta"])
    detail = {
        "method": "basic composition of the noisy row count (one Gaussian) and the rest (the count release "
                  "composed with the planned DP-SGD steps)",
        "row_count": {"noise_multiplier": rc["noise_multiplier"], "delta": rc["delta"],
                      "epsilon_recorded": rc["epsilon"], "epsilon_pld": row["pld"], "epsilon_rdp": row["rdp"]},
        "rest": {"count_noise_multiplier": counts["noise_multiplier"] if counts else None,
                 "noise_multiplier": sgd["noise_multiplier"], "sample_rate": sgd["sample_rate"],
                 "planned_steps": sgd["planned_steps"], "steps_taken": sgd.get("steps"), "delta": rest["delta"],
                 "epsilon_recorded": rest["epsilon"], "epsilon_pld": tail["pld"], "epsilon_rdp": tail["rdp"],
                 "epsilon_prv_recorded": sgd.get("epsilon_prv")},
        "delta_recomputed": float(rc["delta"]) + float(rest["delta"]),
        "parts_cover": bool(row["pld"] <= float(rc["epsilon"]) * (1 + tol) + 1e-12
                            and tail["pld"] <= float(rest["epsilon"]) * (1 + tol) + 1e-12),
        "schedule": _ctgan_schedule(d, params)}
    return row["pld"] + tail["pld"], row["rdp"] + tail["rdp"], detail


# ------------------------------------------------------------------------------------------------ zCDP
def _check_zcdp(record: Mapping[str, Any]) -> tuple[float, float, dict]:
    """``(pld epsilon, rdp epsilon, detail)`` of a zCDP record whose shares are Gaussian mechanisms."""
    d = record["details"]
    split = {str(k): float(v) for k, v in dict(d["rho_split"]).items()}
    if not split or any(not (math.isfinite(v) and v >= 0) for v in split.values()):
        raise AccountingCheckError("the record's rho_split is empty or holds a negative or non-finite share.")
    rho = sum(split.values())
    delta = float(record["delta"]) - sum(float(v) for v in dict(d.get("delta_split") or {}).values())
    if rho == 0:
        return 0.0, 0.0, {"rho": 0.0, "method": "nothing spent"}
    sigma = 1.0 / math.sqrt(2.0 * rho)  # sum_i 1/sigma_i^2 = 2 sum_i rho_i: the composed Gaussian
    read = _readings(_gaussian(sigma), delta)
    detail = {"method": "the zCDP shares as Gaussian mechanisms (L2 sensitivity 1) composed into one Gaussian "
                        "with rho = sum of the shares",
              "assumption": "every share is a Gaussian mechanism (true of dp-copula and dp-image); a non-Gaussian "
                            "rho-zCDP share can spend more than the Gaussian's PLD reading",
              "rho_split": split, "rho": rho, "rho_recorded": d.get("rho_spent"),
              "rho_sum_matches_record": d.get("rho_spent") is None
              or math.isclose(rho, float(d["rho_spent"]), rel_tol=1e-9),
              "delta_for_conversion": delta, "noise_multiplier": sigma, "epsilon_pld": read["pld"],
              "epsilon_rdp": read["rdp"],
              "epsilon_classical": rho + 2.0 * math.sqrt(rho * math.log(1.0 / delta)) if delta > 0 else math.inf}
    return read["pld"], read["rdp"], detail


# ------------------------------------------------------------------------------------------------ the check
def check_accounting(model_or_manifest: Any, *, tolerance: float = TOLERANCE) -> dict:
    """Recompute the epsilon a fitted model (or its manifest dict, or a model directory) records, with
    dp-accounting's PLD accountant (RDP beside it), and compare it with the claimed epsilon.

    Returns ``{"accountant", "epsilon_recomputed", "epsilon_claimed", "agrees", "tolerance", "detail"}``;
    ``detail`` holds ``covers`` / ``not_overclaimed`` (see the module docstring), ``status`` (``"agrees"``,
    ``"under-claimed"``: the record spends more than the claim, or ``"over-claimed"``) and the per-part readings.
    """
    if not (isinstance(tolerance, (int, float)) and 0 <= tolerance < 1):
        raise AccountingCheckError(f"tolerance must be a number in [0, 1); got {tolerance!r}.")
    generator, privacy, params = _record(model_or_manifest)
    record, no_guarantee = _dp_record(privacy)
    details = dict(record.get("details") or {})
    try:
        if {"row_count", "dpsgd", "rest"} <= set(details):
            pld, rdp, detail = _check_ctgan(record, params, float(tolerance))
        elif "rho_split" in details:
            pld, rdp, detail = _check_zcdp(record)
        else:
            raise AccountingCheckError(f"no recomputation known for the {generator or 'unknown'} generator's "
                                       "record (neither DP-SGD nor zCDP shares). Fix: check it by hand.")
    except (KeyError, TypeError, ValueError) as exc:
        raise AccountingCheckError(f"the {generator or 'model'}'s privacy record is incomplete or malformed "
                                   f"({type(exc).__name__}: {exc}).") from None
    claimed = float(record["epsilon"])
    covers = pld <= claimed * (1.0 + tolerance) + 1e-12
    delta_ok = detail.get("delta_recomputed", record["delta"]) <= float(record["delta"]) * (1 + 1e-9)
    schedule_ok = (detail.get("schedule") or {}).get("matches_record", True)
    covers = bool(covers and delta_ok and schedule_ok and detail.get("rho_sum_matches_record", True)
                  and detail.get("parts_cover", True))
    not_over = bool(claimed <= max(rdp, pld) * (1.0 + tolerance) + 1e-12)
    detail.update({"generator": generator, "covers": covers, "not_overclaimed": not_over,
                   "delta_claimed": float(record["delta"]), "delta_ok": bool(delta_ok),
                   "epsilon_rdp": rdp, "second_accountant": "dp-accounting RDP",
                   "status": "agrees" if covers and not_over else ("under-claimed" if not covers else "over-claimed"),
                   "no_guarantee": no_guarantee})
    return {"accountant": ACCOUNTANT, "epsilon_recomputed": pld, "epsilon_claimed": claimed,
            "agrees": bool(covers and not_over), "tolerance": float(tolerance), "detail": detail}
