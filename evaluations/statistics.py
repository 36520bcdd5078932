"""Paired statistics for comparing evaluations: the mean difference of paired scores and its t-interval.

A paired t-interval rather than a bootstrap: it is exact arithmetic (the page, the API and the CSV agree without a
random seed), costs O(n) for any number of rows, and is what a reader can check by hand; for means of scores
bounded in [0, 1] the t-interval's coverage is close to 95 % from a few dozen rows on, where a percentile bootstrap
is no better (it under-covers for small n). The t quantile is computed exactly from Student's distribution
(Abramowitz & Stegun 26.7.3 and 26.7.4, finite sums for whole degrees of freedom), no scipy needed.
"""

import math
from dataclasses import dataclass
from statistics import NormalDist

CONFIDENCE = 0.95
# Past this many degrees of freedom the normal quantile with the first Cornish-Fisher term is exact to 1e-6.
EXACT_DF_LIMIT = 5_000


def t_two_sided_mass(t: float, df: int) -> float:
    """P(|T| <= t) for Student's t with `df` (whole, >= 1) degrees of freedom (A&S 26.7.3, 26.7.4)."""
    theta = math.atan(t / math.sqrt(df))
    sin, cos = math.sin(theta), math.cos(theta)
    cos2 = cos * cos
    if df % 2:
        if df == 1:
            return 2 * theta / math.pi
        term = total = cos
        for k in range(1, (df - 3) // 2 + 1):
            term *= (2 * k) / (2 * k + 1) * cos2
            total += term
        return 2 / math.pi * (theta + sin * total)
    term = total = 1.0
    for k in range(1, (df - 2) // 2 + 1):
        term *= (2 * k - 1) / (2 * k) * cos2
        total += term
    return sin * total


def t_quantile(probability: float, df: int) -> float:
    """The `probability` quantile (0.5 < probability < 1) of Student's t with `df` degrees of freedom."""
    if df > EXACT_DF_LIMIT:
        z = NormalDist().inv_cdf(probability)
        return z + (z**3 + z) / (4 * df)
    mass = 2 * probability - 1
    low, high = 0.0, 1.0
    while t_two_sided_mass(high, df) < mass:
        high *= 2
    for _ in range(100):
        middle = (low + high) / 2
        if t_two_sided_mass(middle, df) < mass:
            low = middle
        else:
            high = middle
    return (low + high) / 2


@dataclass(frozen=True)
class PairedChange:
    """Mean of the paired differences (other - baseline) over `n` rows scored in both, with its confidence interval
    (None below 2 pairs); `better`, `worse`, `same` count the rows by the sign of their difference."""

    n: int
    mean: float | None
    low: float | None
    high: float | None
    better: int
    worse: int
    same: int


def paired_change(differences: list[float], confidence: float = CONFIDENCE) -> PairedChange:
    """mean ± t(1 - alpha/2, n - 1) · s / √n, s the sample standard deviation of the differences (n - 1 denominator)."""
    n = len(differences)
    better = sum(1 for d in differences if d > 0)
    worse = sum(1 for d in differences if d < 0)
    if not n:
        return PairedChange(0, None, None, None, 0, 0, 0)
    mean = math.fsum(differences) / n
    low = high = None
    if n >= 2:
        variance = math.fsum((d - mean) ** 2 for d in differences) / (n - 1)
        half = t_quantile(1 - (1 - confidence) / 2, n - 1) * math.sqrt(variance / n)
        low, high = mean - half, mean + half
    return PairedChange(n, mean, low, high, better, worse, n - better - worse)
