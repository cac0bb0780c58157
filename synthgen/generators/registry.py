"""A plain registry of generator names (used by the CLI and configs) -> classes, imported lazily.

Names map to ``module:Class`` strings so that listing generators does not import torch.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Iterator

from ..exceptions import RegistryError


@dataclass(frozen=True)
class Entry:
    name: str
    target: str  # "package.module:ClassName"
    guarantee: str  # "dp" or "none"
    data_kind: str  # "table" or "image"
    summary: str
    extra: str | None = None  # optional dependency group needed, e.g. "baselines"


_REGISTRY: dict[str, Entry] = {}


def register(name: str, target: str, guarantee: str, data_kind: str, summary: str, extra: str | None = None) -> Entry:
    """Register a generator under ``name``. A duplicate name is an error."""
    if name in _REGISTRY:
        raise RegistryError(f"A generator named {name!r} is already registered ({_REGISTRY[name].target}).")
    if guarantee not in ("dp", "none"):
        raise RegistryError(f"guarantee must be 'dp' or 'none'; got {guarantee!r}.")
    entry = Entry(name, target, guarantee, data_kind, summary, extra)
    _REGISTRY[name] = entry
    return entry


def unregister(name: str) -> None:
    """Remove ``name`` from the registry (tests register fakes and remove them afterwards). Unknown names are an
    error, so a typo cannot pass silently."""
    if name not in _REGISTRY:
        raise RegistryError(f"Cannot unregister {name!r}: no generator of that name is registered.")
    del _REGISTRY[name]


def entry(name: str) -> Entry:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise RegistryError(f"Unknown generator {name!r}. Known generators: {', '.join(sorted(_REGISTRY))}.") from None


def get(name: str) -> type:
    """The generator class registered under ``name`` (imports its module)."""
    e = entry(name)
    module, _, cls = e.target.partition(":")
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        hint = f" Install the optional extra: pip install 'synthgen[{e.extra}]'." if e.extra else ""
        raise RegistryError(f"Generator {name!r} needs a package that is not installed ({exc.name}).{hint}") from exc
    return getattr(mod, cls)


def names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def entries() -> Iterator[Entry]:
    return iter(_REGISTRY.values())


def is_available(name: str) -> bool:
    try:
        get(name)
        return True
    except RegistryError:
        return False


register("copula", "synthgen.generators.copula.plain:GaussianCopula", "none", "table",
         "Gaussian copula with empirical marginals (rare extremes and categories withheld by default). "
         "NO DP guarantee.")
register("dp-copula", "synthgen.generators.copula.dp:DPGaussianCopula", "dp", "table",
         "Gaussian copula with noisy histogram marginals and a DP correlation (zCDP).")
register("dp-marginal", "synthgen.generators.marginal.dp:DPMarginal", "dp", "table",
         "AIM-style adaptive marginals (exponential-mechanism selection, Gaussian measurement, zCDP) and a "
         "graphical model estimated with mbi.")
register("dp-ctgan", "synthgen.generators.ctgan.model:DPCTGAN", "dp", "table",
         "Conditional GAN trained with DP-SGD (Opacus, Poisson sampling, PRV accountant).")
register("ctgan", "synthgen.generators.ctgan.baseline:CTGAN", "none", "table",
         "Non-DP CTGAN baseline via the BUSL-licensed ctgan package. NO DP guarantee.", extra="baselines")
register("image-augment", "synthgen.generators.images.augment:ImageAugmenter", "none", "image",
         "Seeded augmentation of private images. NO DP guarantee: the outputs reveal the originals.", extra="images")
register("dp-image", "synthgen.generators.images.dp_merf:DPImageGenerator", "dp", "image",
         "Class-conditional image generator trained with DP.")
