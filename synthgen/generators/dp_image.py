"""Class-conditional DP image generator (registry name ``dp-image``): DP-MERF.

Method (Harder, Adamczewski & Park 2021, "DP-MERF"), written for synthgen:

1. Random Fourier features ``phi(x) = [cos(W x), sin(W x)] / sqrt(D/2)`` of the flattened image, with
   ``W ~ N(0, 1/l^2)`` drawn from a public seed (data-independent) at several public length-scales ``l`` (a mix
   of kernels: "better random features"). Every ``phi(x)`` has L2 norm exactly 1.
2. Per-class sums ``S_c = sum_{i: y_i = c} phi(x_i)`` are released ONCE with the Gaussian mechanism
   (:func:`synthgen.privacy.mechanisms.gaussian_mechanism`, L2 sensitivity 1 under add/remove-one-image: one
   image changes one class block by a unit vector). Class counts are either declared public
   (``class_counts=[...]``) or released with the Gaussian mechanism too (sensitivity 1).
3. A small conditional generator (MLP, latent + one-hot class -> pixels in [0, 1]) is trained to match the noisy
   class mean embeddings ``S_c / n_c``. Training touches only the released statistics, so it costs no budget
   (post-processing) and can run as long as wanted.

The zCDP budget is split between counts and embeddings by :class:`~synthgen.privacy.accountants.ZCDPBudget`.
The saved model holds the generator's weights and the released class proportions only, never images.
The class set (``classes``) and the image shape are public: declare them.
"""
from __future__ import annotations

import contextlib
import math
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from ..exceptions import ConfigError, DataValidationError
from ..imageio import ImageData, as_image_data
from ..privacy.accountants import ZCDPBudget
from ..privacy.mechanisms import clip_rows_l2, gaussian_mechanism
from ..privacy.spend import PrivacySpend
from ..rng import torch_generator
from .base import BaseGenerator


