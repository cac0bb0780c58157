"""Scores of the distinguishing game: what the attacker computes from one fit to guess "D'" (the canary is in).

Three strengths, each a list of named statistics (the first is the strength's primary one; the game's threshold
half picks the best of them, the bound half judges only that one):

- ``white-box`` (dp-copula): the released noisy statistics themselves. The attacker knows D and the canary, so
  from the release it subtracts D's exact contribution and projects what is left on the canary's contribution,
  weighted by the known Gaussian noise: the likelihood-ratio statistic of the mechanism (``release-lr``),
  ``T = (sum_j r_j / s_c^2 + <R, C> / s_g^2) / mu`` with ``r_j`` the residual of column j's noisy histogram at the
  canary's bin, ``R`` the residual of the noisy Gram matrix (upper triangle), ``C`` the canary's clipped
  contribution, ``s_c``/``s_g`` the noise standard deviations of the plan, and
  ``mu^2 = sum_j 1 / s_c^2 + ||C||^2 / s_g^2``. T is N(0, 1) on D and N(mu, 1) on D': the optimal test, and mu
  is the mechanism's exact Gaussian-DP parameter for this canary (:func:`copula_mechanism_mu`). The release is
  read by recording the object that the generator's measure step hands to its estimate step (no code of the
  generator is re-implemented, so a broken measure step is audited as it is).
  dp-marginal's white-box score is the same likelihood-ratio statistic over its noisy measurements
  (``measurements_``: clique, noisy counts, sigma), the canary's cell in each (its merged cell in a coarse
  measurement); its mu is that of the measurements
  (the exponential-mechanism selection also leaks, unscored).
  dp-ctgan's white-box score is its released noisy marginal counts at the canary's slots (``released-count``:
  its stored frequencies times its DP row estimate); its DP-SGD part is left to the one-run audit.
- ``model-based``: the fitted model's probability of the canary's bin or category (dp-copula's marginals,
  dp-ctgan's stored frequencies), or, for other generators, the share of the model's samples near the canary.
- ``black-box``: only synthetic rows: the share of 2,000 sampled rows in the canary's neighbourhood (within 2 %
  of the declared range of its value, or its category).

White-box and model-based scores also read what a fitted model publishes besides its statistics: its row estimate
(``rows-estimate``), whether the canary lies inside the bounds and categories the model records
(``declared-support``: a model whose domain was read off the data shows it); the game adds one statistic per field
of the metadata a fit releases (``metadata:<path>``, :mod:`.metadata`: a spend or manifest field that depends on
the exact data differs deterministically between the worlds).
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pandas as pd

from synthgen.exceptions import ConfigError
from synthgen.generators import registry
from synthgen.generators.marginal.coarse import coarse_index

from .worlds import WorldPair

STRENGTHS = ("white-box", "model-based", "black-box")
BLACK_BOX_SAMPLES = 2000
NEAR_SHARE = 0.02
Statistic = Callable[[Any, WorldPair], float]


# ------------------------------------------------------------------------------------- recording the release
_RECORDING: dict[type, type] = {}


def recording_class(cls: type) -> type:
    """A subclass of the DP copula that keeps the release its measure step produced (``audit_release_``) and the
    plan (``audit_plan_``). Everything else, including ``fit`` (and whatever is patched into it), is inherited."""
    if cls not in _RECORDING:
        def _estimate(self: Any, release: Any, plan: Any, rng: Any) -> None:
            self.audit_release_, self.audit_plan_ = release, plan
            super(sub, self)._estimate(release, plan, rng)

        sub = type(f"Audited{cls.__name__}", (cls,), {"_estimate": _estimate, "__module__": __name__})
        _RECORDING[cls] = sub
    return _RECORDING[cls]


def make_generator(name: str, strength: str, params: dict) -> Any:
    cls = registry.get(name)
    if strength == "white-box" and name == "dp-copula":
        cls = recording_class(cls)
    return cls(**params)


# ------------------------------------------------------------------------------------- dp-copula white-box
def _slots(b: Any, s: pd.Series) -> np.ndarray:
    idx = b.bin_index(s.reset_index(drop=True))
    return np.where(idx < 0, b.n_value_bins, idx)


def _residual(hist: np.ndarray, slots_d: np.ndarray, slot_c: int, size: int) -> float:
    """The released noisy count of the canary's cell minus D's exact count there (which the attacker knows)."""
    return float(hist[slot_c]) - float(np.sum(slots_d == slot_c)) if slot_c < size else 0.0


def _column_terms(b: Any, hist: np.ndarray, fine: Any, rules: Any, slot_d: np.ndarray, slot_c: int, r: float
                  ) -> tuple[float, float, Any]:
    """(numerator, mu^2, latent column) of one column's histogram release(s). An adaptive column (working
    copies of dp-copula that release a noisy FINE histogram and a histogram over model bins derived from it)
    contributes both, each with its own noise; the model bins are recomputed from the released fine histogram
    by the generator's own rule."""
    from synthgen.generators.copula import latent as L
    from synthgen.privacy.analysis import gaussian_sigma

    if fine is None or not getattr(b, "adaptive", False):
        rho = rules.rho_model(b) if hasattr(rules, "rho_model") else rules.rho_column
        var = gaussian_sigma(rho) ** 2
        return r * _residual(hist, slot_d, slot_c, len(hist)) / var, r * r / var, L.latent_column(b, hist, rules)
    bounds = L.model_bounds(b, fine, rules)
    var_f, var_m = gaussian_sigma(rules.rho_fine(b)) ** 2, gaussian_sigma(rules.rho_model(b)) ** 2
    k = b.n_value_bins  # fine value bins; slot k is the null slot

    def model_slot(s: np.ndarray) -> np.ndarray:
        return np.where(s < k, np.searchsorted(bounds, s, side="right") - 1, len(bounds) - 1)

    num = _residual(fine, slot_d, slot_c, k) / var_f
    num += _residual(hist, model_slot(slot_d), int(model_slot(np.array([slot_c]))[0]), len(hist)) / var_m
    mu2 = (1.0 / var_f if slot_c < k else 0.0) + 1.0 / var_m
    return r * num, r * r * mu2, L.latent_column(b, hist, rules, bounds)


