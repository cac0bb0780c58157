"""One-run privacy audit of DP-CTGAN (Steinke, Nasr & Jagielski, NeurIPS 2023, "Privacy auditing with one (1)
training run").

The game. ``m`` canary rows, each with its own declared category of a ``tag`` column that no base row uses and
the numeric column at its declared upper bound, are each put in the training table with probability 1/2
(independent fair coins ``S_i`` from the auditor's seeded generator: these coins are the AUDITOR's randomness, not
privacy noise; the fit's privacy noise still comes from OS entropy). ONE dp-ctgan fit is run on the base table
plus the included canaries. Every canary gets a score from the trained model; the auditor guesses "in" for the
``k/2`` highest scores, "out" for the ``k/2`` lowest and abstains on the rest, and counts the correct guesses
``W``.

The score (white-box, the DP-SGD target). The fitted model keeps only the generator, so the audit records the critic
DP-SGD trained (its initial and final weights) through DP-CTGAN's ``on_train_start`` fit hook (the trained critic is
a DP-SGD output, its initial weights public randomness). The Wasserstein critic is trained to raise its output on
real rows, and a canary's own first-layer columns (its unique category's one-hots) receive gradient only from the
canary itself, from fake rows of its category and from DP-SGD's noise; the score of canary ``i`` is the first-order
change of the critic's output at ``x_i`` through those columns (:func:`critic_scores`). Every critic iterate is a DP
output of DP-SGD, so this score is post-processing of what the mechanism released to a white-box observer.

The bound. For a mechanism that is epsilon-DP (add/remove one row), Steinke et al. show that the number of
correct guesses among ``r`` is stochastically dominated by ``Binomial(r, e^eps / (1 + e^eps))``; for
(epsilon, delta)-DP their main theorem adds ``2 m delta max_{1<=i<=v} P[v - i <= Binomial < v] / i`` to the tail
probability of ``v`` correct guesses (:func:`one_run_p_value`; the delta term is implemented as we read the
paper's theorem and its p-value routine, and tested here only for loosening the pure-epsilon bound). The
reported ``epsilon_lb`` is the largest epsilon whose p-value is at most ``alpha`` (0.05): with 95% confidence
the mechanism is not epsilon-DP for any smaller epsilon (:func:`one_run_epsilon_lb`). With the claimed delta
(about 1e-9) and ``m`` in the thousands the delta term is about 1e-5 and moves the bound in the third or fourth
digit. The largest bound a run could certify (all ``k`` guesses right) is ``certifiable_epsilon``: with ``k``
guesses it is about ``log(q / (1 - q))`` with ``q = alpha^(1/k)`` (4.6 for 300 guesses), so no affordable
one-run audit certifies claims such as epsilon = 10 (they come out ``inconclusive``).

What it can and cannot see (measured on 2 cores, default configuration: m=3000, 300 guesses, ~1 minute per fit):
DP-SGD noise planted ~0 gives every guess right (bound = the ceiling, a violation at claimed eps=1); noise cut
tenfold gave 240-249 of 300 right (bound 1.1-1.3 > 1: a violation, with a thin margin); at m=1000 the tenfold
cut gave bounds 0.65-0.85, not a violation. Honest fits give bounds near 0 at claimed eps 1, 4 and 10: the
canaries are input-space rows whose clipped gradient lies only partly in their own columns, and the score reads
the last critic only, so the audit of an honest DP-SGD is loose (as the paper finds for input-space, last-iterate
canaries). It catches gross failures of DP-SGD's noise, not small accounting slips (see :mod:`.accounting`).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd
from scipy.stats import binom

from synthgen.exceptions import ConfigError

ALPHA = 0.05
TAG, VALUE = "tag", "x"
BASE_CATEGORY = "base"

#: The audited DP-CTGAN parameters, unless ``params`` says otherwise. ``count_fraction=0``: no noisy counts, so
#: the whole budget (less the row count's 3%) is DP-SGD's and the generator draws every category alike; with
#: noisy counts the generator makes fake rows of each canary's category in proportion to its (mostly noise)
#: count, and those fake rows move the canary's score as much as the canary does (measured at m=3000, 300
#: guesses, eps=1, DP-SGD noise cut tenfold: 216 right (bound 0.73) with count_fraction=0.1, 240-249 (bound
#: 1.1-1.3) without). The counts are audited by the distinguishing game and checked by :mod:`.accounting`.
DEFAULT_PARAMS: dict[str, Any] = {"epochs": 10, "batch_size": 250, "embedding_dim": 32, "generator_dim": (64, 64),
                                  "discriminator_dim": (128, 128), "n_bins": 8, "count_fraction": 0.0,
                                  "verbose": False}


# ------------------------------------------------------------------------------------------------ the bound
def one_run_p_value(m: int, k: int, r: int, epsilon: float, delta: float = 0.0) -> float:
    """Upper bound on ``P[W >= r]`` for ``r`` correct guesses out of ``k`` (m canaries) under (epsilon, delta)-DP.

    ``f(v) = P[Binomial(k, e^eps/(1+e^eps)) >= v]``; with delta > 0 the bound is
    ``f(r) + 2 m delta max_{1<=i<=r} (f(r - i) - f(r)) / i`` (Steinke et al. 2023, as we read their main theorem).
    """
    _check_counts(m, k, r)
    if not (epsilon >= 0 and math.isfinite(epsilon)) or not 0 <= delta <= 1:
        raise ConfigError(f"one_run_p_value needs epsilon >= 0 and delta in [0, 1]; got {epsilon}, {delta}.")
    q = 1.0 / (1.0 + math.exp(-epsilon))
    tail = float(binom.sf(r - 1, k, q))  # P[Binomial(k, q) >= r]
    if delta == 0 or r == 0:
        return min(1.0, tail)
    below = np.cumsum(binom.pmf(r - np.arange(1, r + 1), k, q))  # P[r - i <= Binomial < r], i = 1..r
    worst = float(np.max(below / np.arange(1, r + 1)))
    return min(1.0, tail + 2.0 * m * delta * worst)


def one_run_epsilon_lb(k: int, r: int, *, m: int | None = None, delta: float = 0.0, alpha: float = ALPHA,
                       eps_max: float = 50.0) -> float:
    """The largest epsilon rejected at level ``alpha``: ``sup {eps : p_value(eps) <= alpha}`` (0 if none).

    The p-value grows with epsilon, so the rejected epsilons form an interval ``[0, eps_lb)``; found by bisection
    to 1e-6. ``m`` defaults to ``k`` (it only enters the delta term).
    """
    m = k if m is None else m
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must be in (0, 1); got {alpha}.")
    if one_run_p_value(m, k, r, 0.0, delta) > alpha:
        return 0.0
    if one_run_p_value(m, k, r, eps_max, delta) <= alpha:
        return float(eps_max)
    lo, hi = 0.0, float(eps_max)
    while hi - lo > 1e-6:
        mid = 0.5 * (lo + hi)
        if one_run_p_value(m, k, r, mid, delta) <= alpha:
            lo = mid
        else:
            hi = mid
    return lo


def _check_counts(m: int, k: int, r: int) -> None:
    if not (isinstance(k, (int, np.integer)) and isinstance(r, (int, np.integer)) and 0 <= r <= k <= m):
        raise ConfigError(f"need whole numbers 0 <= correct ({r}) <= guesses ({k}) <= canaries ({m}).")


def guess_and_count(scores: np.ndarray, included: np.ndarray, k: int) -> tuple[int, int]:
    """Guess "in" for the ``k // 2`` highest scores and "out" for the ``k - k // 2`` lowest; ``(guesses, correct)``.

    Ties are broken by position (the canaries' order is the auditor's, independent of the coins).
    """
    scores, included = np.asarray(scores, dtype=float), np.asarray(included, dtype=bool)
    if not 0 < k <= len(scores):
        raise ConfigError(f"k_guesses must be in 1..m={len(scores)}; got {k}.")
    order = np.argsort(-scores, kind="stable")
    k_in = k // 2
    guess_in, guess_out = order[:k_in], order[len(scores) - (k - k_in):]
    return k, int(included[guess_in].sum() + (~included[guess_out]).sum())


# ------------------------------------------------------------------------------------------------ the world
def canary_world(m: int, n_base: int, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    """``(base, canaries, schema)``: base rows all tagged ``"base"`` with values in [0, 0.5]; canary ``i`` has
    the declared category ``"c<i>"`` (used by no base row) and the value 1.0, the declared upper bound."""
    from synthgen.schema import CategoricalField, NumericField, Schema
    from synthgen.schema.fields import RowBounds

    cats = (BASE_CATEGORY,) + tuple(f"c{i}" for i in range(m))
    schema = Schema((CategoricalField(TAG, cats, categories_source="public:audit"),
                     NumericField(VALUE, 0.0, 1.0, bounds_source="public:audit")),
                    rows=RowBounds(min=n_base, max=n_base + m))
    base = pd.DataFrame({TAG: [BASE_CATEGORY] * n_base, VALUE: rng.uniform(0.0, 0.5, n_base)})
    canaries = pd.DataFrame({TAG: list(cats[1:]), VALUE: np.ones(m)})
    return base, canaries, schema


def _critic_recorder(box: dict) -> Callable[[Any], None]:
    """A DP-CTGAN ``on_train_start`` hook recording the run's networks (``box["gan"]``, whose critic ends the fit
    DP-SGD trained) and the critic's initial weights (``box["init"]``)."""
    def record(gan: Any) -> None:
        critic = gan.priv.module._module
        box["gan"] = gan
        box["init"] = {k: v.detach().clone() for k, v in critic.state_dict().items()}

    return record


