"""Tables on disk: CSV or Parquet chosen by extension, read with a typed error and written atomically. Delimited
text (CSV, TSV, compressed or not) is read in the layout its first lines show (:mod:`synthgen.io.text`).

A Parquet dataset (a directory of ``*.parquet`` files, or a glob such as ``data/part-*.parquet``) reads into one
DataFrame with :func:`read_table`, or lazily, one partition per file, into a Dask frame with
:func:`read_partitioned` (the ``synthgen[dask]`` extra) for fits that reduce on a cluster."""
from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any

import pandas as pd

from ..exceptions import InputError
from .files import atomic_path
from .text import TEXT_SUFFIXES, read_delimited, text_suffix

TABLE_SUFFIXES = (".csv", ".parquet", ".pq")  # written
READ_SUFFIXES = TEXT_SUFFIXES + (".parquet", ".pq")


def parquet_files(path: str | os.PathLike) -> list[Path] | None:
    """The files of a Parquet dataset (a directory of ``*.parquet``/``*.pq`` files or a glob), sorted; None when
    ``path`` is a single file. A directory or glob without Parquet files is an :class:`InputError`."""
    text = os.fspath(path)
    if glob.has_magic(text):
        files = [Path(p) for p in sorted(glob.glob(text)) if Path(p).is_file()]
    elif Path(text).is_dir():
        files = sorted(p for p in Path(text).iterdir() if p.is_file() and p.suffix.lower() in (".parquet", ".pq"))
    else:
        return None
    if not files:
        raise InputError(f"No Parquet files found at {text}. Fix: point at a directory of .parquet files or a glob "
                         "such as 'data/part-*.parquet'.")
    bad = [p.name for p in files if p.suffix.lower() not in (".parquet", ".pq")]
    if bad:
        raise InputError(f"{text} matches files that are not Parquet ({bad[:3]}). Fix: narrow the glob.")
    return files


def read_partitioned(path: str | os.PathLike) -> Any:
    """A Dask frame over a Parquet file, directory or glob (one partition per file; nothing is read yet)."""
    files = parquet_files(path) or [Path(path)]
    if not files[0].exists():
        raise InputError(f"Data file {files[0]} does not exist; check the path.")
    try:
        import dask.dataframe as dd
    except ImportError as exc:
        raise InputError("Reading a table as a Dask frame needs Dask. Fix: pip install 'synthgen[dask]'.") from exc
    try:
        return dd.read_parquet([str(p) for p in files])
    except Exception as exc:  # noqa: BLE001 - re-raised as a typed error with the cause chained
        raise InputError(f"Could not read {path} as Parquet: {type(exc).__name__}. Check that the files are "
                         "valid, complete Parquet tables with the same columns.") from exc


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV or Parquet file chosen by extension, or a Parquet directory/glob, with a clear error when it
    cannot be read."""
    files = parquet_files(path)
    if files is not None:
        try:
            return pd.concat([pd.read_parquet(p) for p in files], ignore_index=True)
        except Exception as exc:  # noqa: BLE001 - re-raised as a typed error with the cause chained
            raise InputError(f"Could not read {path} as Parquet: {type(exc).__name__}. Check that the files are "
                             "valid, complete Parquet tables with the same columns.") from exc
    path = Path(path)
    if not path.exists():
        raise InputError(f"Data file {path} does not exist; check the path.")
    text = text_suffix(path)
    suffix = text or path.suffix.lower()
    try:
        if text:
            return read_delimited(path)
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - re-raised as a typed error with the cause chained
        raise InputError(f"Could not read {path} as {suffix[1:].upper()}: {type(exc).__name__}. "
                         "Check that the file is a valid, complete table.") from exc
    raise InputError(f"Unsupported table format {suffix!r} for {path}; expected one of {', '.join(READ_SUFFIXES)} "
                     "(text files may be compressed: .gz, .bz2, .xz, .zip).")


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
