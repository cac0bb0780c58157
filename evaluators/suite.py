"""``evaluate``: run the fidelity, utility and privacy evaluators and assemble one :class:`Report`."""
from __future__ import annotations

import sys
import time
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

import pandas as pd

from synthgen.privacy.spend import DPSpend, NoGuarantee, spend_from_dict
from synthgen.rng import check_random_state
from synthgen.schema import Schema
from synthgen.schema.validation import text_labels

from . import fidelity, utility
from . import privacy as privacy_eval
from .base import EvaluationError, Result, prepare, synthgen_version, table_sha256
from .report import Report
from .report_audit import audit_dict, epsilon_lb, verdict_problems

GROUPS = {
    "fidelity": ("three_way", "detection", "alpha_precision"),
    "utility": (),
    "privacy": ("mia", "vulnerable", "anonymeter"),
}
KNOWN_METRICS = tuple(GROUPS) + tuple(m for subs in GROUPS.values() for m in subs)

#: Verdict thresholds (risk fails before fidelity/utility warn).
FAIL_MIA_AUC = 0.60
WARN_MIA_AUC = 0.55
FAIL_DCR_SHARE = 0.60
WARN_DCR_SHARE = 0.55
FAIL_EXACT_EXCESS = privacy_eval.FAIL_EXACT_EXCESS
WARN_EXACT_EXCESS = 0.01
WARN_FIDELITY = 0.80
WARN_DETECTION_AUC = 0.90
WARN_TSTR_RATIO = 0.80
#: Native threads (OpenMP/BLAS) used while evaluating.
N_THREADS = 1


def _privacy_dict(privacy_arg: Any) -> dict:
    if privacy_arg is None:
        return {"guarantee": "none", "reason": "no privacy spend was given to the evaluator",
                "warning": "NO DP GUARANTEE: treat this release as carrying no differential-privacy protection."}
    if isinstance(privacy_arg, (DPSpend, NoGuarantee)):
        d = privacy_arg.to_dict()
    elif isinstance(privacy_arg, Mapping):
        d = spend_from_dict(privacy_arg).to_dict()
    else:
        raise EvaluationError(f"privacy must be a DPSpend, NoGuarantee, a dict or None; got "
                              f"{type(privacy_arg).__name__}. Fix: pass generator.privacy_spent_.")
    if d["guarantee"] == "none":
        d["warning"] = "NO DP GUARANTEE: treat this release as carrying no differential-privacy protection."
    return d


def _selected(metrics: Sequence[str] | None) -> tuple[set[str], set[str] | None]:
    if metrics is None:
        return set(GROUPS), None
    if isinstance(metrics, str):
        metrics = [metrics]
    unknown = [m for m in metrics if m not in KNOWN_METRICS]
    if unknown:
        raise EvaluationError(f"Unknown metric name(s) {unknown}. Fix: choose from {list(KNOWN_METRICS)}.")
    chosen = set(metrics)
    groups = {g for g, subs in GROUPS.items() if g in chosen or chosen & set(subs)}
    subs = {s for g, ss in GROUPS.items() for s in ss if g in chosen or s in chosen}
    return groups, subs


def summary_metrics(metrics: Sequence[str] | None, target: str | None, holdout: bool) -> set[str]:
    """The headline metrics (report summary keys) an evaluation with these arguments computes, known before any
    data is read: a release gate threshold on any other one can never pass."""
    groups, subs = _selected(metrics)
    out = set()
    if "fidelity" in groups:
        out |= {"fidelity_score"} | ({"detection_auc"} if subs is None or "detection" in subs else set())
    if "utility" in groups and target is not None:
        out.add("tstr_ratio")
    if "privacy" in groups:
        out |= {"exact_match_rate"} | ({"dcr_share"} if holdout else set())
        out |= {"mia_auc"} if holdout and (subs is None or "mia" in subs) else set()
    return out