@contextlib.contextmanager
def _torch_threads(n: int):
    """Run torch with ``n`` intra-op threads, restoring the previous setting (small matrices on a shared CPU are
    several times faster on one thread than on contended ones)."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(old)


class DPImageGenerator(BaseGenerator):
    """Class-conditional DP-MERF image generator.

    Parameters
    ----------
    epsilon, delta : the DP target (delta None: below 1/(10 n), n rounded up to a power of ten).
    classes : the public list of class labels (integers), e.g. ``range(10)``. Required.
    class_counts : ``"dp"`` (release noisy counts, paid from the budget), ``"uniform"`` (public: equal classes)
        or a public sequence of counts, one per class (used as the embedding normalisers and sampling weights).
    n_features : number of random features D (cos + sin), split over ``length_scales``.
    length_scales : kernel length-scales, relative to sqrt(number of pixel values); public constants.
    count_share : share of the zCDP budget spent on the counts when ``class_counts="dp"``.
    n_iter, batch_size, hidden, latent_dim, learning_rate : generator training (post-processing, free).
    """

    registry_name: ClassVar[str] = "dp-image"
    data_kind: ClassVar[str] = "image"
    provides_dp: ClassVar[bool] = True
    contract_params: ClassVar[dict[str, Any]] = {"classes": list(range(10)), "n_iter": 60, "n_features": 500,
                                                 "hidden": 64}

    def __init__(self, epsilon: float = 1.0, delta: float | None = None, classes: Sequence[int] | None = None,
                 class_counts: Any = "dp", n_features: int = 2000, length_scales: Sequence[float] = (0.35, 0.7),
                 count_share: float = 0.05, n_iter: int = 800, batch_size: int = 500, hidden: int = 256,
                 latent_dim: int = 16, learning_rate: float = 2e-3):
        self.epsilon = epsilon
        self.delta = delta
        self.classes = classes
        self.class_counts = class_counts
        self.n_features = n_features
        self.length_scales = length_scales
        self.count_share = count_share
        self.n_iter = n_iter
        self.batch_size = batch_size
        self.hidden = hidden
        self.latent_dim = latent_dim
        self.learning_rate = learning_rate

    # ------------------------------------------------------------------ checks
    def _classes(self) -> np.ndarray:
        if self.classes is None:
            raise ConfigError("DPImageGenerator needs the public class list. Fix: pass classes=range(10) (labels "
                              "learned from the data would leak).")
        try:
            cls = np.asarray(list(self.classes), dtype=np.int64)
        except (TypeError, ValueError):
            raise ConfigError(f"classes must be integers; got {self.classes!r}.") from None
        if cls.ndim != 1 or len(cls) < 1 or len(np.unique(cls)) != len(cls):
            raise ConfigError("classes must be a non-empty list of distinct integers.")
        return cls

    def _check_params(self, k: int) -> None:
        for name in ("n_features", "n_iter", "batch_size", "hidden", "latent_dim"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ConfigError(f"{name} must be a whole number >= 1; got {v!r}.")
        if self.n_features < 2 * len(self.length_scales):
            raise ConfigError("n_features must be at least 2 per length-scale.")
        if not self.length_scales or any(not (float(s) > 0) for s in self.length_scales):
            raise ConfigError("length_scales must be a non-empty list of positive numbers.")
        if not 0 < float(self.count_share) < 1:
            raise ConfigError(f"count_share must be in (0, 1); got {self.count_share!r}.")
        cc = self.class_counts
        if isinstance(cc, str):
            if cc not in ("dp", "uniform"):
                raise ConfigError(f"class_counts must be 'dp', 'uniform' or a list of public counts; got {cc!r}.")
        else:
            arr = np.asarray(cc, dtype=float)
            if arr.shape != (k,) or not np.all(arr > 0):
                raise ConfigError(f"class_counts must list one positive public count per class ({k}).")

    # ------------------------------------------------------------------ generator hooks
    def _check_schema(self, schema: Any, allow_inferred: bool) -> None:
        if schema is not None:
            raise ConfigError("DPImageGenerator takes no table schema. Fix: fit((images, labels)).")

    def _prepare(self, data: Any, schema: Any, on_violation: str) -> ImageData:
        data = as_image_data(data)
        classes = self._classes()
        self._check_params(len(classes))
        if data.labels is None:
            raise DataValidationError("DPImageGenerator is class-conditional and needs labels. Fix: pass "
                                      "(images, labels), or labels of zeros with classes=[0].")
        if not np.isin(data.labels, classes).all():
            raise DataValidationError("Some labels are not among the declared classes. Fix: declare every class "
                                      "in classes=[...] or drop those images.")
        if len(data) < 2:
            raise DataValidationError("DPImageGenerator needs at least 2 images.")
        return data

    def _features(self, d: int, seed: int):
        """Data-independent random frequencies (public): one block per length-scale."""
        import torch

        g = torch.Generator().manual_seed(seed)  # a local generator, never the global one
        per = self.n_features // (2 * len(self.length_scales))
        blocks = [torch.randn(d, per, generator=g, dtype=torch.float64) / (float(s) * math.sqrt(d))
                  for s in self.length_scales]
        return torch.cat(blocks, dim=1).float()

    @staticmethod
    def _phi(x, w):
        import torch

        proj = x @ w
        return torch.cat([torch.cos(proj), torch.sin(proj)], dim=1) / math.sqrt(w.shape[1])

    def _build_net(self, k: int, d: int, gen):
        import torch
        from torch import nn

        net = nn.Sequential(
            nn.Linear(self.latent_dim + k, self.hidden), nn.LeakyReLU(0.2),
            nn.Linear(self.hidden, self.hidden), nn.LeakyReLU(0.2),
            nn.Linear(self.hidden, d), nn.Sigmoid(),
        )
        with torch.no_grad():  # seeded initialisation from our own generator
            for m in net:
                if isinstance(m, nn.Linear):
                    bound = 1.0 / math.sqrt(m.in_features)
                    m.weight.copy_(torch.rand(m.weight.shape, generator=gen) * 2 * bound - bound)
                    m.bias.copy_(torch.rand(m.bias.shape, generator=gen) * 2 * bound - bound)
        return net

    def _fit(self, data: ImageData, schema: Any, rng: np.random.Generator, plan: Any = None) -> PrivacySpend:
        with _torch_threads(1):
            return self._fit_merf(data, rng, plan)

    def _fit_merf(self, data: ImageData, rng: np.random.Generator, plan: Any) -> PrivacySpend:
        import torch

        classes = self._classes()
        k = len(classes)
        target = plan.target
        budget = ZCDPBudget(target.epsilon, target.delta)
        shape = data.image_shape
        d = int(np.prod(shape))
        x = torch.from_numpy(data.images.reshape(len(data), d).astype(np.float32))
        y = np.searchsorted(classes, data.labels) if np.all(np.diff(classes) > 0) else \
            np.array([int(np.flatnonzero(classes == v)[0]) for v in data.labels])
        feat_seed = int(rng.integers(0, 2**63 - 1))
        w = self._features(d, feat_seed)

        # --- the only accesses to private data: per-class feature sums and counts, released once with noise
        with torch.no_grad():
            phi = self._phi(x.double(), w.double()).numpy()  # (n, D), each row of norm 1 (cos^2 + sin^2)
        phi = clip_rows_l2(phi, 1.0)  # enforce the unit norm the sensitivity relies on, even after rounding
        sums = np.zeros((k, phi.shape[1]))
        np.add.at(sums, y, phi)
        counts = np.bincount(y, minlength=k).astype(float)
        del phi, x
        if isinstance(self.class_counts, str) and self.class_counts == "dp":
            shares = budget.split({"counts": self.count_share, "embeddings": 1.0 - self.count_share})
            noisy_counts = gaussian_mechanism(counts, 1.0, budget.spend("counts", shares["counts"]), rng)
            noisy_counts = np.round(noisy_counts)  # round released counts (no low-order-bit channel)
            counts_source = "dp"
        else:
            shares = {"embeddings": budget.rho}
            noisy_counts = (np.full(k, len(data) / k) if self.class_counts == "uniform"
                            else np.asarray(self.class_counts, dtype=float))
            counts_source = "public"
        noisy_sums = gaussian_mechanism(sums, 1.0, budget.spend("embeddings", shares["embeddings"]), rng)
        del sums, counts
        # --- from here on: post-processing of the released statistics only
        norm = np.maximum(noisy_counts, 1.0)
        target_emb = torch.from_numpy((noisy_sums / norm[:, None]).astype(np.float32))
        proportions = np.maximum(noisy_counts, 0.0)
        proportions = proportions / proportions.sum() if proportions.sum() > 0 else np.full(k, 1.0 / k)

        gen = torch_generator(rng)
        net = self._build_net(k, d, gen)
        opt = torch.optim.Adam(net.parameters(), lr=float(self.learning_rate))
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=int(self.n_iter))
        per_class = max(1, int(self.batch_size) // k)
        labels = torch.arange(k).repeat_interleave(per_class)
        onehot = torch.nn.functional.one_hot(labels, k).float()
        for _ in range(int(self.n_iter)):
            z = torch.randn(len(labels), int(self.latent_dim), generator=gen)
            fake = net(torch.cat([z, onehot], dim=1))
            emb = self._phi(fake, w).reshape(k, per_class, -1).mean(dim=1)
            loss = ((emb - target_emb) ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        self.net_ = net.eval()
        self.classes_ = classes
        self.class_proportions_ = proportions
        self.image_shape_ = tuple(int(s) for s in shape)
        self.n_features_in_ = d
        self.final_loss_ = float(loss.detach())
        return budget.to_spend(class_counts=counts_source, method="DP-MERF",
                               n_features=int(w.shape[1]) * 2, length_scales=[float(s) for s in self.length_scales])

    def _sample(self, n: int, rng: np.random.Generator) -> ImageData:
        import torch

        k = len(self.classes_)
        idx = rng.choice(k, size=n, p=self.class_proportions_)
        gen = torch_generator(rng)
        with torch.no_grad(), _torch_threads(1):
            z = torch.randn(n, int(self.latent_dim), generator=gen)
            onehot = torch.nn.functional.one_hot(torch.from_numpy(idx), k).float()
            out = self.net_(torch.cat([z, onehot], dim=1)).numpy()
        imgs = np.clip(out.reshape((n,) + tuple(self.image_shape_)), 0.0, 1.0).astype(np.float32)
        return ImageData(imgs, self.classes_[idx].astype(np.int64))

    def _finish_sample(self, raw: ImageData, n: int, rng: np.random.Generator) -> ImageData:
        return ImageData(raw.images, raw.labels, privacy=self.privacy_spent_.to_dict())

    def _get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        arrays = {f"net.{k}": v.detach().cpu().numpy() for k, v in self.net_.state_dict().items()}
        arrays["class_proportions"] = np.asarray(self.class_proportions_, dtype=np.float64)
        return {"classes": [int(c) for c in self.classes_], "image_shape": list(self.image_shape_),
                "final_loss": self.final_loss_}, arrays

    def _set_state(self, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        import torch

        self.classes_ = np.asarray(state["classes"], dtype=np.int64)
        self.image_shape_ = tuple(int(s) for s in state["image_shape"])
        self.final_loss_ = float(state["final_loss"])
        self.class_proportions_ = np.asarray(arrays["class_proportions"], dtype=np.float64)
        d = int(np.prod(self.image_shape_))
        net = self._build_net(len(self.classes_), d, torch.Generator().manual_seed(0))
        net.load_state_dict({k[4:]: torch.from_numpy(np.array(v)) for k, v in arrays.items()
                             if k.startswith("net.")})
        self.net_ = net.eval()
        self.n_features_in_ = d
