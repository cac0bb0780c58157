"""Generators. Import concrete classes lazily through :mod:`synthgen.registry` or directly from their modules."""
from .base import BaseGenerator, Generator, default_delta

__all__ = ["BaseGenerator", "Generator", "default_delta"]
