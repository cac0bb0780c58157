"""DP-CTGAN's training loop: DP-SGD on the critic, the generator trained through it.

Privacy argument (add/remove one row):

- The critic is trained with DP-SGD (:mod:`synthgen.privacy.dpsgd`, Opacus ghost clipping): each step draws real
  rows by Poisson sampling at the planned rate q (each row independently with probability q, from a generator
  seeded by OS entropy, :func:`~synthgen.privacy.noise.privacy_torch_generator`, or torchcsprng in secure mode),
  clips every row's gradient, real and fake alike, to ``max_grad_norm`` and adds Gaussian noise of std
  ``noise_multiplier * max_grad_norm`` (again from OS entropy) once. Each step is checked against the budget
  before it is taken (:class:`~synthgen.privacy.accountants.DPSGDAccountant`). Real rows are read only there.
- The generator sees data only through the critic and the noisy counts: post-processing.
- What leaves the loop for callbacks, progress bars and the history (:func:`train`'s ``on_epoch``) is DP output
  only: the epoch index, the accountant's epsilon so far and the generator-side loss (computed from the critic
  on fake rows). The critic's loss on real rows is never reported: it is a plain, un-noised function of the rows.

``random_state`` seeds initialisation, fake rows and conditional vectors only (``gen``), never privacy noise.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .encoder import TableEncoder
from .losses import GeneratorLoss, WassersteinLoss
from .networks import CondSampler, Expander, activate, build_critic, build_generator
from .plan import Schedule

OnEpoch = Callable[[int, float, dict], Any]


@dataclass(frozen=True)
class TrainConfig:
    """The network and optimiser parameters of one run (public)."""

    embedding_dim: int
    generator_dim: tuple
    discriminator_dim: tuple
    generator_lr: float
    discriminator_lr: float
    max_grad_norm: float
    critic_loss: str
    marginal_weight: float
    pair_weight: float
    epochs: int
    secure: bool = False
    verbose: bool = False


@dataclass
class TrainResult:
    generator: Any
    history: list[dict] = field(default_factory=list)  # per epoch: generator-side losses only
    stopped_at: int | None = None


def privacy_generators(secure: bool) -> tuple[Any, Any]:
    """(Poisson sampling generator, DP-SGD noise generator): OS entropy, never a user seed. In secure mode the
    sampling generator is torchcsprng's and Opacus draws the noise from its own CSPRNG (``None`` here)."""
    from ...privacy.noise import privacy_torch_generator

    if secure:
        from ...privacy.dpsgd import secure_generator

        return secure_generator(), None
    return privacy_torch_generator(), privacy_torch_generator()


