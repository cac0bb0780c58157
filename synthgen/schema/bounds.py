"""DP bounds of one drafted numeric or datetime column, chosen to keep almost all the column's mass.

Privacy argument (add/remove one row): the values are counted in ONE histogram over public, data-independent
log-spaced buckets (:func:`~synthgen.privacy.mechanisms.log_bucket_edges`; each row in exactly one bucket, so the
L2 sensitivity is 1) and released with Gaussian noise of ``rho`` (:func:`~synthgen.privacy.mechanisms.noisy_histogram`):
rho-zCDP. Everything below reads only those noisy counts and the public edges (post-processing).

The public rule (:func:`bounds_from_noisy_counts`):

1. the *core*: the lowest to the highest bucket whose noisy count clears ``CORE_SIGMAS`` noise standard deviations
   (as :func:`~synthgen.privacy.mechanisms.dp_range`: one far outlier cannot set a bound, its bucket would need
   about ``CORE_SIGMAS * sigma`` rows). An *isolated* bucket (neither neighbour clears ``EXTEND_SIGMAS``, no
   other bucket within ``NEAR_BUCKETS`` clears ``CORE_SIGMAS``; the bucket around zero excepted, as exact zeros
   fill it alone) must clear ``ISOLATED_SIGMAS``: among the 153 buckets (magnitudes 1e-4 to 1e15) an empty one
   clears 4 sigma with probability 3e-5, so about 0.5 % of columns (one in ten 20-column tables) had a bound
   stretched to a noise bucket decades away; at 5 sigma, 4e-5 of columns. A bucket half a decade from another core
   bucket is a gap inside the data (scores 0-10: zeros, 3-5, then 10), not such a stretch. The bucket around zero
   joins a core found elsewhere at ``ZERO_SIGMAS``: exact zeros are common (scores, counts, amounts), and leaving
   them out clipped a fifth of a column's rows at small rho, where including a noise-only zero bucket (probability
   1e-3) costs a lower bound of 0;
2. *growth*: the core grows outwards over each adjacent bucket whose noisy count clears ``EXTEND_SIGMAS`` sigma (an
   empty bucket does with probability 0.067, so noise alone adds about 0.07 buckets a side);
3. *slack*: ``SLACK_BUCKETS`` more bucket each side. A tail whose buckets each hold fewer rows than the noise
   can show is invisible in the counts; for the geometrically thinning tails of real columns (wages, hours,
   counts) the bucket beyond the last visible one holds most of what is left. Measured on skewed tables of a few
   thousand rows at epsilon=1 over 6-12 columns: the median share of rows outside the bounds drops from 1-7 % (the
   core alone) to below 0.5 % (tests/unit/test_draft_bounds.py).

Growth and slack never carry a bound across zero (a column whose core is non-negative keeps a lower bound >= 0):
crossing zero needs core evidence, or the mirror image of a one-sided core clearing ``CORE_SIGMAS`` standard
deviations of its summed noisy counts (:func:`_across_zero`). The edges of the bucket around zero, (-1e-4, 1e-4),
are snapped to 0, and so is a positive lower bound at most ``SNAP_TO_ZERO`` of the upper one (a non-negative column
whose small values thin out towards zero, such as waiting times or amounts: its log-spaced buckets near zero are
thin, so their rows are invisible in the noise; taking them in widens the range by at most 5 %). Dates (days
since 1970) get neither slack nor snapping: their buckets are already years to decades wide.

*Refinement* (:func:`refine`). Log buckets are as wide as their magnitude, so a column whose values sit far from
zero in a narrow range (latitudes 44.9-45.1 drafted as 17.8-100, years 1980-2013 as 1000-5624, dates of one year as
21 years) got bounds that leave all of its rows in one or two of a generator's bins. The first histogram therefore
gets ``1 - REFINE_SHARE`` of the column's rho. When its bounds do not contain zero and its noisy mass sits in one
log bucket (no other clearing ``TAIL_SIGMAS`` sigma, and the others' noisy sum plus ``REST_SIGMAS`` deviations of
its noise at most ``1 - CONCENTRATED`` of the mass: an offset, concentrated column; post-processing of that noisy
histogram; at a small rho, where a tenth of the rows in the next bucket is within the noise, nothing is refined),
the rest pays for a second histogram over ``REFINE_CELLS`` equal-width cells between those bounds (values outside them
counted in the end cells: still one cell per row, sensitivity 1); the same core / growth rule on it, with the grown
width again as slack on each side, gives the refined bounds, kept only when they are at most ``REFINE_MAX_SHARE`` of the
first ones and the noisy count outside them is within ``OUTSIDE_SIGMAS`` standard deviations of its noise. A column that
fills its range (ages 18-90) or whose cells are each below the noise (a spread-out normal column: only the cells at its
mode clear it) keeps the first bounds, so a narrow noisy core cannot trim real flanks away; what is refined is a column
most of whose rows sit in a few cells. The first histogram has the last word: a log bucket outside the refined bounds
that clears ``TAIL_SIGMAS`` sigma there (or such buckets together ``OUTSIDE_SIGMAS`` deviations of their sum) keeps the
first bounds, as a thin tail is visible in coarse log buckets when it is spread below the noise of the fine cells. A
refinement tried and not kept leaves the first bounds. A column not tried gets, with the rest of rho, a second noisy
copy of the same log-bucket histogram, averaged with the first by inverse variance, so a column that is not refined
reads a histogram of the full rho, as before. Either way the column costs ``rho`` (two Gaussian releases composed in
zCDP; which one comes second is chosen from the first's output).
"""
from __future__ import annotations

