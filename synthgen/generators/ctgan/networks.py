"""DP-CTGAN's networks and the tensors around them: generator, critic, conditional vectors, sampling.

Privacy: nothing here reads private rows. The generator is built from the encoder (the declared schema and the DP
bin edges) and initialised from the noisy frequencies; the critic reads rows only inside DP-SGD's clipped,
noised steps (:mod:`.training`). Every random draw uses an explicit ``torch.Generator`` (seeded from
``random_state``: initialisation and sampling only, never privacy noise); the global torch RNG is never used.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .encoder import TableEncoder
from .losses import FREQ_FLOOR

TAU = 0.2  # Gumbel-softmax temperature (as in CTGAN)
SAMPLE_CHUNK = 8192


def gumbel(m: int, k: int, g: Any) -> Any:
    import torch

    u = torch.rand(m, k, generator=g).clamp_(1e-10, 1.0 - 1e-10)
    return -torch.log(-torch.log(u))


def activate(logits: Any, enc: TableEncoder, g: Any) -> Any:
    """tanh for scalars, Gumbel-softmax (explicit generator, temperature 0.2) for one-hot spans."""
    import torch

    parts = []
    for start, size, kind in enc.spans:
        x = logits[:, start:start + size]
        parts.append(torch.tanh(x) if kind == "tanh" else torch.softmax((x + gumbel(len(x), size, g)) / TAU, dim=1))
    return torch.cat(parts, 1)


def _init_linear(layer: Any, g: Any) -> None:
    import torch

    bound = 1.0 / math.sqrt(layer.weight.shape[1])
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound, generator=g)
        layer.bias.uniform_(-bound, bound, generator=g)


def build_generator(enc: TableEncoder, emb: int, dims: Any, g: Any = None, freqs: list[np.ndarray] | None = None
                    ) -> Any:
    """Residual MLP from (noise, conditional vector) to the encoder's logits.

    With ``g`` (a seeded generator) and ``freqs`` (noisy frequencies) it is initialised for training: small head
    weights and the head's biases at the log noisy marginals. Without ``g`` it is left for a state dict to fill.
    """
    import torch
    from torch import nn

    class Residual(nn.Module):
        def __init__(self, i: int, o: int):
            super().__init__()
            self.fc = nn.Linear(i, o)
            self.norm = nn.LayerNorm(o)

        def forward(self, x: Any) -> Any:
            return torch.cat([torch.relu(self.norm(self.fc(x))), x], 1)

    layers, d = [], emb + enc.cond_dim
    for w in dims:
        layers.append(Residual(d, int(w)))
        d += int(w)
    head = nn.Linear(d, enc.dim)
    net = nn.Sequential(*layers, head)
    if g is not None:
        for mod in net.modules():
            if isinstance(mod, nn.Linear):
                _init_linear(mod, g)
        with torch.no_grad():
            head.weight.mul_(0.1)  # start close to the (noisy) marginals set in the bias below
            for (s0, k), p in zip(enc.col_softmax, freqs or []):
                head.bias[s0:s0 + k] = torch.as_tensor(np.log(np.maximum(p, FREQ_FLOOR)), dtype=torch.float32)
    return net


def build_critic(d_in: int, dims: Any, g: Any) -> Any:
    """MLP critic; no BatchNorm, no dropout: per-row gradients (each depends on its row only), no global RNG."""
    from torch import nn

    layers, d = [], d_in
    for w in dims:
        layers += [nn.Linear(d, int(w)), nn.LeakyReLU(0.2)]
        d = int(w)
    layers.append(nn.Linear(d, 1))
    net = nn.Sequential(*layers)
    for mod in net.modules():
        if isinstance(mod, nn.Linear):
            _init_linear(mod, g)
    return net


class Expander:
    """Codes/offsets -> the one-hot + scalar rows the critic reads."""

    def __init__(self, enc: TableEncoder):
        import torch

        self.dim = enc.dim
        self.starts = torch.as_tensor([s for s, _ in enc.col_softmax], dtype=torch.long)
        self.scalar_cols = torch.as_tensor([j for j, p in enumerate(enc.col_scalar) if p >= 0], dtype=torch.long)
        self.scalar_pos = torch.as_tensor([p for p in enc.col_scalar if p >= 0], dtype=torch.long)

    def __call__(self, codes: Any, offsets: Any) -> Any:
        import torch

        x = torch.zeros(len(codes), self.dim)
        x.scatter_(1, codes + self.starts, 1.0)
        if len(self.scalar_pos):
            x[:, self.scalar_pos] = offsets[:, self.scalar_cols]
        return x


class CondSampler:
    """Conditional vectors: a conditional column chosen uniformly, its slot from the noisy frequencies."""

    def __init__(self, enc: TableEncoder, freqs: list[np.ndarray]):
        import torch

        self.enc = enc
        self.k = len(enc.cond_columns)
        self.dim = enc.cond_dim
        self.probs = [torch.as_tensor(freqs[i], dtype=torch.float64) for i in enc.cond_columns]
        self.offsets = torch.as_tensor(enc.cond_offsets, dtype=torch.long) if self.k else None
        self.cols = torch.as_tensor(enc.cond_columns, dtype=torch.long) if self.k else None

    def onehot(self, col: Any, slot: Any) -> Any:
        import torch

        c = torch.zeros(len(col), self.dim)
        if self.k:
            c[torch.arange(len(col)), self.offsets[col] + slot] = 1.0
        return c

    def sample(self, m: int, g: Any) -> tuple[Any, Any, Any]:
        import torch

        if not self.k:
            return torch.zeros(m, 0), None, None
        col = torch.randint(self.k, (m,), generator=g)
        slot = torch.zeros(m, dtype=torch.long)
        for i in range(self.k):
            mask = col == i
            cnt = int(mask.sum())
            if cnt:
                slot[mask] = torch.multinomial(self.probs[i], cnt, replacement=True, generator=g)
        return self.onehot(col, slot), col, slot

    def from_rows(self, codes: Any, g: Any) -> Any:
        """Real rows' conditional vectors (inside DP-SGD's per-row input): a column chosen uniformly, the row's
        own value in it. No training-by-sampling: no per-category row lists."""
        import torch

        m = len(codes)
        if not self.k:
            return torch.zeros(m, 0)
        col = torch.randint(self.k, (m,), generator=g)
        return self.onehot(col, codes[torch.arange(m), self.cols[col]])

    def loss(self, logits: Any, col: Any, slot: Any) -> Any:
        """Cross-entropy of the generator's output for the conditioned column against the condition."""
        import torch

        if not self.k:
            return torch.zeros(())
        total = torch.zeros(())
        for i, j in enumerate(self.enc.cond_columns):
            mask = col == i
            if bool(mask.any()):
                s0, k = self.enc.col_softmax[j]
                total = total + torch.nn.functional.cross_entropy(logits[mask, s0:s0 + k], slot[mask],
                                                                  reduction="sum")
        return total / len(col)


