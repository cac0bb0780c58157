"""``synthgen split``: a seeded train/holdout split of one table file into two files.

The holdout is the owner's yardstick (real rows the generator never sees, for ``synthgen evaluate`` and the
release gate). Both outputs are private data, written together: each to a temporary file beside it, renamed only
when both are complete, so a failure leaves neither half. Privacy: nothing derived from the table is printed (not
its row count, nor the sizes of the parts unless ``--holdout-rows`` fixed them); the seed only permutes rows and is
not privacy noise. ``--seed 0`` (the default) gives the same split as :func:`synthgen.datasets.train_holdout`.
"""
from __future__ import annotations

from pathlib import Path

import click

from ..exceptions import ConfigError, InputError
from .output import Out, common


@click.command("split")
@click.argument("data", type=click.Path())
@click.option("--train", "train_path", required=True, type=click.Path(dir_okay=False),
              help="Training part to write (.csv/.parquet).")
@click.option("--holdout", "holdout_path", required=True, type=click.Path(dir_okay=False),
              help="Holdout part to write (.csv/.parquet).")
@click.option("--holdout-fraction", type=float, default=None,
              help="Share of the rows held out, in (0, 1) (default 0.2).")
@click.option("--holdout-rows", type=click.IntRange(min=1), default=None, help="Number of rows held out.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the row permutation.")
@click.option("--group-by", "group_by", default=None,
              help="Comma-separated columns: hold out whole groups of rows with equal values (at least the asked "
                   "share or rows), e.g. a patient or storm id.")
@common
def split_cmd(out: Out, data: str, train_path: str, holdout_path: str, holdout_fraction: float | None,
              holdout_rows: int | None, seed: int, group_by: str | None) -> None:
    """Split DATA into a training and a holdout file (seeded; both written, or neither)."""
    from ..io import TABLE_SUFFIXES
    from ..release import pipeline
    from ..splits import train_holdout

    fraction = _check_options(data, train_path, holdout_path, holdout_fraction, holdout_rows, TABLE_SUFFIXES)
    groups = [c.strip() for c in group_by.split(",") if c.strip()] if group_by else None
    df = pipeline.read_table(data)
    k = holdout_rows if holdout_rows is not None else int(round(len(df) * fraction))
    if not 0 < k < len(df):
        raise ConfigError("The split would leave the training or the holdout part empty. Fix: choose a "
                          "--holdout-fraction in (0, 1) or fewer --holdout-rows (the table's size is not shown).")
    train, holdout = train_holdout(df, seed=seed, holdout_rows=k, group_by=groups)
    _write_both(train, Path(train_path), holdout, Path(holdout_path))
    size = f"{holdout_rows} rows" if holdout_rows is not None else f"fraction {fraction:g}"
    size = f"whole groups of {', '.join(groups)}, at least {size}" if groups else size
    out.say(f"wrote {train_path} (training part) and {holdout_path} (holdout: {size}, seed {seed})")
    out.emit({"status": "ok", "train": train_path, "holdout": holdout_path, "seed": seed,
              "holdout_fraction": None if holdout_rows is not None else fraction, "holdout_rows": holdout_rows,
              "group_by": groups})


def _check_options(data: str, train: str, holdout: str, fraction: float | None, rows: int | None,
                   suffixes: tuple[str, ...]) -> float:
    """Public checks before the table is read; returns the holdout fraction to use (when no row count is given)."""
    if fraction is not None and rows is not None:
        raise ConfigError("Give --holdout-fraction or --holdout-rows, not both.")
    fraction = 0.2 if fraction is None else float(fraction)
    if not 0 < fraction < 1:
        raise ConfigError(f"--holdout-fraction must be in (0, 1); got {fraction:g}. Fix: e.g. 0.2.")
    paths = [Path(p).resolve() for p in (data, train, holdout)]
    if len(set(paths)) < 3:
        raise InputError("DATA, --train and --holdout must be three different files (the input is never "
                         "overwritten).")
    for p in (train, holdout):
        if Path(p).suffix.lower() not in suffixes:
            raise InputError(f"Unsupported output format for {p}; use one of {', '.join(suffixes)}.")
    return fraction


def _write_both(train, train_path: Path, holdout, holdout_path: Path) -> None:
    from ..io import atomic_path

    def write(df, tmp: Path, like: Path) -> None:
        if like.suffix.lower() == ".csv":
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)

    with atomic_path(train_path) as t_tmp, atomic_path(holdout_path) as h_tmp:  # renamed only if both complete
        write(train, t_tmp, train_path)
        write(holdout, h_tmp, holdout_path)