import numpy as np

from ..privacy.analysis import gaussian_sigma
from ..privacy.mechanisms import log_bucket_edges, noisy_histogram

#: A core bucket's noisy count must clear this many noise standard deviations.
CORE_SIGMAS = 4.0
#: A core bucket with no neighbour above EXTEND_SIGMAS (and not the bucket around zero) must clear this many.
ISOLATED_SIGMAS = 5.0
#: ... nor a core bucket within this many buckets (half a decade) of another one: a gap inside the data, not a noise
#: bucket decades away (0-10 scores: zeros, then 3-5, then 10).
NEAR_BUCKETS = 2
#: The bucket around zero (exact zeros: counts, amounts, scores) joins a core found elsewhere when it clears this many.
ZERO_SIGMAS = 3.0
#: An adjacent bucket joins the bounds when its noisy count clears this many standard deviations.
EXTEND_SIGMAS = 1.5
#: Buckets added on each side after growth.
SLACK_BUCKETS = 1
#: Edges within this distance of zero are snapped to 0 (the bucket around zero is (-ZERO, ZERO)).
ZERO = 1e-4
#: A positive lower bound at most this share of the upper bound becomes 0 (and symmetrically for negative columns).
SNAP_TO_ZERO = 1 / 20
#: Share of a column's rho held back for the refinement histogram (or a second look at the log buckets).
REFINE_SHARE = 0.25
#: Equal-width cells of the refinement histogram between the first bounds.
REFINE_CELLS = 64
#: Refined bounds are kept only when at most this share of the first bounds' width ...
REFINE_MAX_SHARE = 0.25
#: ... and when the noisy count outside them is below this many standard deviations of its noise ...
OUTSIDE_SIGMAS = 3.0
#: ... and no log bucket entirely outside them clears this many sigma in the first histogram.
TAIL_SIGMAS = 2.5
#: Only a column whose first histogram's noisy mass sits in one log bucket is refined (see _one_bucket).
CONCENTRATED = 0.95
REST_SIGMAS = 2.0


