"""DP-CTGAN: a conditional tabular GAN whose critic is trained with DP-SGD (Opacus, ghost clipping).

Measure, then estimate. One fit (add/remove-one-row neighbours; the exact row count n is private):

1. Plan (:mod:`.plan`, public inputs only, before any budget is reserved): parameters, pairs, secure-mode
   availability, the batch size against the DECLARED row bounds, and whether the budget can pay for the worst
   case the declared bounds allow.
2. Measure (:mod:`.counts`, the only reader of rows outside DP-SGD): a noisy row count ``n_hat``, then the noisy
   bin-edge, marginal and 2-way counts, returned as a frozen :class:`~.counts.CountRelease`.
3. Estimate (:mod:`.training`): the encoder, the conditional frequencies, the generator's initialisation and the
   marginal/pair losses come from the release only; the DP-SGD schedule (sample rate
   ``q = min(0.5, batch_size / n_hat)``, ``epochs / q`` steps) from ``n_hat`` only, and the noise multiplier is
   solved from those public/noisy quantities (PRV, the count release composed in as a prior Gaussian). Real rows
   are read only inside DP-SGD's Poisson-sampled, clipped, noised steps.

Composition. Choosing DP-SGD's parameters from the noisy count is ADAPTIVE composition: the later mechanism
depends on an earlier output. The PRV accountant's tight composition bound is a theorem for parameters fixed in
advance; its bound for the chosen parameters does not by itself cover a choice that is correlated with the
count's privacy loss. So the row count is bought apart, with a fixed share of the target
(:func:`~synthgen.privacy.analysis.dpsgd_plan.row_count_split`: an exactly (3% eps, 5% delta)-DP Gaussian), and
everything after it is planned to the rest for EVERY schedule ``n_hat`` can give; basic composition holds for
adaptively chosen mechanisms (Dwork, Rothblum & Vadhan 2010; Dwork & Roth 2014, Thm 3.16), so the fit is
(epsilon, delta)-DP. The spend is that guarantee; the PRV/RDP readings of the steps actually taken are in its
details as readings only. Stopping early (``on_epoch``) is post-processing of the planned run (its output is a
function of the run's prefix), so it spends the planned run's guarantee too.

Noise. Count noise comes from :func:`synthgen.privacy.noise.privacy_noise`, DP-SGD noise and Poisson sampling
from :func:`synthgen.privacy.noise.privacy_torch_generator` (OS entropy), never from ``random_state``, which seeds
only initialisation, fake rows and sampling from the fitted model. ``secure=True`` additionally uses Opacus's
secure mode (torchcsprng); where torchcsprng is missing it is refused in the plan, before any data is read.

Callbacks and progress bars receive DP outputs only: the epoch, the accountant's epsilon reading and the
generator-side loss (never the critic's loss on real rows).

The saved model holds the generator's weights, the noisy frequencies and the DP bin edges (all DP outputs); the
encoder and the network are rebuilt from them by :meth:`DPCTGAN._restore` (after fit and after load).

Process-global side effects: fit calls ``torch.set_flush_denormal(True)`` (see
:func:`synthgen.privacy.dpsgd.configure_torch`) and trains with ``n_threads`` intra-op torch threads (default 1;
``"auto"``: the cores the 1-minute load leaves idle), restoring the previous thread count afterwards.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from ...exceptions import ConfigError
from ...privacy.noise import privacy_noise
from ...privacy.spend import DPSpend, PrivacySpend
from ...schema import Schema
from ..base import BaseGenerator
from .counts import CountRelease, describe, frequencies, measure, pair_frequencies
from .encoder import TableEncoder
from .networks import build_generator, generate
from .plan import CTGANPlan, make_plan, schedule
from .training import TrainConfig, TrainResult, train


class DPCTGAN(BaseGenerator):
    """Conditional tabular GAN with a DP-SGD critic. See the module docstring for the privacy argument.

    Parameters: ``epsilon``, ``delta`` (None: from the declared row bounds, see
    :func:`~synthgen.privacy.spend.default_delta`), ``epochs`` (None: 30), ``batch_size`` (expected rows per
    DP-SGD step; Poisson rate ``min(0.5, batch_size / n_hat)`` with ``n_hat`` a noisy row count), network sizes,
    learning rates, ``max_grad_norm`` (per-row clipping bound), ``n_bins`` (bins per numeric column),
    ``count_fraction`` (share of the zCDP budget the noisy counts would cost alone; composed with DP-SGD by PRV),
    ``pairs`` ("auto", None, or a list of (column, column): which 2-way counts to release), ``pair_weight``
    (generator loss towards the noisy 2-way counts; 0 off), ``bins`` ("auto": "dp-quantile" when counts are
    released, else "uniform"; "dp-quantile": edges at the quantiles of a noisy fine histogram; "uniform":
    equal-width over the declared bounds), ``discriminator_loss`` ("wasserstein": per-row critic loss -D(real) /
    +D(fake), clipped per row; or "bce"), ``marginal_weight`` (generator loss pulling every column's batch
    marginal towards the noisy counts; 0 off), ``secure`` (Opacus secure mode: torchcsprng noise and sampling;
    refused before any data is read where torchcsprng is missing), ``n_threads`` (torch threads while fitting;
    default 1: float reductions differ with the thread count; ``"auto"``: the idle cores), ``subsample_rows`` (a
    Dask frame is fitted on a Poisson subsample at rate ``min(1, subsample_rows / declared rows.max)``, accounted by
    amplification: :mod:`synthgen.scale.subsample`), ``verbose`` (tqdm bar when stderr is a TTY).

    Defaults measured on CPS1988 (22.5k rows, eps=1, 30 epochs, one seed per setting, sdmetrics quality / TSTR
    macro-F1 on `parttime`): the marginal loss lifted quality from 0.69-0.81 to 0.93-0.95 (without it the noisy
    discriminator let the marginals drift from their initial noisy-count values); a (128, 128) critic beat
    (256, 256) (fewer parameters, less noise in norm); WGAN beat BCE; batch 250 beat 500/1000/2000 on TSTR;
    5e-4 beat 2e-4 on TSTR at batch 250; straight-through (hard) Gumbel samples were worse. The 2-way counts
    (pairs="auto", pair_weight=1, count_fraction=0.1, composed by PRV) lifted TSTR from 0.651 to 0.722 (3 seeds) at
    the same quality (0.922 -> 0.936); on diamonds (cut, 5 grades) TSTR rose 0.377 -> 0.404 while quality fell
    0.815 -> 0.797 (2 seeds each). count_fraction=0.2 gave TSTR 0.746 but quality 0.911 on CPS1988. DP-quantile
    bins (2 seeds, eps=1): diamonds quality 0.797 -> 0.870, TSTR 0.404 -> 0.483; CPS1988 quality 0.936 -> 0.945,
    TSTR 0.722 -> 0.734 (wide declared bounds such as diamonds' y in 0-60 left most equal-width bins empty).

    ``fit(..., on_epoch=callback)``: ``callback(epoch, epsilon_spent, losses)`` after each epoch; returning
    ``False`` stops early (the spend is then that of the steps taken). ``epsilon_spent`` there is a cheap upper
    bound on the spend so far (the counts and the steps so far: RDP, capped by the PRV reading of the whole planned
    run); the final spend is the PRV reading of the counts and the steps actually taken.

    ``fit(..., on_epoch=callback)``: ``callback(epoch, epsilon_spent, {"generator": loss})`` after each epoch
    (DP outputs only); returning ``False`` stops early. ``epsilon_spent`` is a cheap upper bound on the PRV
    reading so far (RDP, capped by PRV). ``fit(..., on_train_start=hook)``: ``hook(networks)`` once before the first
    DP-SGD step (the one-run audit keeps the critic). ``sample(n, conditions={"col": value})`` fixes one declared
    category.
    """

    registry_name = "dp-ctgan"
    provides_dp = True
    accepts_partitions = True  # a Dask frame: trained on a Poisson subsample, amplified (synthgen.scale.subsample)
    contract_params = {"epochs": 2, "batch_size": 64, "embedding_dim": 16, "generator_dim": (32, 32),
                       "discriminator_dim": (32, 32), "n_bins": 8, "verbose": False}

    def __init__(self, epsilon: float = 1.0, delta: float | None = None, epochs: int | None = None,
                 batch_size: int = 250, *, embedding_dim: int = 128, generator_dim: tuple = (256, 256),
                 discriminator_dim: tuple = (128, 128), generator_lr: float = 5e-4, discriminator_lr: float = 5e-4,
                 max_grad_norm: float = 1.0, n_bins: int = 16, count_fraction: float = 0.1,
                 discriminator_loss: str = "wasserstein", marginal_weight: float = 0.2,
                 pairs: Any = "auto", pair_weight: float = 1.0, bins: str = "auto", secure: bool = False,
                 n_threads: int | str = 1, subsample_rows: int = 1_000_000, verbose: bool = True):
        self.epsilon = epsilon
        self.delta = delta
        self.epochs = epochs
        self.batch_size = batch_size
        self.embedding_dim = embedding_dim
        self.generator_dim = generator_dim
        self.discriminator_dim = discriminator_dim
        self.generator_lr = generator_lr
        self.discriminator_lr = discriminator_lr
        self.max_grad_norm = max_grad_norm
        self.n_bins = n_bins
        self.count_fraction = count_fraction
        self.discriminator_loss = discriminator_loss
        self.marginal_weight = marginal_weight
        self.pairs = pairs
        self.pair_weight = pair_weight
        self.bins = bins
        self.secure = secure
        self.n_threads = n_threads
        self.subsample_rows = subsample_rows
        self.verbose = verbose

    # ------------------------------------------------------------------ fit protocol
    def _plan(self, schema: Schema | None) -> CTGANPlan:
        return make_plan(self, schema, self._target_spend(schema))

    def _plan_partitions(self, schema: Schema) -> Any:
        """The subsampled fit's plan for a Dask frame (public inputs only, before any budget is reserved)."""
        from ...scale.subsample import plan_subsample

        return plan_subsample(schema, self._target_spend(schema), self.subsample_rows,
                              lambda s, t: make_plan(self, s, t))

    def _fit(self, table: pd.DataFrame, schema: Schema, rng: np.random.Generator, plan: CTGANPlan,
             on_epoch: Callable[..., Any] | None = None,
             on_train_start: Callable[[Any], None] | None = None) -> PrivacySpend:
        from ...privacy.dpsgd import auto_threads, configure_torch, torch_threads

        if not isinstance(table, pd.DataFrame):  # a validated Dask frame: a Poisson subsample, amplified
            return self._fit_partitions(table, rng, on_epoch, on_train_start)
        configure_torch()
        with torch_threads(auto_threads() if self.n_threads == "auto" else int(self.n_threads)):
            release = measure(table, schema, plan, int(self.n_bins), privacy_noise())  # reads rows; noisy
            enc = TableEncoder(schema, n_bins=self.n_bins, edges=release.edges)
            codes, offsets = enc.encode(table)  # for DP-SGD only: read inside its clipped, noised steps
            acc, result = self._estimate(release, plan, enc, codes, offsets, rng, on_epoch, on_train_start)
        self._learn(release, plan, enc, result, acc.steps)
        return self._spend(plan, release, acc, result)

    def _fit_partitions(self, table: Any, rng: np.random.Generator, on_epoch: Any, on_train_start: Any
                        ) -> PrivacySpend:
        from ...scale.subsample import fit_subsampled

        spent, q = fit_subsampled(table, lambda sub, schema, plan, cb: self._fit(sub, schema, rng, plan, cb,
                                                                                 on_train_start), on_epoch)
        self.rows_estimate_ = self.rows_estimate_ / q  # the subsample's DP estimate over the public rate
        return spent

    def _estimate(self, release: CountRelease, plan: CTGANPlan, enc: TableEncoder, codes: np.ndarray,
                  offsets: np.ndarray, rng: np.random.Generator, on_epoch: Any, on_train_start: Any = None
                  ) -> tuple[Any, TrainResult]:
        """DP-SGD from the release: schedule and noise multiplier from the noisy row count only."""
        from ...privacy.accountants import DPSGDAccountant
        from .plan import SIGMA_MAX

        sched = schedule(plan, release.schedule_rows)
        acc = DPSGDAccountant(plan.rest_epsilon, plan.rest_delta, sched.sample_rate, sched.planned_steps,
                              sigma_max=SIGMA_MAX, prior_noise_multipliers=plan.prior)
        counted = plan.counts_multiplier is not None
        cfg = TrainConfig(int(self.embedding_dim), tuple(self.generator_dim), tuple(self.discriminator_dim),
                          float(self.generator_lr), float(self.discriminator_lr), float(self.max_grad_norm),
                          self.discriminator_loss, float(self.marginal_weight) if counted else 0.0,
                          float(self.pair_weight), plan.epochs, bool(plan.secure), bool(self.verbose))
        result = train(codes, offsets, enc, frequencies(release), list(plan.pairs), pair_frequencies(release),
                       cfg, sched, acc, rng, on_epoch, on_train_start)
        return acc, result

    def _learn(self, release: CountRelease, plan: CTGANPlan, enc: TableEncoder, result: TrainResult,
               steps: int) -> None:
        """Learned state (DP outputs only); :meth:`_restore` rebuilds the encoder and network from it."""
        self.rows_estimate_ = float(release.rows_estimate)
        self.edges_ = {k: np.asarray(v) for k, v in release.edges.items()}
        self.frequencies_ = frequencies(release)
        self.pairs_ = [(enc.columns[a].name, enc.columns[b].name) for a, b in plan.pairs]  # public: the schema
        self.generator_state_ = {k: v.detach().cpu().numpy().astype(np.float32)
                                 for k, v in result.generator.state_dict().items()}
        self.n_steps_ = int(steps)
        self.loss_history_ = [dict(h) for h in result.history]

    def _spend(self, plan: CTGANPlan, release: CountRelease, acc: Any, result: TrainResult) -> DPSpend:
        """The guarantee: the row count's part plus the rest's planned part (basic composition, adaptive)."""
        t = plan.target
        readings = acc.to_spend()
        details = describe(plan, release, len(release.marginals), [list(p) for p in self.pairs_])
        details.update({
            "composition": "basic composition (valid adaptively) of the noisy row count, which sets the DP-SGD "
                           "schedule, with the rest: the PRV composition of the count release and the DP-SGD "
                           "steps, planned to (rest epsilon, rest delta) for every schedule",
            "rest": {"epsilon": plan.rest_epsilon, "delta": plan.rest_delta},
            "dpsgd": dict(readings.details),
            "dpsgd_readings_note": "epsilon_prv/epsilon_rdp under dpsgd read the count release and the steps "
                                   "taken for the chosen schedule; they are not the guarantee",
            "epochs_run": len(result.history), "stopped_early_at_epoch": result.stopped_at,
            "clipping": f"per-sample (ghost clipping), max_grad_norm={self.max_grad_norm}, real and fake rows",
            "secure_mode": bool(plan.secure)})
        return DPSpend(min(t.epsilon, plan.row_count_epsilon + plan.rest_epsilon),
                       min(t.delta, plan.row_count_delta + plan.rest_delta), "PRV (Opacus) + basic composition",
                       details=details)

    def _restore(self) -> None:
        import torch

        self.encoder_ = TableEncoder(self.schema_, n_bins=self.n_bins, edges=self.edges_)
        G = build_generator(self.encoder_, int(self.embedding_dim), self.generator_dim)
        G.load_state_dict({k: torch.as_tensor(np.array(v)) for k, v in self.generator_state_.items()})
        self.generator_ = G.eval()

    # ------------------------------------------------------------------ sampling
    def _condition(self, conditions: Mapping[str, Any] | None) -> tuple[int, int] | None:
        cond_map = dict(conditions or {})
        if len(cond_map) > 1:
            raise ConfigError("DPCTGAN conditions on one column at a time; got "
                              f"{sorted(cond_map)}. Fix: pass a single {{column: value}}.")
        if not cond_map:
            return None
        (name, value), = cond_map.items()
        return self.encoder_.resolve_condition(name, value)

    def _generate(self, n: int, rng: np.random.Generator, fixed: tuple[int, int] | None) -> pd.DataFrame:
        from ...rng import torch_generator

        slots, scalars = generate(self.generator_, self.encoder_, self.frequencies_, int(self.embedding_dim), n,
                                  torch_generator(rng), fixed)
        return self.encoder_.decode(slots, scalars)

    def _sample(self, n: int, rng: np.random.Generator, conditions: Mapping[str, Any] | None = None
                ) -> pd.DataFrame:
        """``conditions={"col": value}`` fixes one declared category (or boolean) column."""
        return self._generate(n, rng, self._condition(conditions))

    # ------------------------------------------------------------------ persistence
    def _get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        arrays = {f"generator.{k}": np.asarray(v, dtype=np.float32) for k, v in self.generator_state_.items()}
        for j, f in enumerate(self.frequencies_):
            arrays[f"frequencies.{j}"] = np.asarray(f, dtype=np.float64)
        names = [f.name for f in self.schema_.learnable]
        for name, e in self.edges_.items():
            arrays[f"edges.{names.index(name)}"] = np.asarray(e, dtype=np.float64)
        state = {"n_columns": len(self.frequencies_), "n_steps": int(self.n_steps_),
                 "pairs": [list(p) for p in self.pairs_],
                 "note": "generator weights, noisy (DP) frequencies and DP bin edges only; encoder rebuilt"}
        return state, arrays

    def _set_state(self, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        names = [f.name for f in self.schema_.learnable]
        self.edges_ = {names[int(k.split(".")[1])]: np.asarray(v, dtype=np.float64) for k, v in arrays.items()
                       if k.startswith("edges.")}
        self.frequencies_ = [np.asarray(arrays[f"frequencies.{j}"]) for j in range(int(state["n_columns"]))]
        self.generator_state_ = {k[len("generator."):]: np.asarray(v) for k, v in arrays.items()
                                 if k.startswith("generator.")}
        self.n_steps_ = int(state["n_steps"])
        self.pairs_ = [tuple(str(x) for x in p) for p in state.get("pairs", [])]
