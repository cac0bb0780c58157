"""Delimited text tables (CSV, TSV; optionally compressed): the file's layout is read off its first lines.

Real exports are not all RFC 4180 with commas: European spreadsheets write ``;`` with decimal commas, tab-separated
files come as ``.tsv``/``.txt``, files start with a UTF-8 byte-order mark or are Latin-1, and many are gzipped.
:func:`read_delimited` takes, from the first ``SAMPLE_BYTES`` of the file:

- the separator among ``SEPARATORS``: the one that splits every sampled line into the same number of fields, more
  than one (the most fields wins; a comma on a tie; none: a comma, or a tab for ``.tsv``/``.tab``);
- the decimal mark: a comma only with another separator and when sampled numbers with a decimal comma outnumber
  those with a point (``1,5;2,25`` is two numbers);
- the encoding: UTF-8 (a byte-order mark dropped), else Latin-1 with a warning.

The layout is a function of the file's text; the rows are then read by pandas' C parser. It is never written
anywhere: it only decides how the values are parsed.
"""
from __future__ import annotations

import bz2
import csv
import gzip
import lzma
import os
import re
import warnings
import zipfile
from pathlib import Path

import pandas as pd

SEPARATORS = (",", ";", "\t", "|")
TEXT_SUFFIXES = (".csv", ".tsv", ".tab", ".txt")
COMPRESSED = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open, ".zip": zipfile.ZipFile}  # .zip: see _sample
SAMPLE_BYTES = 1 << 16
SAMPLE_LINES = 50
_COMMA_NUMBER = re.compile(r"^\s*[-+]?\d+,\d+\s*$")
_POINT_NUMBER = re.compile(r"^\s*[-+]?\d+\.\d+\s*$")


def text_suffix(path: str | os.PathLike) -> str | None:
    """The text suffix of a delimited file (``.csv`` of ``a.csv.gz``), None when it is not one."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in COMPRESSED:
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes and suffixes[-1] in TEXT_SUFFIXES else None


def read_delimited(path: str | os.PathLike) -> pd.DataFrame:
    """Read a delimited text file in the layout its first lines show (module docstring)."""
    raw = _sample(Path(path))
    encoding = _encoding(raw)
    if encoding == "latin-1":
        warnings.warn(f"{Path(path).name} is not UTF-8 text; it was read as Latin-1. Check accented values, or "
                      "save the file as UTF-8.", UserWarning, stacklevel=3)
    rows = _rows(raw.decode(encoding, errors="ignore"))
    sep = separator(rows, default="\t" if text_suffix(path) in (".tsv", ".tab") else ",")
    return pd.read_csv(path, sep=sep, decimal=decimal_mark(rows, sep), encoding=encoding, compression="infer")


def separator(lines: list[str], default: str = ",") -> str:
    """The separator that splits every sampled line into the same number (> 1) of fields; the most fields wins."""
    best, width = default, 1
    for sep in SEPARATORS:
        widths = {len(r) for r in csv.reader(lines, delimiter=sep)}
        if len(widths) == 1 and (w := widths.pop()) > width:
            best, width = sep, w
    return best


def decimal_mark(lines: list[str], sep: str) -> str:
    """``','`` when, with a separator other than a comma, numbers with a decimal comma outnumber those with a point."""
    if sep == ",":
        return "."
    cells = [c for r in csv.reader(lines[1:], delimiter=sep) for c in r]
    commas = sum(bool(_COMMA_NUMBER.match(c)) for c in cells)
    return "," if commas > sum(bool(_POINT_NUMBER.match(c)) for c in cells) else "."


def _sample(path: Path) -> bytes:
    if path.suffix.lower() == ".zip":  # pandas reads a zip's only member
        with zipfile.ZipFile(path) as z, z.open(z.namelist()[0]) as f:
            return f.read(SAMPLE_BYTES)
    with COMPRESSED.get(path.suffix.lower(), open)(path, "rb") as f:
        return f.read(SAMPLE_BYTES)


def _encoding(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    for cut in range(4):  # the sample may end inside a multi-byte character
        try:
            raw[:len(raw) - cut].decode("utf-8")
            return "utf-8"
        except UnicodeDecodeError:
            continue
    return "latin-1"


def _rows(text: str) -> list[str]:
    """Whole sampled lines (the last one may be cut by the sample's end, so it is dropped when more follow)."""
    lines = text.splitlines()
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]
    return [ln for ln in lines[:SAMPLE_LINES] if ln.strip()]