def _copula_lr(gen: Any, w: WorldPair) -> tuple[float, float]:
    """(T, mu) of the white-box likelihood-ratio statistic (module docstring)."""
    from synthgen.privacy.analysis import gaussian_sigma
    from synthgen.privacy.mechanisms import clip_rows_l2

    release, plan = getattr(gen, "audit_release_", None), getattr(gen, "audit_plan_", None)
    if release is None or plan.key_name is not None or len(release.parts) != 1:
        raise ConfigError("the white-box score reads dp-copula's release without condition_on. Fix: drop "
                          "condition_on from the audited parameters or use score='model-based'.")
    pr, r, canary = release.parts[0], float(w.repeats), w.canary_rows.iloc[:1]
    fines = tuple(getattr(pr, "fine", ())) or (None,) * len(plan.columns)
    num, mu2 = 0.0, 0.0
    d_scores, c_scores, aq = [], [], 0.0
    for b, hist, fine in zip(plan.columns, pr.histograms, fines):
        slot_d, slot_c = _slots(b, w.base[b.name]), int(_slots(b, canary[b.name])[0])
        n, m2, lat = _column_terms(b, hist, fine, plan.rules, slot_d, slot_c, r)
        num, mu2 = num + n, mu2 + m2
        d_scores.append(lat.tables[slot_d])
        c_scores.append(lat.tables[slot_c])
        aq += float(np.sum(lat.a * lat.q))
    if pr.gram is not None:
        bound = math.sqrt(max(plan.clip_factor * aq, 1.0))
        s_d = clip_rows_l2(np.concatenate(d_scores, axis=1), bound)
        s_c = clip_rows_l2(np.concatenate(c_scores)[None, :], bound)[0]
        iu = np.triu_indices(len(s_c))
        resid = (pr.gram - s_d.T @ s_d)[iu]
        contrib = r * np.outer(s_c, s_c)[iu]
        var_g = gaussian_sigma(plan.rho_correlation, bound ** 2) ** 2
        num += float(contrib @ resid) / var_g
        mu2 += float(contrib @ contrib) / var_g
    mu = math.sqrt(mu2)
    return num / mu, mu