def _canary_inputs(gan: Any, model: Any, canaries: pd.DataFrame) -> tuple[Any, Any]:
    """The critic's input rows for the canaries (as in training) and, per canary, a mask of its OWN input columns
    (active for it, not for every canary: its unique category's data and conditional one-hots)."""
    import torch

    codes, offsets = model.encoder_.encode(canaries)
    codes_t, offsets_t = torch.as_tensor(codes), torch.as_tensor(offsets)
    x = torch.cat([gan.expander(codes_t, offsets_t), gan.conds.from_rows(codes_t, torch.Generator().manual_seed(0))],
                  1)
    active = x != 0
    return x, active & ~active.all(0)


def _first_layer_backprop(critic: Any, x: Any) -> Any:
    """Per row, ``d critic(x) / d z`` with ``z`` the first layer's pre-activation (rows are independent, so one
    backward pass of the sum gives every row's). The row's first-layer weight gradient is its outer product with x."""
    import torch

    z = critic[0](x).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic[1:](z).sum(), z)
    return grad


def critic_scores(box: Mapping[str, Any], model: Any, canaries: pd.DataFrame) -> np.ndarray:
    """Per canary: the first-order change of the critic's output at the canary through the canary's OWN
    first-layer columns, ``<dW_own, (g_init + g_final) / 2>`` (``dW``: final minus initial first-layer weights,
    ``g``: the gradient of the critic's output at the canary; trapezoid rule). Only the canary itself, fake rows of
    its category and DP-SGD's noise move those columns, so common drift of the shared weights drops out.
    Measured against the plain output change ``D_final(x) - D_init(x)``: 151 vs 120 of 200 right with DP-SGD's
    noise cut tenfold (eps=1, m=1000)."""
    gan = box.get("gan")
    if gan is None:
        raise ConfigError("the audited fit trained no critic (was it a dp-ctgan fit?).")
    x, own = _canary_inputs(gan, model, canaries)
    critic = gan.priv.module._module
    final = {k: v.detach().clone() for k, v in critic.state_dict().items()}
    weight = next(k for k in final if k.endswith("weight"))  # the first Linear layer's weight
    delta = final[weight] - box["init"][weight]
    gan.priv.hooks_off()
    try:
        back = _first_layer_backprop(critic, x)
        critic.load_state_dict(box["init"])
        back = 0.5 * (back + _first_layer_backprop(critic, x))
    finally:
        critic.load_state_dict(final)
        gan.priv.hooks_on()
    # row i's first-layer gradient is back[i] (outer) x[i]; its inner product with delta over its own columns:
    return ((back @ delta) * x * own).sum(1).double().numpy()


