"""Tables on disk: CSV or Parquet chosen by extension, read with a typed error and written atomically."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..exceptions import InputError
from .files import atomic_path

TABLE_SUFFIXES = (".csv", ".parquet", ".pq")


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV or Parquet file chosen by extension, with a clear error when it cannot be read."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"Data file {path} does not exist; check the path.")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path)
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - re-raised as a typed error with the cause chained
        raise InputError(f"Could not read {path} as {suffix[1:].upper()}: {type(exc).__name__}. "
                         "Check that the file is a valid, complete table.") from exc
    raise InputError(f"Unsupported table format {suffix!r} for {path}; expected one of {', '.join(TABLE_SUFFIXES)}.")


def write_table(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a CSV or Parquet file (by extension) atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError(f"Unsupported output format {suffix!r} for {path}; use .csv or .parquet.")
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)
