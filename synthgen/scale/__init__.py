"""Beyond one machine: fit on Dask frames and sample to partitioned Parquet (the optional ``synthgen[dask]`` extra).

What runs where: the workers read rows, validate them against the declared schema and reduce each partition to
its fit statistics (:mod:`.stats`: counts, fixed-bin histograms, exact Gram sums); only those merged statistics come
back to the client, never rows. DP noise is then added once, on the client, to the merged statistic, by the same
measure step as an in-memory fit (which is the same reduction over one partition), so the guarantee and the
budget are exactly those of the in-memory fit. Importing this package does not import Dask.
"""
from .stats import ValueCounts, exact_gram, gram_value, merge, reduce_rows

__all__ = ["ValueCounts", "exact_gram", "gram_value", "merge", "reduce_rows"]