def dp_bounds(values: np.ndarray, rho: float, rng, dates: bool = False) -> tuple[float, float] | None:
    """rho-zCDP (lower, upper) bounds of ``values`` (non-finite values ignored); None when no bucket clears
    the core threshold. ``dates``: values are days since 1970, whose log-spaced buckets are already years to
    decades wide, so no slack and no snapping to 0 (1970-01-01)."""
    edges = log_bucket_edges()
    x = np.asarray(values, dtype=np.float64)
    x = np.clip(x[np.isfinite(x)], edges[0], edges[-1])
    counts = np.histogram(x, bins=edges)[0].astype(np.float64)
    rho1, rho2 = rho * (1.0 - REFINE_SHARE), rho * REFINE_SHARE
    rule = {"slack": 0 if dates else SLACK_BUCKETS, "snap": not dates}
    first, sigma1 = noisy_histogram(counts, rho1, rng), gaussian_sigma(rho1, 1.0)
    r = bounds_from_noisy_counts(first, edges, sigma1, **rule)
    if r is not None and (r[0] > 0 or r[1] < 0) and _one_bucket(first, edges, sigma1, r):  # offset, one bucket
        narrow = refine(x, r, rho2, rng)
        return narrow if narrow is not None and not _tail_left_out(first, edges, sigma1, r, narrow) else r
    both = (rho1 * first + rho2 * noisy_histogram(counts, rho2, rng)) / rho  # inverse-variance mean: rho's noise
    return bounds_from_noisy_counts(both, edges, gaussian_sigma(rho, 1.0), **rule)


def refine(x: np.ndarray, first: tuple[float, float], rho: float, rng) -> tuple[float, float] | None:
    """rho-zCDP narrower bounds inside ``first`` (module docstring, *Refinement*); None when no cell clears the core
    threshold or the refined bounds would not be at most ``REFINE_MAX_SHARE`` of ``first``'s width."""
    lo, hi = first
    cells = np.linspace(lo, hi, REFINE_CELLS + 1)
    counts = np.histogram(np.clip(x, lo, hi), bins=cells)[0].astype(np.float64)
    noisy, sigma = noisy_histogram(counts, rho, rng), gaussian_sigma(rho, 1.0)
    keep = np.flatnonzero(_core(noisy, sigma, None))
    if keep.size == 0:
        return None
    a, b = int(keep[0]), int(keep[-1])
    while a > 0 and noisy[a - 1] >= EXTEND_SIGMAS * sigma:
        a -= 1
    while b < REFINE_CELLS - 1 and noisy[b + 1] >= EXTEND_SIGMAS * sigma:
        b += 1
    slack = b - a + 1  # the grown width again on each side: a core that the noise thinned must not clip its flanks
    a, b = max(0, a - slack), min(REFINE_CELLS - 1, b + slack)
    outside = float(noisy.sum() - noisy[a:b + 1].sum())
    n_out = REFINE_CELLS - (b - a + 1)
    if b - a + 1 > REFINE_MAX_SHARE * REFINE_CELLS or outside > OUTSIDE_SIGMAS * sigma * np.sqrt(max(n_out, 1)):
        return None
    return float(cells[a]), float(cells[b + 1])


def bounds_from_noisy_counts(noisy: np.ndarray, edges: np.ndarray, sigma: float, slack: int = SLACK_BUCKETS,
                             snap: bool = True) -> tuple[float, float] | None:
    """The public rule of the module docstring on a noisy histogram over ``edges`` with noise s.d. ``sigma``."""
    noisy = np.asarray(noisy, dtype=np.float64)
    zero = int(np.searchsorted(edges, 0.0)) - 1  # the bucket around zero
    keep = np.flatnonzero(_core(noisy, sigma, zero))
    if keep.size == 0:
        return None
    a, b = _across_zero(noisy, int(keep[0]), int(keep[-1]), zero, sigma)
    floor_a = zero if a >= zero else 0  # growth and slack stop at zero's bucket
    ceil_b = zero if b <= zero else len(noisy) - 1
    while a > floor_a and noisy[a - 1] >= EXTEND_SIGMAS * sigma:
        a -= 1
    while b < ceil_b and noisy[b + 1] >= EXTEND_SIGMAS * sigma:
        b += 1
    a, b = max(floor_a, a - slack), min(ceil_b, b + slack)
    lo, hi = float(edges[a]), float(edges[b + 1])
    lo = 0.0 if abs(lo) <= ZERO or (snap and 0 < lo <= SNAP_TO_ZERO * hi) else lo
    hi = 0.0 if abs(hi) <= ZERO or (snap and 0 > hi >= SNAP_TO_ZERO * lo) else hi
    return lo, hi


