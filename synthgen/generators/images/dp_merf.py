"""Class-conditional DP image generator (registry name ``dp-image``): DP-MERF, measure then estimate.

Method (Harder, Adamczewski & Park 2021, "DP-MERF"), written for synthgen:

1. Random Fourier features ``phi(x) = [cos(W x), sin(W x)] / sqrt(D/2)`` of the flattened image, with
   ``W ~ N(0, 1/l^2)`` at several public length-scales ``l`` (a mix of kernels: "better random features").
   ``W`` is public randomness drawn from ``random_state`` (data-independent, like a published random projection;
   it is not privacy noise). Every ``phi(x)`` has L2 norm exactly 1.
2. :func:`measure`, THE ONLY CODE THAT READS PRIVATE IMAGES, releases once, with Gaussian noise from
   :func:`~synthgen.privacy.noise.privacy_noise` (OS entropy, never ``random_state``): the per-class sums
   ``S_c = sum_{i: y_i = c} phi(x_i)`` (L2 sensitivity 1 under add/remove-one-image: one image changes one class
   block by a unit vector) and, depending on ``class_counts``, the per-class counts (``"dp"``, sensitivity 1) or
   one total count (``"uniform"``, sensitivity 1), each from a ``count_share`` of the zCDP budget; public counts
   (a list) cost nothing. The result is a frozen :class:`MerfRelease`.
3. ``_estimate`` trains a small conditional generator (MLP, latent + one-hot class -> pixels in [0, 1]) to match
   the noisy class mean embeddings ``S_c / n_c``, with ``n_c`` the noisy class counts, the noisy total over the
   classes (uniform) or the public counts: post-processing of the release, free, as long as wanted.

The exact number of images is never used: the default delta comes from the declared ``max_rows`` (or the fixed
undeclared default), ``rows_estimate_`` from the noisy counts (or the public ones). The saved model holds the
generator's weights and the released class proportions only, never images. The class set and the image shape are
public: declare the classes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from ...exceptions import ConfigError, DataValidationError
from ...io.images import ImageData
from ...privacy.accountants import ZCDPBudget
from ...privacy.dpsgd import torch_threads
from ...privacy.mechanisms import NoiseSource, clip_rows_l2, gaussian_mechanism, noisy_count
from ...privacy.noise import privacy_noise
from ...privacy.spend import DPSpend, PrivacySpend, check_epsilon_delta, resolve_delta
from ...rng import child_seed, torch_generator
from ..base import Plan
from .base import ImageGenerator
from .merf_nets import TrainConfig, build_net, embed, features_per_scale, random_features, train_generator


@dataclass(frozen=True)
class MerfPlan(Plan):
    """Public decisions of a DP-MERF fit. ``counts``: ``"dp"`` (noisy class counts), ``"uniform"`` (one noisy total
    count, equal classes) or ``"public"`` (``public_counts``); ``rho_counts`` is 0 for public counts."""

    classes: tuple[int, ...]
    counts: str
    public_counts: tuple[float, ...] | None
    rho_counts: float
    rho_embeddings: float
    n_features: int
    length_scales: tuple[float, ...]


@dataclass(frozen=True)
class MerfRelease:
    """Everything a DP-MERF fit released: the public feature seed and image shape, the noisy class counts
    (``"dp"``) or noisy total count (``"uniform"``), and the noisy per-class embedding sums (k, D)."""

    feature_seed: int
    image_shape: tuple[int, ...]
    class_counts: np.ndarray | None
    total_count: float | None
    embedding_sums: np.ndarray

    def __post_init__(self) -> None:
        for name in ("class_counts", "embedding_sums"):
            v = getattr(self, name)
            if v is not None:
                v = np.array(v, dtype=np.float64)
                v.setflags(write=False)
                object.__setattr__(self, name, v)


def class_index(classes: Sequence[int], labels: np.ndarray) -> np.ndarray:
    """Position of each label in the declared class list (labels were checked to be among the classes)."""
    cls = np.asarray(classes, dtype=np.int64)
    order = np.argsort(cls)
    return order[np.searchsorted(cls[order], labels)]


def measure(data: ImageData, plan: MerfPlan, feature_seed: int, noise: NoiseSource) -> MerfRelease:
    """Release the noisy statistics of the private images (see the module docstring). The only reader of them."""
    import torch

    k = len(plan.classes)
    d = int(np.prod(data.image_shape))
    w = random_features(d, feature_seed, plan.n_features, plan.length_scales)
    x = torch.from_numpy(data.images.reshape(len(data), d).astype(np.float32))
    y = class_index(plan.classes, data.labels)
    with torch.no_grad():
        phi = embed(x.double(), w.double()).numpy()  # (n, D), each row of norm 1 (cos^2 + sin^2)
    phi = clip_rows_l2(phi, 1.0)  # enforce the unit norm the sensitivity relies on, even after rounding
    sums = np.zeros((k, phi.shape[1]))
    np.add.at(sums, y, phi)
    class_counts = total = None
    if plan.counts == "dp":  # rounded: no low-order-bit channel
        class_counts = np.round(gaussian_mechanism(np.bincount(y, minlength=k).astype(float), 1.0,
                                                   plan.rho_counts, noise))
    elif plan.counts == "uniform":
        total = noisy_count(len(y), plan.rho_counts, noise)
    noisy_sums = gaussian_mechanism(sums, 1.0, plan.rho_embeddings, noise)
    return MerfRelease(int(feature_seed), tuple(int(s) for s in data.image_shape), class_counts, total, noisy_sums)


def class_targets(release: MerfRelease, plan: MerfPlan) -> tuple[np.ndarray, np.ndarray, float]:
    """From the release alone: the target class mean embeddings (k, D), the class proportions used for sampling
    and the DP estimate of the number of training images."""
    k = len(plan.classes)
    if release.class_counts is not None:
        counts = np.maximum(release.class_counts, 0.0)
        norm = np.maximum(release.class_counts, 1.0)
        rows = float(counts.sum())
        props = counts / counts.sum() if counts.sum() > 0 else np.full(k, 1.0 / k)
    elif release.total_count is not None:
        norm = np.full(k, max(float(release.total_count) / k, 1.0))
        rows, props = float(release.total_count), np.full(k, 1.0 / k)
    else:
        counts = np.asarray(plan.public_counts, dtype=np.float64)
        norm, rows, props = np.maximum(counts, 1.0), float(counts.sum()), counts / counts.sum()
    return release.embedding_sums / norm[:, None], props, max(rows, 1.0)


def _whole(v: Any, least: int = 1) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, np.integer)) and v >= least


class DPImageGenerator(ImageGenerator):
    """Class-conditional DP-MERF image generator.

    Parameters
    ----------
    epsilon, delta : the DP target (delta None: from ``max_rows`` when declared, else the fixed undeclared
        default of :func:`~synthgen.privacy.spend.default_delta`; never from the private number of images).
    classes : the public list of class labels (integers), e.g. ``range(10)``. Required.
    class_counts : ``"dp"`` (release noisy class counts, paid from the budget), ``"uniform"`` (public: equal
        classes; one noisy total count is bought to normalise the embeddings) or a public sequence of counts, one
        per class (the embedding normalisers and sampling weights; no count is bought).
    max_rows : optional public upper bound on the number of training images (like a table schema's
        ``rows.max``): it sets the default delta and bounds an explicit one (delta < 1/max_rows).
    n_features : number of random features D (cos + sin), split over ``length_scales``.
    length_scales : kernel length-scales, relative to sqrt(number of pixel values); public constants.
    count_share : share of the zCDP budget spent on the counts when ``class_counts`` is ``"dp"`` or ``"uniform"``.
    n_iter, batch_size, hidden, latent_dim, learning_rate : generator training (post-processing, free).

    ``random_state`` seeds the random-feature frequencies (public randomness), the network's initialisation and
    training, and sampling; privacy noise always comes from OS entropy.
    """

    registry_name: ClassVar[str] = "dp-image"
    provides_dp: ClassVar[bool] = True
    contract_params: ClassVar[dict[str, Any]] = {"classes": list(range(10)), "n_iter": 60, "n_features": 500,
                                                 "hidden": 64}

    def __init__(self, epsilon: float = 1.0, delta: float | None = None, classes: Sequence[int] | None = None,
                 class_counts: Any = "dp", max_rows: int | None = None, n_features: int = 2000,
                 length_scales: Sequence[float] = (0.35, 0.7), count_share: float = 0.05, n_iter: int = 800,
                 batch_size: int = 500, hidden: int = 256, latent_dim: int = 16, learning_rate: float = 2e-3):
        self.epsilon = epsilon
        self.delta = delta
        self.classes = classes
        self.class_counts = class_counts
        self.max_rows = max_rows
        self.n_features = n_features
        self.length_scales = length_scales
        self.count_share = count_share
        self.n_iter = n_iter
        self.batch_size = batch_size
        self.hidden = hidden
        self.latent_dim = latent_dim
        self.learning_rate = learning_rate

    # ------------------------------------------------------------------ plan (public inputs only)
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
            if not _whole(getattr(self, name)):
                raise ConfigError(f"{name} must be a whole number >= 1; got {getattr(self, name)!r}.")
        if self.max_rows is not None and not _whole(self.max_rows):
            raise ConfigError(f"max_rows must be None or a whole number >= 1; got {self.max_rows!r}.")
        if not self.length_scales or any(not (float(s) > 0) for s in self.length_scales):
            raise ConfigError("length_scales must be a non-empty list of positive numbers.")
        if self.n_features < 2 * len(self.length_scales):
            raise ConfigError("n_features must be at least 2 per length-scale.")
        if not 0 < float(self.count_share) < 1:
            raise ConfigError(f"count_share must be in (0, 1); got {self.count_share!r}.")
        cc = self.class_counts
        if isinstance(cc, str):
            if cc not in ("dp", "uniform"):
                raise ConfigError(f"class_counts must be 'dp', 'uniform' or a list of public counts; got {cc!r}.")
            return
        try:
            arr = np.asarray(cc, dtype=float)
        except (TypeError, ValueError):
            arr = np.zeros(0)
        if arr.shape != (k,) or not np.all(arr > 0):
            raise ConfigError(f"class_counts must list one positive public count per class ({k}).")

    def _target_spend(self, schema: Any) -> PrivacySpend:
        """Images have no table schema: the declared row bound is ``max_rows`` (never the exact count)."""
        eps, _ = check_epsilon_delta(self.epsilon, 0.0)
        return DPSpend(eps, resolve_delta(self.delta, self.max_rows), accountant="target")

    def _plan(self, schema: Any) -> MerfPlan:
        classes = self._classes()
        self._check_params(len(classes))
        target = self._target_spend(schema)
        budget = ZCDPBudget(target.epsilon, target.delta)
        if isinstance(self.class_counts, str):
            share = float(self.count_share)
            shares = budget.split({"counts": share, "embeddings": 1.0 - share})
            counts, public = self.class_counts, None
        else:
            shares = {"counts": 0.0, "embeddings": budget.rho}
            counts, public = "public", tuple(float(c) for c in self.class_counts)
        return MerfPlan(target, tuple(int(c) for c in classes), counts, public, shares["counts"],
                        shares["embeddings"], int(self.n_features), tuple(float(s) for s in self.length_scales))

    def _check_images(self, data: ImageData) -> ImageData:
        if data.labels is None:
            raise DataValidationError("DPImageGenerator is class-conditional and needs labels. Fix: pass "
                                      "(images, labels), or labels of zeros with classes=[0].")
        if not np.isin(data.labels, self._classes()).all():
            raise DataValidationError("Some labels are not among the declared classes. Fix: declare every class "
                                      "in classes=[...] or drop those images.")
        return data

    # ------------------------------------------------------------------ fit: measure, then estimate
    def _fit(self, data: ImageData, schema: Any, rng: np.random.Generator, plan: MerfPlan) -> PrivacySpend:
        feature_seed = child_seed(rng)  # public randomness (the random-feature frequencies), not privacy noise
        with torch_threads(1):
            release = measure(data, plan, feature_seed, privacy_noise())
        self._estimate(release, plan, rng)
        return self._spend(plan)

    def _estimate(self, release: MerfRelease, plan: MerfPlan, rng: np.random.Generator) -> None:
        """Train the generator on the release alone; set the learned attributes (``_restore`` builds ``net_``)."""
        import torch

        targets, proportions, rows = class_targets(release, plan)
        d = int(np.prod(release.image_shape))
        cfg = TrainConfig(int(self.latent_dim), int(self.hidden), int(self.n_iter), int(self.batch_size),
                          float(self.learning_rate))
        with torch_threads(1):
            w = random_features(d, release.feature_seed, plan.n_features, plan.length_scales)
            net, loss = train_generator(torch.from_numpy(targets.astype(np.float32)), w, d, cfg,
                                        torch_generator(rng))
        self.generator_weights_ = {k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}
        self.classes_ = np.asarray(plan.classes, dtype=np.int64)
        self.class_proportions_ = np.asarray(proportions, dtype=np.float64)
        self.image_shape_ = tuple(release.image_shape)
        self.n_features_in_ = d
        self.final_loss_ = loss
        self.rows_estimate_ = rows

    def _spend(self, plan: MerfPlan) -> DPSpend:
        """The spend: a function of the plan only."""
        budget = ZCDPBudget(plan.target.epsilon, plan.target.delta)
        if plan.counts == "dp":
            budget.spend("counts", plan.rho_counts)
        elif plan.counts == "uniform":
            budget.spend("row_count", plan.rho_counts)
        budget.spend("embeddings", plan.rho_embeddings)
        n_emb = 2 * features_per_scale(plan.n_features, plan.length_scales) * len(plan.length_scales)
        return budget.to_spend(class_counts=plan.counts, method="DP-MERF", n_features=n_emb,
                               length_scales=list(plan.length_scales),
                               random_features="public randomness from random_state (data-independent)")

    # ------------------------------------------------------------------ model: restore, sample, state
    def _restore(self) -> None:
        import torch

        net = build_net(int(self.latent_dim), len(self.classes_), int(self.hidden), int(self.n_features_in_),
                        torch.Generator().manual_seed(0))
        net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in self.generator_weights_.items()})
        self.net_ = net.eval()

    def _sample(self, n: int, rng: np.random.Generator) -> ImageData:
        import torch

        k = len(self.classes_)
        idx = rng.choice(k, size=n, p=self.class_proportions_)
        gen = torch_generator(rng)
        with torch.no_grad(), torch_threads(1):
            z = torch.randn(n, int(self.latent_dim), generator=gen)
            onehot = torch.nn.functional.one_hot(torch.from_numpy(idx), k).float()
            out = self.net_(torch.cat([z, onehot], dim=1)).numpy()
        imgs = np.clip(out.reshape((n,) + tuple(self.image_shape_)), 0.0, 1.0).astype(np.float32)
        return ImageData(imgs, self.classes_[idx].astype(np.int64))

    def _get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        arrays = {f"net.{k}": np.asarray(v) for k, v in self.generator_weights_.items()}
        arrays["class_proportions"] = np.asarray(self.class_proportions_, dtype=np.float64)
        return {"classes": [int(c) for c in self.classes_], "image_shape": list(self.image_shape_),
                "final_loss": self.final_loss_}, arrays

    def _set_state(self, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.classes_ = np.asarray(state["classes"], dtype=np.int64)
        self.image_shape_ = tuple(int(s) for s in state["image_shape"])
        self.final_loss_ = float(state["final_loss"])
        self.class_proportions_ = np.asarray(arrays["class_proportions"], dtype=np.float64)
        self.generator_weights_ = {k[4:]: np.array(v) for k, v in arrays.items() if k.startswith("net.")}
        self.n_features_in_ = int(np.prod(self.image_shape_))
