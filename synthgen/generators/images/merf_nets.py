"""The torch side of DP-MERF: random Fourier features, the conditional generator network and its training.

Nothing here reads private images. :func:`random_features` draws data-independent frequencies from a seed (public
randomness, drawn from the user's ``random_state``); :func:`embed` maps any images (the private ones inside the
measure step, generated ones during training) to their features; :func:`train_generator` fits the network to the
released noisy class mean embeddings only, which is post-processing of the release.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence


def features_per_scale(n_features: int, length_scales: Sequence[float]) -> int:
    """Frequencies per length-scale; the embedding has ``2 * per * len(length_scales)`` entries (cos and sin)."""
    return int(n_features) // (2 * len(length_scales))


def random_features(d: int, seed: int, n_features: int, length_scales: Sequence[float]) -> Any:
    """Data-independent random frequencies ``W`` (d, D/2), one block per length-scale: ``N(0, 1/(l^2 d))``.

    Public randomness (like a random projection published with the model): drawn from a local generator seeded
    from ``random_state``, never from privacy noise, and never from the data.
    """
    import torch

    g = torch.Generator().manual_seed(int(seed))  # a local generator, never the global one
    per = features_per_scale(n_features, length_scales)
    blocks = [torch.randn(d, per, generator=g, dtype=torch.float64) / (float(s) * math.sqrt(d))
              for s in length_scales]
    return torch.cat(blocks, dim=1).float()


def embed(x: Any, w: Any) -> Any:
    """Random Fourier features ``[cos(x W), sin(x W)] / sqrt(D/2)``: every row has L2 norm exactly 1."""
    import torch

    proj = x @ w
    return torch.cat([torch.cos(proj), torch.sin(proj)], dim=1) / math.sqrt(w.shape[1])


def build_net(latent_dim: int, k: int, hidden: int, d: int, gen: Any) -> Any:
    """The conditional generator: latent + one-hot class -> pixels in [0, 1]; initialised from ``gen``."""
    import torch
    from torch import nn

    net = nn.Sequential(
        nn.Linear(latent_dim + k, hidden), nn.LeakyReLU(0.2),
        nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
        nn.Linear(hidden, d), nn.Sigmoid(),
    )
    with torch.no_grad():  # seeded initialisation from our own generator
        for m in net:
            if isinstance(m, nn.Linear):
                bound = 1.0 / math.sqrt(m.in_features)
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) * 2 * bound - bound)
                m.bias.copy_(torch.rand(m.bias.shape, generator=gen) * 2 * bound - bound)
    return net


@dataclass(frozen=True)
class TrainConfig:
    latent_dim: int
    hidden: int
    n_iter: int
    batch_size: int
    learning_rate: float


def train_generator(targets: Any, w: Any, d: int, cfg: TrainConfig, gen: Any) -> tuple[Any, float]:
    """Fit the generator so each class's mean embedding of generated images matches ``targets`` (k, D), the
    released noisy class mean embeddings. Returns the network (eval mode) and the final loss."""
    import torch

    k = targets.shape[0]
    net = build_net(cfg.latent_dim, k, cfg.hidden, d, gen)
    opt = torch.optim.Adam(net.parameters(), lr=float(cfg.learning_rate))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=int(cfg.n_iter))
    per_class = max(1, int(cfg.batch_size) // k)
    labels = torch.arange(k).repeat_interleave(per_class)
    onehot = torch.nn.functional.one_hot(labels, k).float()
    loss = torch.zeros(())
    for _ in range(int(cfg.n_iter)):
        z = torch.randn(len(labels), int(cfg.latent_dim), generator=gen)
        fake = net(torch.cat([z, onehot], dim=1))
        emb = embed(fake, w).reshape(k, per_class, -1).mean(dim=1)
        loss = ((emb - targets) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return net.eval(), float(loss.detach())
