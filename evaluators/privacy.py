"""Privacy risk of a release, each number beside the same number for a real holdout of equal size.

Every risk names the attacker it assumes (``details["attacker"]``). Distances are Euclidean on the shared
encoding (numeric columns scaled to the real 1st-99th percentile range, categories one-hot so that two different
categories are 1 apart), found with scikit-learn's ``NearestNeighbors`` (vectorised, no cross joins); exact
matches are found by hashing whole rows.

Nothing here returns raw values or training-row positions: distances, shares and counts only. These are
statistics of the private training table computed WITHOUT differential privacy: they belong in the owner's
evaluation (labelled not for release), never in a release bundle.

:func:`exact_match_rate` is the one copy check: the evaluators' ``privacy.exact_match_rate`` and the release
gate's ``no_copied_rows`` both count copies with :func:`match_share` on the same prepared encodings.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .base import EvaluationError, Prepared, Result, encode_matrix, numeric_scale, subsample

MAX_ROWS = 5000          # rows per side in distance computations
MIA_RELEASE_ROWS = 20000  # synthetic rows the membership attacker's density estimate uses
KDE_NEIGHBOURS = 20
KDE_FLOOR = -3.0
BANDWIDTH_FACTOR = 0.1

ATTACKERS = {
    "dcr": "holds the release and a candidate record; flags records the release sits unusually close to "
           "(evaluated against the training rows and an equal-size real holdout)",
    "exact_match": "holds the release and checks whether a known record appears in it verbatim",
    "nndr": "holds the release and a candidate record; a release row much closer to the record than to any other "
            "row singles the record out",
    "mia": "holds the release, a reference sample of real rows from the same population that were not used for "
           "training, and candidate records; scores each candidate by release density / reference density "
           "(DOMIAS-style)",
    "k_anonymity": "knows a person's quasi-identifier values and looks them up in the release",
    "l_diversity": "knows a person's quasi-identifier values and reads the sensitive value off their release group",
    "vulnerable": "targets the most isolated training records first (those far from every other training record)",
}


def _nn(fit: np.ndarray, query: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(fit))
    d, i = NearestNeighbors(n_neighbors=k).fit(fit).kneighbors(query)
    return d, i


#: The excess over the holdout's chance matches at which a release is judged to copy training rows: the report's
#: verdict fails it, and so does the release gate's default copy limit (one constant: the two never disagree).
FAIL_EXACT_EXCESS = 0.05


def _row_hashes(frame: pd.DataFrame) -> np.ndarray:
    return pd.util.hash_pandas_object(frame.fillna(-9.87654321e300), index=False).to_numpy()


def match_share(real: pd.DataFrame, other: pd.DataFrame) -> float:
    """Share of ``other``'s rows identical, on every column, to some row of ``real`` (prepared encodings)."""
    if len(other) == 0:
        return 0.0
    real_h = set(_row_hashes(real).tolist())
    return float(np.isin(_row_hashes(other), list(real_h)).mean())


def exact_match(prep: Prepared) -> Result:
    rate = match_share(prep.real, prep.synthetic)
    ref = match_share(prep.real, prep.holdout) if prep.holdout is not None else None
    return Result("privacy.exact_match_rate", "privacy", rate, "lower_is_better", reference=ref,
                  details={"attacker": ATTACKERS["exact_match"],
                           "meaning": "share of release rows identical to some training row; the reference is the "
                                      "share of holdout rows that happen to equal a training row"})


def exact_match_rate(synthetic: pd.DataFrame, real: pd.DataFrame, schema: Any = None) -> float:
    """Share of synthetic rows equal, on every compared column, to some real row (the release gate's copy check).

    Compares the columns both tables hold (the schema's learnable ones when a schema is given) with the same
    encodings as :func:`evaluators.evaluate`. A column entirely null in one table (which :func:`prepare` refuses)
    is matched exactly: only rows null there can match, and the column is then left out.
    """
    from .base import prepare

    cols = [c for c in real.columns if c in synthetic.columns]
    if schema is not None:
        learnable = {f.name for f in schema.learnable}
        cols = [c for c in cols if c in learnable]
    n_syn = len(synthetic)
    real, synthetic = real[cols], synthetic[cols]
    while cols and len(real) and len(synthetic):
        null_r = [c for c in cols if real[c].isna().all()]
        null_s = [c for c in cols if synthetic[c].isna().all()]
        if not null_r and not null_s:
            break
        real = real[real[null_s].isna().all(axis=1)] if null_s else real
        synthetic = synthetic[synthetic[null_r].isna().all(axis=1)] if null_r else synthetic
        cols = [c for c in cols if c not in set(null_r) | set(null_s)]
        real, synthetic = real[cols], synthetic[cols]
    if n_syn == 0 or len(real) == 0 or len(synthetic) == 0:
        return 0.0
    if not cols:  # every column was all-null on some side: the remaining rows are all equal
        return len(synthetic) / n_syn
    prep = prepare(real, synthetic, None, schema)
    return match_share(prep.real, prep.synthetic) * len(synthetic) / n_syn