class _GAN:
    """Networks, optimisers and losses of one run; :meth:`step` is one critic step then one generator step."""

    def __init__(self, enc: TableEncoder, freqs: list[np.ndarray], pairs: list[tuple[int, int]],
                 pair_freqs: list[np.ndarray], cfg: TrainConfig, sched: Schedule, noise_multiplier: float,
                 gen: Any, g_noise: Any):
        import torch

        from ...privacy.dpsgd import make_private_ghost

        self.enc, self.cfg, self.sched, self.gen = enc, cfg, sched, gen
        self.G = build_generator(enc, cfg.embedding_dim, cfg.generator_dim, gen, freqs)
        D = build_critic(enc.dim + enc.cond_dim, cfg.discriminator_dim, gen)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg.generator_lr, betas=(0.5, 0.9), weight_decay=1e-6)
        opt_d = torch.optim.Adam(D.parameters(), lr=cfg.discriminator_lr, betas=(0.5, 0.9))
        crit = torch.nn.BCEWithLogitsLoss() if cfg.critic_loss == "bce" else WassersteinLoss()
        self.priv = make_private_ghost(D, opt_d, crit, noise_multiplier=noise_multiplier,
                                       max_grad_norm=cfg.max_grad_norm, expected_batch_size=sched.expected_batch,
                                       noise_generator=g_noise, secure=cfg.secure)
        self.d_params = list(D.parameters())
        self.expander = Expander(enc)
        self.conds = CondSampler(enc, freqs)
        self.g_loss = GeneratorLoss(enc, self.conds, freqs, pairs, pair_freqs, critic_loss=cfg.critic_loss,
                                    marginal_weight=cfg.marginal_weight, pair_weight=cfg.pair_weight)

    def step(self, codes: Any, offsets: Any, acc: Any, g_sample: Any) -> float:
        """One batch of fake rows used by both steps (G is not updated in between); returns the generator loss."""
        import torch

        B = self.sched.expected_batch
        fake_c, col, slot = self.conds.sample(B, self.gen)
        logits = self.G(torch.cat([torch.randn(B, self.cfg.embedding_dim, generator=self.gen), fake_c], 1))
        fake = activate(logits, self.enc, self.gen)
        self._critic_step(codes, offsets, fake.detach(), fake_c, acc, g_sample)
        return self._generator_step(logits, fake, fake_c, col, slot)

    def _critic_step(self, codes: Any, offsets: Any, fake: Any, fake_c: Any, acc: Any, g_sample: Any) -> None:
        """DP-SGD: Poisson-sampled real rows + fake rows, every row clipped, noise added once. No loss kept."""
        import torch

        from ...privacy.dpsgd import poisson_sample

        idx = poisson_sample(len(codes), self.sched.sample_rate, g_sample)
        c_idx = codes[idx]
        real = torch.cat([self.expander(c_idx, offsets[idx]), self.conds.from_rows(c_idx, self.gen)], 1)
        x = torch.cat([real, torch.cat([fake, fake_c], 1)], 0)
        y = torch.cat([torch.ones(len(idx)), torch.zeros(len(fake))])
        acc.record_step()  # checks the budget BEFORE the step: raises if it would overspend
        p = self.priv
        p.criterion(p.module(x).squeeze(1), y).backward()
        p.optimizer.step()
        p.optimizer.zero_grad(set_to_none=True)

    def _generator_step(self, logits: Any, fake: Any, fake_c: Any, col: Any, slot: Any) -> float:
        """Through the frozen critic (hooks off: no per-sample work); post-processing of DP outputs."""
        import torch

        self.priv.hooks_off()
        for p in self.d_params:
            p.requires_grad_(False)
        try:
            out = self.priv.module(torch.cat([fake, fake_c], 1)).squeeze(1)
            loss = self.g_loss(out, logits, col, slot)
            self.opt_g.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_g.step()
        finally:
            for p in self.d_params:
                p.requires_grad_(True)
            self.priv.hooks_on()
        return float(loss.item())


def train(codes: np.ndarray, offsets: np.ndarray, enc: TableEncoder, freqs: list[np.ndarray],
          pairs: list[tuple[int, int]], pair_freqs: list[np.ndarray], cfg: TrainConfig, sched: Schedule, acc: Any,
          rng: np.random.Generator, on_epoch: OnEpoch | None = None,
          on_train_start: Callable[[Any], None] | None = None) -> TrainResult:
    """Run DP-SGD for the planned epochs (or until the budget or ``on_epoch`` stops it).

    ``on_train_start(gan)``: called once with the run's networks before the first step (auditors keep the critic:
    its initial weights are public randomness, its trained weights a DP-SGD output).

    ``on_epoch(epoch, epsilon_spent, {"generator": loss})`` after each epoch; returning ``False`` stops early.
    ``epsilon_spent`` is the accountant's cheap upper bound on the spend so far (RDP, capped by PRV).
    """
    import torch
    from tqdm.auto import tqdm

    from ...rng import torch_generator

    gen = torch_generator(rng)  # initialisation, fake rows, conditional vectors: not privacy noise
    g_sample, g_noise = privacy_generators(cfg.secure)
    gan = _GAN(enc, freqs, pairs, pair_freqs, cfg, sched, acc.noise_multiplier, gen, g_noise)
    if on_train_start is not None:
        on_train_start(gan)
    codes_t, offsets_t = torch.as_tensor(codes), torch.as_tensor(offsets)
    show = bool(cfg.verbose) and sys.stderr.isatty()
    result = TrainResult(gan.G)
    bar = tqdm(range(cfg.epochs), desc="DP-CTGAN", disable=not show, leave=False)
    for epoch in bar:
        g_losses = []
        for _ in range(sched.steps_per_epoch):
            if not acc.can_step():
                break
            g_losses.append(gan.step(codes_t, offsets_t, acc, g_sample))
        losses = {"generator": float(np.mean(g_losses)) if g_losses else float("nan")}
        result.history.append(losses)
        if show or on_epoch is not None:
            eps_now = acc.epsilon_reading()
            bar.set_postfix(eps=f"{eps_now:.3f}", g=f"{losses['generator']:.3f}")
            if on_epoch is not None and on_epoch(epoch + 1, eps_now, dict(losses)) is False:
                result.stopped_at = epoch + 1
                break
        if not acc.can_step():
            break
    bar.close()
    result.generator = gan.G.eval()
    return result