def _within(edges: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    """Which buckets lie wholly inside ``bounds`` (bounds found by the rule lie on bucket edges)."""
    return (edges[:-1] >= bounds[0]) & (edges[1:] <= bounds[1])


def _one_bucket(first: np.ndarray, edges: np.ndarray, sigma: float, wide: tuple[float, float]) -> bool:
    """Whether the noisy mass inside the first bounds sits in one log bucket: no other bucket inside them clears
    ``TAIL_SIGMAS`` sigma, and their noisy sum plus ``REST_SIGMAS`` standard deviations of its noise (what they may
    hold) is at most ``1 - CONCENTRATED`` of the mass: at a small rho nothing is refined. A column whose rows fill
    two or more buckets (a right tail such as 100 plus a lognormal's) is not refined: its tail would be spread below the
    noise of the refinement's cells."""
    m = first[_within(edges, wide)]
    if m.size < 2:
        return m.size == 1
    rest = np.delete(m, int(np.argmax(m)))
    upper = float(rest.sum()) + REST_SIGMAS * sigma * np.sqrt(rest.size)  # what the other buckets may hold
    return bool(rest.max() < TAIL_SIGMAS * sigma and upper <= (1.0 - CONCENTRATED) * max(float(m.sum()), 1.0))


def _tail_left_out(first: np.ndarray, edges: np.ndarray, sigma: float, wide: tuple[float, float],
                   narrow: tuple[float, float]) -> bool:
    """Whether the first (log-bucket) noisy histogram shows mass that the refined bounds leave out: a bucket inside
    the first bounds ``wide`` but entirely outside ``narrow`` clearing ``TAIL_SIGMAS`` sigma, or such buckets
    together clearing ``OUTSIDE_SIGMAS`` standard deviations of their sum (coarse log buckets see a thin tail
    that the refinement's equal-width cells spread below their noise)."""
    out = _within(edges, wide) & ((edges[1:] <= narrow[0]) | (edges[:-1] >= narrow[1]))
    k = int(out.sum())
    if k == 0:
        return False
    tail = first[out]
    return bool(tail.max() >= TAIL_SIGMAS * sigma or tail.sum() >= OUTSIDE_SIGMAS * sigma * np.sqrt(k))


def _core(noisy: np.ndarray, sigma: float, zero: int | None) -> np.ndarray:
    """Core buckets: those clearing CORE_SIGMAS, an isolated one (module docstring) ISOLATED_SIGMAS; ``zero``: the
    bucket around zero, never isolated (None: no such bucket)."""
    near = _beside(noisy >= EXTEND_SIGMAS * sigma, 1) | _beside(noisy >= CORE_SIGMAS * sigma, NEAR_BUCKETS)
    if zero is not None:
        near[zero] = True
    core = noisy >= np.where(near, CORE_SIGMAS, ISOLATED_SIGMAS) * sigma
    if zero is not None and core.any() and noisy[zero] >= ZERO_SIGMAS * sigma:
        core[zero] = True  # exact zeros beside a core elsewhere (scores 0-10, counts, amounts): a lower bar
    return core


def _beside(mask: np.ndarray, reach: int) -> np.ndarray:
    """Buckets with a bucket of ``mask`` within ``reach`` positions on either side (not counting themselves)."""
    out = np.zeros(len(mask), dtype=bool)
    for k in range(1, reach + 1):
        out[k:] |= mask[:-k]
        out[:-k] |= mask[k:]
    return out


def _across_zero(noisy: np.ndarray, a: int, b: int, zero: int, sigma: float) -> tuple[int, int]:
    """A core on one side of zero takes in the mirror image of its buckets when their noisy counts together clear
    ``CORE_SIGMAS`` standard deviations of their sum (the log-spaced buckets near zero are thin, so a column
    spread around zero may have no single core bucket on one side)."""
    nb = len(noisy)  # edges are symmetric: bucket i mirrors bucket nb - 1 - i
    if a < zero < b:
        return a, b
    lo, hi = (max(a, zero + 1), b) if a >= zero else (a, min(b, zero - 1))
    if lo > hi:
        return a, b
    mirror = noisy[nb - 1 - hi:nb - lo]
    if float(mirror.sum()) < CORE_SIGMAS * sigma * np.sqrt(mirror.size):
        return a, b
    return (nb - 1 - hi, b) if a >= zero else (a, nb - 1 - lo)
