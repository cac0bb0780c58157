"""Reading a release's inputs: the private training table (read once), its declared schema, a holdout, a model.

Privacy argument: errors name files, columns and fixes, never values or row counts of the private table.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..exceptions import ConfigError, InputError


def need_file(path: str | Path, what: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} {p} does not exist; check the path.")
    return p


def read_table(path: str | Path, what: str = "Data file") -> Any:
    from ..io import read_table as _read

    need_file(path, what)
    return _read(path)


def load_schema(path: str | Path) -> Any:
    from ..schema import Schema

    need_file(path, "Schema file")
    return Schema.load(path)


def check_columns(df: Any, schema: Any, path: str | Path, release: bool = False) -> None:
    """A table with none of the schema's columns (e.g. a Parquet file of another table) is an input error."""
    expected = set(schema.release_names if release else schema.names)
    if expected and not expected & set(map(str, df.columns)):
        raise InputError(f"{path} has none of the schema's columns (expected {sorted(expected)}). "
                         "Fix: pass the table the schema describes.")


def read_manifest(model_dir: str | Path) -> dict:
    """A saved model's manifest (its spend, schema and ledger entry), checked against its hash."""
    from ..persistence import read_manifest as _read

    return _read(need_file(model_dir, "Model directory"))


@dataclass(frozen=True)
class Inputs:
    """The private training data (read once), its declared schema and an optional real holdout."""

    train: Any
    schema: Any
    holdout: Any = None


def split_holdout(inputs: Inputs, fraction: float, seed: int, group_by: tuple[str, ...] = ()) -> Inputs:
    """A release config's ``data.holdout_fraction``: hold out a seeded share of the training rows (whole
    ``group_by`` groups); the fit never sees them. The seed only permutes rows (:mod:`synthgen.splits`); it is not
    privacy noise."""
    from dataclasses import replace

    from ..splits import train_holdout

    train, holdout = train_holdout(inputs.train, fraction, seed=seed, group_by=group_by or None)
    return replace(inputs, train=train, holdout=holdout)


def read_inputs(train: str | Path, schema: str | Path | None, holdout: str | Path | None = None, *,
                data_kind: str = "table") -> Inputs:
    if data_kind == "image":
        try:
            from ..io import images as imageio
        except ImportError:
            raise InputError("Image generators need synthgen.io.images, which is not available in this "
                             "installation. Fix: install the images extra: pip install 'synthgen[images]'.") from None
        need_file(train, "Image data")
        return Inputs(imageio.read_image_data(train), load_schema(schema) if schema else None)
    if schema is None:
        raise ConfigError("Table generators need a declared schema: pass --schema schema.json "
                          "(draft one with `synthgen schema draft`).")
    decl = load_schema(schema)
    table = read_table(train, "Training table")
    check_columns(table, decl, train)
    return Inputs(table, decl, read_table(holdout, "Holdout table") if holdout is not None else None)
