"""What the plain and the DP Gaussian copula share: the ``condition_on`` check, the repair of a latent correlation
matrix, sampling and persistence of the fitted parts (``parts_``). All of it works on public inputs (the schema)
or on an already fitted model, so none of it reads private rows.
"""
from __future__ import annotations

import sys
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ...exceptions import ConfigError
from ...schema import Schema
from ..base import BaseGenerator
from .model import ColumnModel, CopulaPart, calibrate_onehot_offsets, sample_parts
from .normal_scores import corrected_correlation, nearest_correlation

SAMPLE_CHUNK = 1 << 20  # rows per sampling chunk (bounds memory; a progress bar ticks per chunk)


class CopulaBase(BaseGenerator):
    """Sampling and persistence shared by the plain and the DP Gaussian copula (fitted state: ``parts_``)."""

    condition_on: str | None
    accepts_partitions = True  # fits from merged per-partition statistics (synthgen.scale)

    # ----------------------------------------------------------------- helpers for subclasses
    def _check_condition_on(self, schema: Schema) -> Any:
        key = self.condition_on
        if key is None:
            return None
        if key not in schema.names:
            raise ConfigError(f"condition_on={key!r} is not a column of the schema. "
                              "Fix: name a declared categorical or boolean column, or pass condition_on=None.")
        f = schema[key]
        if f.kind not in ("categorical", "boolean"):
            raise ConfigError(f"Column {key!r} is {f.kind}; condition_on needs a categorical or boolean column. "
                              "Fix: pick a categorical/boolean key column or pass condition_on=None.")
        return f  # a nullable key's null cell is one more class (model.key_classes): the classes still partition

    @staticmethod
    def _finish_correlation(cov: np.ndarray, a: np.ndarray | None, models: Sequence[ColumnModel],
                            rng: np.random.Generator) -> np.ndarray:
        """Shrinkage correction, independence inside one-hot blocks, PSD repair, one-hot offset calibration."""
        r = corrected_correlation(cov, a)
        j = 0
        blocks = []
        for m in models:
            j += m.null_prob is not None
            width = m.n_dims - (m.null_prob is not None)
            if m.mode == "onehot":
                blk = slice(j, j + width)
                sub = np.eye(width)
                r[blk, blk] = sub
                blocks.append((m, blk))
            j += width
        r = nearest_correlation(r)
        for m, blk in blocks:
            m.offsets = calibrate_onehot_offsets(r[blk, blk], m.cdf, rng)
        return r

    # ----------------------------------------------------------------- BaseGenerator hooks
    def _sample(self, n: int, rng: np.random.Generator, progress: bool | None = None) -> pd.DataFrame:
        """``n`` rows; more than ``SAMPLE_CHUNK`` are drawn in chunks under a progress bar (``progress``: default
        only on a terminal, after 2 s). For the same seed, a chunked draw is still reproducible."""
        from tqdm.auto import tqdm

        fields = {f.name: f for f in self.schema_.learnable}
        sizes = [SAMPLE_CHUNK] * (n // SAMPLE_CHUNK) + ([n % SAMPLE_CHUNK] if n % SAMPLE_CHUNK else [])
        show = sys.stderr.isatty() if progress is None else bool(progress)
        frames = []
        with tqdm(total=n, desc=f"{self.registry_name} sample", unit="row", unit_scale=True, file=sys.stderr,
                  disable=not show or len(sizes) < 2, leave=False, delay=2) as bar:
            for m in sizes:
                frames.append(sample_parts(self.parts_, m, rng, fields, self.condition_on))
                bar.update(m)
        df = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        return df[[f.name for f in self.schema_.learnable]]

    def _get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        parts, arrays = [], {}
        for i, p in enumerate(self.parts_):
            js, arr = p.state(f"part{i}")
            parts.append(js)
            arrays.update(arr)
        return {"parts": parts, "extra": getattr(self, "fit_info_", {})}, arrays

    def _set_state(self, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.parts_ = [CopulaPart.from_state(js, arrays, f"part{i}") for i, js in enumerate(state["parts"])]
        self.fit_info_ = dict(state.get("extra", {}))