def _audit_reasons(audit: Mapping[str, Any] | None, spend: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(fail, warn) reasons from the report's audit section: a violation fails the report."""
    if not audit:
        return [], []
    claimed, lb = float(audit["claimed"]["epsilon"]), epsilon_lb(audit)
    fail = [f"privacy audit: {p}" for p in verdict_problems(audit)]
    warn = []
    if audit["verdict"] == "violation":
        fail.append(f"privacy audit VIOLATION: empirical epsilon >= {lb:.3g} (95% lower bound) exceeds the claimed "
                    f"epsilon {claimed:g} of {audit['generator']!r}")
    elif audit["verdict"] == "inconclusive":
        warn.append(f"privacy audit inconclusive: the run could certify at most epsilon "
                    f"{audit.get('certifiable_epsilon')!s} < the claimed {claimed:g}; run more trials")
    eps = spend.get("epsilon") if spend.get("guarantee") == "dp" else None
    if eps is not None and abs(float(eps) - claimed) > 1e-9 * max(1.0, claimed):
        warn.append(f"the audit is of epsilon {claimed:g} but this release spent epsilon {float(eps):g}: "
                    "it does not describe this release's configuration")
    return fail, warn


def verdict(summary: Mapping[str, Any], results: Sequence[Result], audit: Mapping[str, Any] | None = None) -> dict:
    fail, warn = _audit_reasons(audit, summary["privacy"])
    mia, dcr = summary.get("mia_auc"), summary.get("dcr_share")
    exact = summary.get("exact_match_rate")
    exact_ref = next((r.reference for r in results if r.name == "privacy.exact_match_rate"), None) or 0.0
    if mia is not None:
        if mia >= FAIL_MIA_AUC:
            fail.append(f"membership-attack AUC {mia:.3f} >= {FAIL_MIA_AUC} (0.5 means no membership signal)")
        elif mia >= WARN_MIA_AUC:
            warn.append(f"membership-attack AUC {mia:.3f} >= {WARN_MIA_AUC}")
    if dcr is not None:
        if dcr >= FAIL_DCR_SHARE:
            fail.append(f"DCR share {dcr:.3f} >= {FAIL_DCR_SHARE}: release rows sit closer to training rows than "
                        "to fresh real rows")
        elif dcr >= WARN_DCR_SHARE:
            warn.append(f"DCR share {dcr:.3f} >= {WARN_DCR_SHARE}")
    if exact is not None:
        if exact > exact_ref + FAIL_EXACT_EXCESS:
            fail.append(f"exact-match rate {exact:.3f} exceeds the holdout's {exact_ref:.3f} by more than "
                        f"{FAIL_EXACT_EXCESS}: training rows are copied")
        elif exact > exact_ref + WARN_EXACT_EXCESS:
            warn.append(f"exact-match rate {exact:.3f} above the holdout's {exact_ref:.3f}")
    fs, det, tstr = summary.get("fidelity_score"), summary.get("detection_auc"), summary.get("tstr_ratio")
    if fs is not None and fs < WARN_FIDELITY:
        warn.append(f"fidelity score {fs:.3f} < {WARN_FIDELITY}")
    if det is not None and det > WARN_DETECTION_AUC:
        warn.append(f"a classifier tells synthetic from real rows (detection AUC {det:.3f} > {WARN_DETECTION_AUC})")
    if tstr is not None and tstr < WARN_TSTR_RATIO:
        warn.append(f"train-synthetic/train-real ratio {tstr:.3f} < {WARN_TSTR_RATIO}")
    if summary["privacy"].get("guarantee") != "dp":
        warn.append("NO DP GUARANTEE: the risk numbers above are empirical attacks, not a bound")
    status = "fail" if fail else ("warn" if warn else "pass")
    return {"status": status, "reasons": fail + warn or ["no risk or quality threshold was crossed"]}


def evaluate(real: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame | None = None,
             schema: Schema | None = None, *, target: str | None = None,
             privacy: dict | DPSpend | NoGuarantee | None = None, quasi_identifiers: Sequence[str] = (),
             sensitive: str | None = None, metrics: Sequence[str] | None = None,
             random_state: int = 0, quiet: bool = True, audit: Any = None) -> Report:
    """Evaluate a synthetic table against the real training table (and a real holdout the generator never saw).

    ``metrics`` restricts the work to groups (``"fidelity"``, ``"utility"``, ``"privacy"``) or to the optional
    parts (``"three_way"``, ``"detection"``, ``"alpha_precision"``, ``"mia"``, ``"vulnerable"``,
    ``"anonymeter"``); column shapes, pair trends, exact matches and DCR always run with their group.
    ``audit``: an empirical privacy audit of the generator configuration (an ``AuditResult`` or its dict, e.g. the
    JSON of ``synthgen audit``), shown in the report's "audit" section; a violation fails the report's verdict.
    """
    audit_d = None if audit is None else audit_dict(audit)  # refuse a malformed audit before any work
    import sklearn.ensemble  # noqa: F401 - load the OpenMP runtime first so that the limit below applies to it
    import sklearn.neighbors  # noqa: F401
    from threadpoolctl import threadpool_limits

    # One native thread: on shared machines OpenMP oversubscription made gradient boosting 30x slower.
    with threadpool_limits(limits=N_THREADS):
        return _evaluate(real, synthetic, holdout, schema, target, privacy, quasi_identifiers, sensitive, metrics,
                         random_state, quiet, audit_d)


def _evaluate(real, synthetic, holdout, schema, target, privacy, quasi_identifiers, sensitive, metrics,
              random_state, quiet, audit=None) -> Report:
    from tqdm.auto import tqdm

    rng = check_random_state(random_state)
    groups, subs = _selected(metrics)
    spend = _privacy_dict(privacy)
    t0 = time.perf_counter()
    real, synthetic, holdout = (text_labels(d) if isinstance(d, pd.DataFrame) else d
                                for d in (real, synthetic, holdout))
    prep = prepare(real, synthetic, holdout, schema)
    if isinstance(quasi_identifiers, str):
        quasi_identifiers = [quasi_identifiers]
    if target is not None:
        utility.check_target(prep, target, schema.not_learnable(target) if schema is not None else "")
    privacy_eval.check_qis(prep, quasi_identifiers, sensitive)
    seconds: dict[str, float] = {"prepare": time.perf_counter() - t0}
    clip = fidelity.clipped(prep) if schema is not None else None  # how much of the real data the fit clipped
    results: list[Result] = [clip] if clip is not None else []
    plots: dict[str, Any] = {}
    not_computed: list[dict] = [{"name": f"column:{c}", "reason": "the column is null in every real row, so there "
                                 "is nothing to compare it with: left out of every metric."} for c in prep.skipped]
    util_info: dict | None = None
    steps = [g for g in ("fidelity", "utility", "privacy") if g in groups]
    show = not quiet and sys.stderr.isatty()
    for step in tqdm(steps, desc="evaluating", disable=not show):
        t = time.perf_counter()
        if step == "fidelity":
            res, pl = fidelity.run(prep, rng, subs)
            results += res
            plots.update(pl)
        elif step == "utility":
            util_info = _utility_step(prep, target, rng, results, plots, not_computed)
        else:
            keep = list(prep.real.columns)
            res, pl, nc = privacy_eval.run(prep, rng, quasi_identifiers, sensitive, subs,
                                      real_raw=real[keep], synthetic_raw=synthetic[keep],
                                      holdout_raw=holdout[keep] if holdout is not None else None)
            results += res
            plots.update(pl)
            not_computed += nc
        seconds[step] = time.perf_counter() - t
    summary = _summary(results, util_info, spend, clip, synthetic, schema)
    summary = {"verdict": verdict(summary, results, audit), **summary}
    meta = {"synthgen_version": synthgen_version(), "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "rows": {"real": len(real), "synthetic": len(synthetic),
                     "holdout": len(holdout) if holdout is not None else None},
            "columns": list(prep.real.columns), "target": target,
            "random_state": int(random_state) if isinstance(random_state, int) else 0, "seconds": seconds}
    return Report(tuple(results), summary, meta, plots, tuple(not_computed), audit)