def _tpr_at(fpr: np.ndarray, tpr: np.ndarray, at: float) -> float:
    ok = fpr <= at + 1e-12
    return float(tpr[ok].max()) if ok.any() else 0.0


def _kde_log_density(release: np.ndarray, targets: np.ndarray, h: float) -> np.ndarray:
    """Log of a Gaussian-kernel density over the record's nearest rows, plus a small uniform background
    (``KDE_FLOOR`` in units of one row's kernel mass) so that empty regions do not dominate the ratio."""
    from scipy.special import logsumexp

    d, _ = _nn(release, targets, KDE_NEIGHBOURS)
    lse = logsumexp(-(d ** 2) / (2 * h * h), axis=1) - math.log(len(release))
    return np.logaddexp(lse, KDE_FLOOR - math.log(len(release)))


def _bandwidth(x: np.ndarray, rng_rows: int = 2000) -> float:
    """Kernel bandwidth: a tenth of the median nearest-neighbour distance within ``x`` (floored).

    Narrow kernels make a release row sitting on a record count far more than rows merely nearby, which is
    what betrays memorisation (tuned on CPS1988 copies: AUC 0.73 where a perfect attack reaches 0.75)."""
    q = x[:rng_rows]
    d, _ = _nn(x, q, 2)
    return max(BANDWIDTH_FACTOR * float(np.median(d[:, -1])), 1e-4)