# ------------------------------------------------------------------------------------------------ the audit
def _check_audit_args(m: int, k_guesses: int, n_base: int) -> None:
    for name, v, least in (("m", m, 2), ("k_guesses", k_guesses, 1), ("n_base", n_base, 2)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < least:
            raise ConfigError(f"one_run_audit {name} must be a whole number >= {least}; got {v!r}.")
    if k_guesses > m:
        raise ConfigError(f"one_run_audit k_guesses={k_guesses} exceeds the m={m} canaries. Fix: k_guesses <= m.")


def _fit_once(epsilon: float, params: Mapping[str, Any], base: pd.DataFrame, canaries: pd.DataFrame,
              included: np.ndarray, schema: Any, seed: int) -> tuple[Any, np.ndarray]:
    from synthgen.generators.ctgan.model import DPCTGAN

    table = pd.concat([base, canaries[included]], ignore_index=True)
    model = DPCTGAN(epsilon=epsilon, **dict(params))
    box: dict = {}
    model.fit(table, schema, random_state=seed, on_train_start=_critic_recorder(box))
    return model, critic_scores(box, model, canaries)


def _claimed(model: Any) -> tuple[dict, dict | None]:
    spent = model.privacy_spent_
    if spent.is_dp:
        return {"epsilon": float(spent.epsilon), "delta": float(spent.delta)}, None
    acc = spent.accounted  # e.g. a fit under unsafe_seeded_noise: its accountant's claim is what is audited
    if acc is None:
        raise ConfigError(f"the audited fit claims no privacy guarantee ({spent.reason}); nothing to audit.")
    return {"epsilon": float(acc.epsilon), "delta": float(acc.delta)}, {"guarantee": "none",
                                                                          "reason": spent.reason}


def one_run_audit(*, epsilon: float, m: int = 3000, k_guesses: int = 300, params: Mapping[str, Any] | None = None,
                  random_state: int | None = None, n_base: int = 1000, alpha: float = ALPHA,
                  accounting: bool = False) -> Any:
    """One-run audit of DP-CTGAN at ``epsilon`` (see the module docstring): one fit, ``m`` canaries, ``k_guesses``
    guesses (half "in", half "out"); returns an :class:`~evaluators.audit.result.AuditResult` (game kind
    ``"one-run"``) or, where that class is not available, its dict. ``params``: DP-CTGAN parameters on top of
    :data:`DEFAULT_PARAMS`. ``random_state`` seeds the auditor's coins and the fit's initialisation (never
    privacy noise). ``accounting``: also recompute the fit's epsilon with
    :func:`~evaluators.audit.accounting.check_accounting` (needs dp-accounting)."""
    import time

    _check_audit_args(m, k_guesses, n_base)
    full = {**DEFAULT_PARAMS, **dict(params or {})}
    ss = np.random.SeedSequence(random_state)
    coins_ss, fit_ss = ss.spawn(2)
    rng = np.random.default_rng(coins_ss)
    base, canaries, schema = canary_world(m, n_base, rng)
    included = rng.random(m) < 0.5  # the auditor's fair coins
    t0 = time.perf_counter()
    model, scores = _fit_once(epsilon, full, base, canaries, included, schema,
                              int(fit_ss.generate_state(1)[0]))
    k, correct = guess_and_count(scores, included, k_guesses)
    claimed, no_guarantee = _claimed(model)
    eps_lb = one_run_epsilon_lb(k, correct, m=m, delta=claimed["delta"], alpha=alpha)
    ceiling = one_run_epsilon_lb(k, k, m=m, delta=claimed["delta"], alpha=alpha)
    detail = {"canaries": m, "included": int(included.sum()), "guesses": k, "correct": correct, "alpha": alpha,
              "base_rows": n_base, "score": "first-order critic change through the canary's own first-layer columns",
              "delta_term": "Steinke et al. 2023 main theorem, at the claimed delta",
              "fit_seconds": round(time.perf_counter() - t0, 2), "no_guarantee": no_guarantee}
    checked = None
    if accounting:
        from .accounting import check_accounting

        checked = check_accounting(model)
    return _result(model, full, claimed, detail, eps_lb, ceiling, checked)


def _result(model: Any, params: Mapping[str, Any], claimed: dict, detail: dict, eps_lb: float,
            ceiling: float, checked: Mapping[str, Any] | None) -> Any:
    from synthgen._json import jsonable

    from .result import AuditResult

    game = {"kind": "one-run", "canary": "unique-category", "score": "white-box", "trials": detail["canaries"],
            "split": {"threshold": 0, "bound": detail["guesses"]}, "one_run": detail}
    empirical = {"epsilon_lb": eps_lb, "tpr": None, "fpr": None, "mu_hat": None, "mu_ci": None,
                 "epsilon_from_mu": None}
    return AuditResult(generator=model.registry_name, params=jsonable(dict(params)), claimed=dict(claimed),
                       game=game, empirical=empirical, certifiable_epsilon=ceiling, accounting=checked)
