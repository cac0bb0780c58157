"""DP-CTGAN's losses.

Privacy: the critic loss (:class:`WassersteinLoss`, or BCE) is the per-row loss of DP-SGD: each row's gradient is
clipped and noised there. Every generator-side loss (:class:`GeneratorLoss`: adversarial through the DP-trained
critic, the condition's cross-entropy, :class:`MarginalLoss` and :class:`PairLoss` towards the noisy counts) is a
function of DP outputs and of fake rows only: post-processing, no privacy cost, and safe to report.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .encoder import TableEncoder

FREQ_FLOOR = 1e-4


def span_softmax(logits: Any, spans: list[tuple[int, int]]) -> Any:
    """(batch, slots): the softmax of every column's span, side by side."""
    import torch

    return torch.cat([torch.softmax(logits[:, s0:s0 + k], dim=1) for s0, k in spans], 1)


def normalise(counts: np.ndarray) -> np.ndarray:
    """Counts -> frequencies (uniform when nothing is left)."""
    c = np.asarray(counts, dtype=np.float64)
    total = c.sum()
    return c / total if total > 0 else np.full(len(c), 1.0 / len(c))


class WassersteinLoss:
    """Per-row critic loss for DP-SGD: ``-D(x)`` for real rows (target 1), ``+D(x)`` for fake rows (target 0)."""

    reduction = "mean"

    def __call__(self, out: Any, target: Any) -> Any:
        per_row = (1.0 - 2.0 * target) * out
        return per_row if self.reduction == "none" else per_row.mean()


class MarginalLoss:
    """KL(noisy frequencies || batch mean of the generator's softmax), summed over the softmax spans.

    Anchors every column's marginal (categories, levels, bins) to the noisy counts. Under DP-SGD's noise the
    critic alone lets the marginals drift.
    """

    def __init__(self, enc: TableEncoder, freqs: list[np.ndarray]):
        import torch

        self.spans = list(enc.col_softmax)
        p = np.concatenate([np.maximum(f, FREQ_FLOOR) / np.maximum(f, FREQ_FLOOR).sum() for f in freqs])
        self.p = torch.as_tensor(p, dtype=torch.float32)
        self.logp = torch.log(self.p)

    def loss(self, logits: Any, soft: Any = None) -> Any:
        """``soft``: :func:`span_softmax` of ``logits`` when the caller already has it."""
        import torch

        q = (span_softmax(logits, self.spans) if soft is None else soft).mean(0)
        return (self.p * (self.logp - torch.log(q + 1e-8))).sum()


class PairLoss:
    """KL(noisy 2-way frequencies || the generator's 2-way distribution in the batch), averaged over the pairs.

    The generator's joint for columns (a, b) is the batch mean of the outer product of their softmax outputs;
    a conditioned column contributes the one-hot of its condition instead, as at sampling time. All softmax slots
    sit side by side in one "slot space": one matmul gives every 2-way table, the pairs' cells are gathered from it.
    """

    def __init__(self, enc: TableEncoder, pairs: list[tuple[int, int]], freqs: list[np.ndarray]):
        import torch

        self.pairs = pairs
        self.spans = list(enc.col_softmax)
        starts = np.cumsum([0] + [k for _, k in self.spans])
        rows, cols, target = [], [], []
        for (a, b), f in zip(pairs, freqs):
            q = np.maximum(np.asarray(f, dtype=np.float64), FREQ_FLOOR)
            ka, kb = self.spans[a][1], self.spans[b][1]
            rr, cc = np.meshgrid(np.arange(ka) + starts[a], np.arange(kb) + starts[b], indexing="ij")
            rows.append(rr.ravel())
            cols.append(cc.ravel())
            target.append((q / q.sum()).ravel())
        empty = np.zeros(0, int)
        self.rows = torch.as_tensor(np.concatenate(rows) if rows else empty, dtype=torch.long)
        self.cols = torch.as_tensor(np.concatenate(cols) if cols else empty, dtype=torch.long)
        self.p = torch.as_tensor(np.concatenate(target) if target else np.zeros(0), dtype=torch.float32)
        self.logp = torch.log(self.p.clamp_min(1e-30))
        # where each conditional column's slots sit in slot space, and which conditional column each belongs to
        cond_pos = [np.arange(self.spans[j][1]) + starts[j] for j in enc.cond_columns]
        blocks = [np.full(self.spans[j][1], i) for i, j in enumerate(enc.cond_columns)]
        self.cond_pos = torch.as_tensor(np.concatenate(cond_pos) if cond_pos else empty, dtype=torch.long)
        self.cond_block = torch.as_tensor(np.concatenate(blocks) if blocks else empty, dtype=torch.long)
        self.cond_offsets = torch.as_tensor(enc.cond_offsets, dtype=torch.long) if enc.cond_columns else None

    def probs(self, logits: Any, col: Any, slot: Any, soft: Any = None) -> Any:
        """(batch, slots) per-column softmax outputs; a conditioned column's block is its condition's one-hot."""
        import torch

        P = span_softmax(logits, self.spans) if soft is None else soft
        if col is not None and len(self.cond_pos):
            m = len(col)
            onehot = torch.zeros(m, len(self.cond_pos))
            onehot[torch.arange(m), self.cond_offsets[col] + slot] = 1.0
            mine = self.cond_block[None, :] == col[:, None]
            P = P.index_copy(1, self.cond_pos, torch.where(mine, onehot, P[:, self.cond_pos]))
        return P

    def loss(self, logits: Any, col: Any, slot: Any, soft: Any = None) -> Any:
        import torch

        if not len(self.p):
            return torch.zeros(())
        P = self.probs(logits, col, slot, soft)
        joint = (P.t() @ P) / len(P)
        q = joint[self.rows, self.cols]
        return (self.p * (self.logp - torch.log(q + 1e-8))).sum() / len(self.pairs)


class GeneratorLoss:
    """The generator's whole loss: adversarial (through the frozen critic) + condition + marginal + pair terms.

    ``marginal_weight``/``pair_weight`` 0 turn those terms off; the marginal term is off when nothing was counted
    (its target would be uniform, not a measurement).
    """

    def __init__(self, enc: TableEncoder, conds: Any, freqs: list[np.ndarray], pairs: list[tuple[int, int]],
                 pair_freqs: list[np.ndarray], *, critic_loss: str, marginal_weight: float, pair_weight: float):
        self.enc, self.conds, self.critic_loss = enc, conds, critic_loss
        self.marg_w = float(marginal_weight)
        self.pair_w = float(pair_weight) if pairs else 0.0
        self.marg = MarginalLoss(enc, freqs) if self.marg_w > 0 else None
        self.pair = PairLoss(enc, pairs, pair_freqs) if self.pair_w > 0 else None

    def __call__(self, critic_out: Any, logits: Any, col: Any, slot: Any) -> Any:
        import torch

        if self.critic_loss == "bce":
            adv = torch.nn.functional.binary_cross_entropy_with_logits(critic_out, torch.ones_like(critic_out))
        else:
            adv = -critic_out.mean()
        loss = adv + self.conds.loss(logits, col, slot)
        soft = span_softmax(logits, self.enc.col_softmax) if (self.marg or self.pair) else None
        if self.marg is not None:
            loss = loss + self.marg_w * self.marg.loss(logits, soft)
        if self.pair is not None:
            loss = loss + self.pair_w * self.pair.loss(logits, col, slot, soft)
        return loss