def membership_attack(x_release: np.ndarray, x_reference: np.ndarray, x_members: np.ndarray,
                      x_nonmembers: np.ndarray) -> dict[str, Any]:
    """DOMIAS-style density-ratio attack: score = log p_release(x) - log p_reference(x).

    Each density is a Gaussian kernel estimate over the record's nearest rows, with a bandwidth from that table's
    own nearest-neighbour distances (constant normalising terms do not change the ranking, hence the AUC).
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    h_rel, h_ref = _bandwidth(x_release), _bandwidth(x_reference)
    targets = np.vstack([x_members, x_nonmembers])
    y = np.r_[np.ones(len(x_members)), np.zeros(len(x_nonmembers))]
    dim = targets.shape[1]
    score = (_kde_log_density(x_release, targets, h_rel) - dim * math.log(h_rel)) \
        - (_kde_log_density(x_reference, targets, h_ref) - dim * math.log(h_ref))
    auc = float(roc_auc_score(y, score))
    fpr, tpr, _ = roc_curve(y, score)
    grid = np.linspace(0, 1, 101)
    return {"auc": auc, "tpr_at_1pct_fpr": _tpr_at(fpr, tpr, 0.01), "tpr_at_10pct_fpr": _tpr_at(fpr, tpr, 0.10),
            "roc_fpr": grid.tolist(), "roc_tpr": np.interp(grid, fpr, tpr).tolist(),
            "bandwidths": [h_rel, h_ref], "n_members": int(len(x_members)), "n_nonmembers": int(len(x_nonmembers))}


def _groups(frame: pd.DataFrame, qis: Sequence[str]) -> pd.Series:
    return frame.groupby(list(qis), dropna=False, sort=False).ngroup()


def k_anonymity(frame: pd.DataFrame, qis: Sequence[str], sensitive: str | None) -> dict[str, Any]:
    g = _groups(frame, qis).to_numpy()
    sizes = np.bincount(g)
    out = {"k": int(sizes.min()), "share_rows_k_below_5": float((sizes[g] < 5).mean()), "n_groups": int(len(sizes))}
    if sensitive is not None:
        pairs = pd.DataFrame({"g": g, "s": frame[sensitive].to_numpy()}).drop_duplicates()
        l_per = pairs.groupby("g").size().reindex(range(len(sizes)), fill_value=1).to_numpy()
        out["l"] = int(l_per.min())
        out["share_groups_l_1"] = float((l_per == 1).mean())
    return out


def check_qis(prep: Prepared, qis: Sequence[str], sensitive: str | None) -> None:
    for q in list(qis) + ([sensitive] if sensitive else []):
        if q not in prep.real.columns:
            raise EvaluationError(f"Column {q!r} (declared as quasi-identifier/sensitive) is not among the compared "
                                  f"columns {list(prep.real.columns)}. Fix: name an existing column.")
    if sensitive is not None and sensitive in qis:
        raise EvaluationError(f"Column {sensitive!r} is both a quasi-identifier and the sensitive column. "
                              "Fix: remove it from quasi_identifiers.")
    if sensitive is not None and not qis:
        raise EvaluationError(f"sensitive={sensitive!r} needs quasi_identifiers for l-diversity. "
                              "Fix: pass quasi_identifiers=[...] (the columns an attacker could know).")


def _hist(values: dict[str, np.ndarray], n_bins: int = 30) -> dict[str, Any]:
    allv = np.concatenate([v for v in values.values() if len(v)])
    hi = float(np.quantile(allv, 0.99)) if len(allv) else 1.0
    hi = hi if hi > 0 else 1.0
    edges = np.linspace(0, hi, n_bins + 1)
    return {"edges": edges.tolist(),
            "counts": {k: {"bins": np.histogram(np.clip(v, 0, hi), bins=edges)[0].tolist(),
                           "zero": int((v <= 1e-9).sum()), "n": int(len(v))} for k, v in values.items()}}


@dataclass
class _Collected:
    """What :func:`run` gathers: results, plot statistics, and the risks not computed (with the reason)."""

    results: list[Result] = field(default_factory=list)
    plots: dict[str, Any] = field(default_factory=dict)
    not_computed: list[dict] = field(default_factory=list)


def _share_closer(d_a: np.ndarray, d_b: np.ndarray) -> float:
    return float((d_a[:, 0] < d_b[:, 0]).mean() + 0.5 * (d_a[:, 0] == d_b[:, 0]).mean())


def _nndr(d: np.ndarray) -> np.ndarray:
    return np.where(d[:, 1] > 0, d[:, 0] / np.where(d[:, 1] > 0, d[:, 1], 1.0), 1.0 * (d[:, 0] > 0))


def _distance_risks(xs: np.ndarray, xt: np.ndarray, xh: np.ndarray, out: _Collected) -> None:
    """DCR share and NNDR (release vs training); reference: half the holdout vs the other half."""
    m = len(xh)
    d_st, _ = _nn(xt, xs, 2)
    d_sh, _ = _nn(xh, xs, 1)
    half = m // 2
    h1, h2 = xh[:half], xh[half: 2 * half]
    d_rt, _ = _nn(xt[:half], h1, 2)
    d_rh, _ = _nn(h2, h1, 1)
    out.results.append(Result("privacy.dcr_share", "privacy", _share_closer(d_st, d_sh), "lower_is_better",
                              reference=_share_closer(d_rt, d_rh),
                              details={"attacker": ATTACKERS["dcr"], "ideal": 0.5,
                                       "meaning": "share of release rows closer to the training rows than to an "
                                                  "equal-size real holdout (ties count half)",
                                       "rows": {"release": len(xs), "training": m, "holdout": m}}))
    nn_s, nn_r = _nndr(d_st), _nndr(d_rt)
    out.results.append(Result("privacy.nndr", "privacy", float(np.quantile(nn_s, 0.05)), "higher_is_better",
                              reference=float(np.quantile(nn_r, 0.05)),
                              details={"attacker": ATTACKERS["nndr"], "statistic": "5th percentile of the "
                                       "nearest/second-nearest training distance ratio",
                                       "median": float(np.median(nn_s)), "reference_median": float(np.median(nn_r))}))
    out.plots["dcr"] = _hist({"synthetic_to_training": d_st[:, 0], "synthetic_to_holdout": d_sh[:, 0],
                              "holdout_to_training": d_rt[:, 0]})


def _mia(prep: Prepared, rng: np.random.Generator, enc: Any, out: _Collected) -> None:
    """Membership inference against the release, beside the same attack on a real holdout part."""
    n_h = len(prep.holdout)
    third = n_h // 3
    if third < 30:
        out.not_computed.append({"name": "privacy.mia", "reason": f"the holdout has {n_h} rows; the membership "
                                 "attack needs at least 90 (reference, non-member targets, real release)."})
        return
    perm = rng.permutation(n_h)
    cap = min(third, MAX_ROWS)
    a_idx, b_idx, c_idx = perm[:third][:cap], perm[third: 2 * third][:cap], perm[2 * third: 3 * third][:cap]
    x_ref, x_non, x_c = enc(prep.holdout, a_idx), enc(prep.holdout, b_idx), enc(prep.holdout, c_idx)
    x_mem = enc(prep.real, subsample(len(prep.real), len(b_idx), rng))
    x_rel = enc(prep.synthetic, subsample(len(prep.synthetic), MIA_RELEASE_ROWS, rng))
    att = membership_attack(x_rel, x_ref, x_mem, x_non)
    att_ref = membership_attack(x_c, x_ref, x_mem, x_non)
    base = {"attacker": ATTACKERS["mia"], "reference_release": "a real holdout part the generator "
            f"never saw ({len(c_idx)} rows)", "release_rows": int(len(x_rel)),
            "reference_rows": int(len(a_idx)), "n_members": att["n_members"], "n_nonmembers": att["n_nonmembers"]}
    for key, name, ideal in (("auc", "mia_auc", 0.5), ("tpr_at_1pct_fpr", "mia_tpr_at_1pct_fpr", 0.01),
                             ("tpr_at_10pct_fpr", "mia_tpr_at_10pct_fpr", 0.10)):
        out.results.append(Result(f"privacy.{name}", "privacy", att[key], "lower_is_better",
                                  reference=att_ref[key], details={**base, "ideal": ideal}))
    out.plots["mia_roc"] = {"fpr": att["roc_fpr"], "tpr": att["roc_tpr"], "reference_tpr": att_ref["roc_tpr"]}


def _vulnerable(xs: np.ndarray, xt: np.ndarray, xh: np.ndarray, out: _Collected) -> None:
    """The most isolated training rows, and whether the release sits on them (aggregate shares only)."""
    d_tt, _ = _nn(xt, xt, 2)
    isolation = d_tt[:, 1]
    d_ts, _ = _nn(xs, xt, 1)
    d_th, _ = _nn(xh, xt, 1)
    top = max(1, int(math.ceil(0.01 * len(xt))))
    order = np.argsort(-isolation)[:top]
    close_s = d_ts[order, 0] < 0.5 * isolation[order]
    close_h = d_th[order, 0] < 0.5 * isolation[order]
    out.results.append(Result("privacy.vulnerable_records_exposed", "privacy", float(close_s.mean()),
                              "lower_is_better", reference=float(close_h.mean()),
                              details={"attacker": ATTACKERS["vulnerable"],
                                       "meaning": "share of the 1% most isolated training rows with a release "
                                                  "row closer than half their distance to any other training "
                                                  "row (reference: the same with holdout rows)",
                                       "n_targets": top, "share_copied": float((d_ts[order, 0] <= 1e-9).mean()),
                                       "note": "aggregate shares only: no per-row data and no values"}))


def _anonymity(prep: Prepared, rng: np.random.Generator, qis: Sequence[str], sensitive: str | None,
               out: _Collected) -> None:
    """k-anonymity and l-diversity of the release on declared quasi-identifiers, beside a holdout of equal size."""
    if not qis:
        out.not_computed.append({"name": "privacy.k_anonymity", "reason": "no quasi-identifiers were declared "
                                 "(pass quasi_identifiers=[...], the columns an attacker could know)."})
        return
    mm = min(len(prep.synthetic), len(prep.holdout)) if prep.holdout is not None else len(prep.synthetic)
    ka = k_anonymity(prep.synthetic.iloc[subsample(len(prep.synthetic), mm, rng)], qis, sensitive)
    kr = k_anonymity(prep.holdout.iloc[subsample(len(prep.holdout), mm, rng)], qis, sensitive) \
        if prep.holdout is not None else None
    base = {"quasi_identifiers": list(qis), "rows": mm, "groups": ka["n_groups"]}
    out.results.append(Result("privacy.k_anonymity", "privacy", ka["k"], "higher_is_better",
                              reference=kr["k"] if kr else None,
                              details={**base, "attacker": ATTACKERS["k_anonymity"],
                                       "share_rows_k_below_5": ka["share_rows_k_below_5"],
                                       "reference_share_rows_k_below_5": kr["share_rows_k_below_5"] if kr else None}))
    if sensitive is None:
        out.not_computed.append({"name": "privacy.l_diversity", "reason": "no sensitive column was declared "
                                 "(pass sensitive=...)."})
        return
    out.results.append(Result("privacy.l_diversity", "privacy", ka["l"], "higher_is_better",
                              reference=kr["l"] if kr else None,
                              details={**base, "sensitive": sensitive, "attacker": ATTACKERS["l_diversity"],
                                       "share_groups_l_1": ka["share_groups_l_1"],
                                       "reference_share_groups_l_1": kr["share_groups_l_1"] if kr else None}))


def run(prep: Prepared, rng: np.random.Generator, quasi_identifiers: Sequence[str] = (),
        sensitive: str | None = None, metrics: set[str] | None = None, real_raw: pd.DataFrame | None = None,
        synthetic_raw: pd.DataFrame | None = None, holdout_raw: pd.DataFrame | None = None
        ) -> tuple[list[Result], dict[str, Any], list[dict]]:
    """All privacy results, plot statistics, and the risks that were not computed (with the reason)."""
    def want(m: str) -> bool:
        return metrics is None or m in metrics

    out = _Collected(results=[exact_match(prep)])
    check_qis(prep, quasi_identifiers, sensitive)
    scale = numeric_scale(prep)

    def enc(frame: pd.DataFrame, idx: np.ndarray) -> np.ndarray:
        return encode_matrix(prep, frame.iloc[idx], scale)

    if prep.holdout is None:
        for name in ("dcr_share", "nndr", "mia", "vulnerable_records"):
            out.not_computed.append({"name": f"privacy.{name}", "reason": "no holdout was given: these risks "
                                     "compare the release with real rows the generator never saw. Pass holdout=..."})
    else:
        h_idx = subsample(len(prep.holdout), MAX_ROWS, rng)
        t_idx = subsample(len(prep.real), len(h_idx), rng)            # training rows, equal size to the holdout
        s_idx = subsample(len(prep.synthetic), MAX_ROWS, rng)
        xh, xt, xs = enc(prep.holdout, h_idx), enc(prep.real, t_idx), enc(prep.synthetic, s_idx)
        _distance_risks(xs, xt, xh, out)
        if want("mia"):
            _mia(prep, rng, enc, out)
        if want("vulnerable"):
            _vulnerable(xs, xt, xh, out)
    _anonymity(prep, rng, quasi_identifiers, sensitive, out)
    if want("anonymeter"):
        out.not_computed += _anonymeter(out.results, real_raw, synthetic_raw, holdout_raw, list(prep.real.columns))
    return out.results, out.plots, out.not_computed


def _anonymeter(results: list[Result], real: pd.DataFrame | None, syn: pd.DataFrame | None,
                control: pd.DataFrame | None, columns: list[str]) -> list[dict]:
    """Anonymeter's singling-out, linkability and inference risks, when that optional package is importable."""
    names = ("privacy.anonymeter_singling_out", "privacy.anonymeter_linkability", "privacy.anonymeter_inference")
    try:
        from anonymeter.evaluators import InferenceEvaluator, LinkabilityEvaluator, SinglingOutEvaluator
    except ImportError:
        reason = ("NOT COMPUTED: the optional 'anonymeter' package is not installed (it pins numpy<1.27, so it "
                  "cannot live beside synthgen's numpy 2 core; run it in a separate environment).")
        return [{"name": n, "reason": reason} for n in names]
    if real is None or syn is None or control is None:
        return [{"name": n, "reason": "NOT COMPUTED: anonymeter needs a holdout (its control set)."} for n in names]
    ori, syn, ctl = real[columns], syn[columns], control[columns]
    n_attacks = int(min(500, len(ctl), len(syn)))
    attacker = "holds the release and partial knowledge of target records; anonymeter's control set calibrates it"
    out = []
    try:
        ev = SinglingOutEvaluator(ori=ori, syn=syn, control=ctl, n_attacks=n_attacks)
        ev.evaluate(mode="univariate")
        r = ev.risk()
        results.append(Result(names[0], "privacy", r.value, "lower_is_better", ci=tuple(r.ci),
                              details={"attacker": attacker}))
        half = len(columns) // 2
        ev = LinkabilityEvaluator(ori=ori, syn=syn, control=ctl, n_attacks=n_attacks,
                                  aux_cols=(columns[:half], columns[half:]), n_neighbors=10)
        ev.evaluate(n_jobs=1)
        r = ev.risk(n_neighbors=10)
        results.append(Result(names[1], "privacy", r.value, "lower_is_better", ci=tuple(r.ci),
                              details={"attacker": attacker}))
        secret = columns[-1]
        ev = InferenceEvaluator(ori=ori, syn=syn, control=ctl, aux_cols=columns[:-1], secret=secret,
                                n_attacks=n_attacks)
        ev.evaluate(n_jobs=1)
        r = ev.risk()
        results.append(Result(names[2], "privacy", r.value, "lower_is_better", ci=tuple(r.ci),
                              details={"attacker": attacker, "secret": secret}))
    except Exception as exc:  # noqa: BLE001 - an optional extra must not break the report; say what happened
        done = {r.name for r in results}
        out += [{"name": n, "reason": f"NOT COMPUTED: anonymeter failed ({type(exc).__name__})."}
                for n in names if n not in done]
    return out