def _utility_step(prep, target, rng, results: list, plots: dict, not_computed: list) -> dict | None:
    """TSTR/TRTR into ``results``/``plots``; without a target, or when it cannot run on this release (e.g. the
    target is null in every synthetic row), a ``not_computed`` entry instead of a crash. Returns its info."""
    if target is None:
        not_computed.append({"name": "utility", "reason": "no target column was given (pass target=...)."})
        return None
    try:
        res, info = utility.run(prep, target, rng)
    except EvaluationError as exc:
        not_computed.append({"name": "utility", "reason": str(exc)})
        return None
    results += res
    plots["utility"] = info
    return info


def _summary(results, util_info, spend, clip, synthetic, schema) -> dict[str, Any]:
    by = {r.name: r for r in results}

    def value(name: str) -> Any:
        return by[name].value if name in by else None

    return {
        "fidelity_score": value("fidelity.score"),
        "detection_auc": value("fidelity.detection_auc"),
        "tstr_ratio": util_info["tstr_ratio"] if util_info else None,
        "mia_auc": value("privacy.mia_auc"),
        "dcr_share": value("privacy.dcr_share"),
        "exact_match_rate": value("privacy.exact_match_rate"),
        # the share of holdout rows equal to a training row by chance (the gate's default copy limit reads it)
        "exact_match_reference": by["privacy.exact_match_rate"].reference if "privacy.exact_match_rate" in by
        else None,
        "privacy": spend,
        # Per column, the share of real training rows outside the declared bounds/categories (owner's evaluation)
        "clipped": {k: v["share"] for k, v in clip.details["columns"].items() if v["share"] > 0} if clip else None,
        # What the report describes: the gate refuses the report for any other table (see table_sha256).
        "synthetic_table": {"sha256": table_sha256(synthetic, schema), "basis": "schema" if schema else "as given"},
    }