def generate(G: Any, enc: TableEncoder, freqs: list[np.ndarray], emb: int, n: int, g: Any,
             fixed: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` rows from the generator as (slots, scalars) for :meth:`TableEncoder.decode`; ``fixed``: a
    (conditional column, slot) every row is conditioned on, else conditions drawn from the noisy frequencies."""
    import torch

    conds = CondSampler(enc, freqs)
    slots_out, scal_out = [], []
    with torch.no_grad():
        for start in range(0, n, SAMPLE_CHUNK):
            m = min(SAMPLE_CHUNK, n - start)
            if fixed is None:
                c, col, slot = conds.sample(m, g)
            else:
                col = torch.full((m,), fixed[0], dtype=torch.long)
                slot = torch.full((m,), fixed[1], dtype=torch.long)
                c = conds.onehot(col, slot)
            logits = G(torch.cat([torch.randn(m, emb, generator=g), c], 1))
            slots = torch.zeros(m, len(enc.columns), dtype=torch.long)
            scal = torch.zeros(m, len(enc.columns))
            for j, (s0, k) in enumerate(enc.col_softmax):
                slots[:, j] = (logits[:, s0:s0 + k] + gumbel(m, k, g)).argmax(1)
                if enc.col_scalar[j] >= 0:
                    scal[:, j] = torch.tanh(logits[:, enc.col_scalar[j]])
            if enc.cond_columns:  # the conditioned column takes its condition's value
                slots[torch.arange(m), torch.as_tensor(enc.cond_columns)[col]] = slot
            slots_out.append(slots.numpy())
            scal_out.append(scal.numpy())
    return np.concatenate(slots_out), np.concatenate(scal_out)