def copula_release_lr(gen: Any, w: WorldPair) -> float:
    return _copula_lr(gen, w)[0]


def copula_mechanism_mu(gen: Any, w: WorldPair) -> float:
    """The Gaussian-DP mu of dp-copula's release for this canary (the mean shift of :func:`copula_release_lr`)."""
    return _copula_lr(gen, w)[1]


# ------------------------------------------------------------------------------------- dp-marginal white-box
def _cell(codecs: dict, clique: tuple, rows: pd.DataFrame) -> np.ndarray:
    """Flat cell index of every row of ``rows`` in ``clique``'s marginal (C order, the generator's codecs)."""
    if not clique:
        return np.zeros(len(rows), dtype=np.int64)
    cols = [codecs[a].encode(rows[a].reset_index(drop=True)) for a in clique]
    return np.ravel_multi_index(cols, tuple(codecs[a].size for a in clique)) if len(cols) > 1 else cols[0]


def _marginal_lr(gen: Any, w: WorldPair) -> tuple[float, float]:
    """(T, mu) of the likelihood-ratio statistic on dp-marginal's noisy measurements: per measurement, the
    residual of the canary's cell (noisy count minus D's exact count, which the attacker knows) over the
    measurement's recorded sigma^2, as for dp-copula (module docstring). The selection step's leak is not scored."""
    codecs = {c.name: c for c in gen.codecs_}
    r, num, mu2 = float(w.repeats), 0.0, 0.0
    for m in gen.measurements_:
        clique, maps = tuple(m.clique), tuple(getattr(m, "maps", ()))

        def cells(rows: pd.DataFrame) -> np.ndarray:  # full cells, or the merged cells of a coarse measurement
            full = _cell(codecs, clique, rows)
            return coarse_index(full, [codecs[a].size for a in clique], maps) if maps else full

        cell = int(cells(w.canary_rows.iloc[:1])[0])
        exact = float(np.sum(cells(w.base) == cell)) if clique else float(len(w.base))
        num += r * (float(np.ravel(m.values)[cell]) - exact) / m.sigma ** 2
        mu2 += r * r / m.sigma ** 2
    if mu2 <= 0:
        raise ConfigError("the dp-marginal fit released no measurement to score.")
    mu = math.sqrt(mu2)
    return num / mu, mu


def marginal_release_lr(gen: Any, w: WorldPair) -> float:
    return _marginal_lr(gen, w)[0]


def marginal_mechanism_mu(gen: Any, w: WorldPair) -> float:
    """The Gaussian-DP mu of dp-marginal's measurements for this canary (the selection's share not included)."""
    return _marginal_lr(gen, w)[1]


# ------------------------------------------------------------------------------------- model-based / generic
def _bin_probability(model: Any, slot: int) -> float:
    if model.mode == "onehot":
        hit = np.flatnonzero(np.asarray(model.values) == slot)
        return float(model.cdf[hit[0]]) if len(hit) else 0.0
    cdf = np.asarray(model.cdf, dtype=np.float64)
    if model.mode == "continuous":  # cdf at the bin edges
        return float(cdf[slot + 1] - cdf[slot]) if slot + 1 < len(cdf) else 0.0
    return float(cdf[slot] - (cdf[slot - 1] if slot > 0 else 0.0)) if slot < len(cdf) else 0.0


def copula_bin_probability(gen: Any, w: WorldPair) -> float:
    """The fitted copula's marginal probability of the canary's bin (or category) in its telling column, over
    the bins of the schema the model records."""
    from synthgen.generators.copula.binning import make_binning

    if len(gen.parts_) != 1:
        raise ConfigError("the model-based dp-copula score needs a fit without condition_on.")
    names = [f.name for f in gen.schema_.learnable]
    j = names.index(w.column)
    b = make_binning(gen.schema_[w.column], int(gen.n_bins), int(gen.max_discrete), gen.log_bins)
    slot = int(_slots(b, w.canary_rows[w.column].iloc[:1])[0])
    return _bin_probability(gen.parts_[0].columns[j], slot)


# ------------------------------------------------------------------------------------------------ dp-ctgan
def _ctgan_cells(gen: Any, w: WorldPair) -> list[float]:
    """dp-ctgan's released marginal frequency of the canary's slot in every column (its count release,
    normalised; the slots come from the model's own encoder)."""
    codes, _ = gen.encoder_.encode(gen.schema_.coerce(w.canary_rows.iloc[:1].reset_index(drop=True)))
    return [float(f[int(codes[0, j])]) for j, f in enumerate(gen.frequencies_)]


def ctgan_released_count(gen: Any, w: WorldPair) -> float:
    """White-box dp-ctgan: the canary's noisy marginal counts (released frequencies times the DP row estimate),
    summed over the columns. (The DP-SGD part of the release is not scored; the one-run audit covers it.)"""
    return float(np.sum(_ctgan_cells(gen, w))) * float(gen.rows_estimate_)


def ctgan_frequency(gen: Any, w: WorldPair) -> float:
    """Model-based dp-ctgan: the model's marginal probability of the canary's slot in its telling column."""
    names = [f.name for f in gen.schema_.learnable]
    return _ctgan_cells(gen, w)[names.index(w.column)]


def rows_estimate(gen: Any, w: WorldPair) -> float:
    return float(gen.rows_estimate_)


def declared_support(gen: Any, w: WorldPair) -> float:
    """1.0 if every value of the canary lies inside the bounds/categories the fitted model records, else 0.0."""
    schema = gen.schema_
    for col, v in w.canary.items():
        f = schema[col]
        if f.kind == "numeric" and not f.lower <= float(v) <= f.upper:
            return 0.0
        if f.kind == "categorical" and v not in f.categories:
            return 0.0
    return 1.0


def neighbourhood_share(gen: Any, w: WorldPair) -> float:
    """Share of sampled synthetic rows near the canary: its category, or within 2 % of the declared range."""
    out = gen.sample(BLACK_BOX_SAMPLES, random_state=0)
    f, v = w.schema[w.column], w.canary[w.column]
    if f.kind == "numeric":
        x = pd.to_numeric(out[w.column], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        return float(np.mean(np.abs(x - float(v)) <= NEAR_SHARE * (f.upper - f.lower)))
    return float((out[w.column].astype(object) == v).mean())


GENERIC = [("rows-estimate", rows_estimate), ("declared-support", declared_support)]


def statistics(name: str, strength: str) -> list[tuple[str, Statistic]]:
    """The named statistics of ``strength`` for generator ``name`` (primary first)."""
    if strength not in STRENGTHS:
        raise ConfigError(f"score must be one of {list(STRENGTHS)}; got {strength!r}.")
    entry = registry.entry(name)
    if entry.data_kind != "table" or entry.guarantee != "dp":
        raise ConfigError(f"the distinguishing game audits DP table generators; {name!r} is a "
                          f"{entry.data_kind} generator with guarantee {entry.guarantee!r} (dp-image is not audited).")
    if strength == "black-box":
        return [("neighbourhood-share", neighbourhood_share)]
    if name == "dp-copula":
        first = (("release-lr", copula_release_lr) if strength == "white-box"
                 else ("bin-probability", copula_bin_probability))
        return [first, *GENERIC]
    if name == "dp-marginal" and strength == "white-box":
        return [("release-lr", marginal_release_lr), *GENERIC]
    if name == "dp-ctgan":
        first = (("released-count", ctgan_released_count) if strength == "white-box"
                 else ("model-frequency", ctgan_frequency))
        return [first, *GENERIC]
    if strength == "white-box":
        raise ConfigError(f"no white-box score for {name!r} yet (its noisy statistics are not exposed). Fix: use "
                          "score='model-based' or 'black-box'.")
    return [*GENERIC, ("neighbourhood-share", neighbourhood_share)]


def mechanism_mu(name: str, strength: str) -> Statistic | None:
    """The function giving the mechanism's exact mu for the canary from a fit, where the score is the optimal one."""
    return {("dp-copula", "white-box"): copula_mechanism_mu,
            ("dp-marginal", "white-box"): marginal_mechanism_mu}.get((name, strength))
