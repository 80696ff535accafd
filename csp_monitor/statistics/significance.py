"""Is a change in a count real, or the kind of wobble chance produces?

Crime and incident counts behave, to a good approximation, like Poisson
counts. Take c events this year to date and b in the same months last year.
If nothing had changed, each of the n = c + b events was as likely to fall in
one period as the other (in proportion to the periods' lengths when they
differ), so c ~ Binomial(n, pi) with pi = t_c / (t_c + t_b), 1/2 for equal
periods. Conditioning on n removes the unknown underlying rate, so the test
is exact: it needs no large-sample approximation and stays valid for the
small counts of a single district (Wheeler 2018; Krishnamoorthy and Thomson
2004 compare it with the E-test).

The two-sided p-value sums the probabilities of every outcome no more likely
than the one observed, the definition ``scipy.stats.binomtest`` uses,
including its relative tolerance of 1e-7 when comparing probabilities. We
compute it with no dependencies, in log space (Loader's saddle-point form of
the binomial probability, see ``_log_probability``) so that counts in the
hundreds of thousands neither overflow, underflow nor lose precision. We never
visit all n + 1 outcomes: far from the mean we sum the two tails term by term
outwards from their inner edge, stopping when the rest provably cannot change
the sum; near the mean we sum the few outcomes between the tails instead and
take them from 1. Either way the work grows with the square root of n.

Beside the verdict, each result gives how uncertain the two counts and their
ratio are, as public-health analysts report them (PHEindicatormethods):

- a confidence interval for each count by Byar's method (an approximation to
  the exact Poisson interval good to a fraction of an event even for small
  counts); divided by the exposure it is the interval of the rate;
- the rate ratio (c / t_c) / (b / t_b) with its exact interval from the same
  conditional binomial as the test: the Clopper-Pearson limits of pi for c
  of n, turned into ratios by pi / (1 - pi) x t_b / t_c. It excludes 1
  exactly when the two-sided conditional test, done as two one-sided tests
  at (1 - confidence) / 2, rejects.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable
from statistics import NormalDist
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from csp_monitor.statistics import _plain_english
from csp_monitor.statistics._binomial import (
    clopper_pearson_lower_log_odds,
    log_lower_tail,
    log_upper_tail,
)
from csp_monitor.statistics._log_probability import log_binomial_probability
from csp_monitor.statistics._prevalidated import prevalidated

__all__ = [
    "Significance",
    "Verdict",
    "binomial_p_value",
    "byar_interval",
    "rate_ratio_interval",
    "significance_of_change",
    "square_root_z",
]

Verdict = Literal["significant_increase", "significant_decrease", "no_significant_change"]
"""What the test says about the change, at the chosen confidence level."""

EXACT_POISSON = "exact-poisson"
"""The short name of the test, as results report it."""

# scipy.stats.binomtest treats probabilities within this factor of the observed
# one as equally likely, so that rounding cannot split a tie.
_RELATIVE_TOLERANCE = 1 + 1e-7
_LOG_RELATIVE_TOLERANCE = math.log(_RELATIVE_TOLERANCE)
# Within this many standard deviations of the mean, sum the middle, not the tails. Taking the
# middle from 1 loses a digit for every tenfold fall of the p-value (1e-12 of it at 3 standard
# deviations, p = 0.003); within 2 (p above 0.045) it stays within about 1e-13.
_MIDDLE_WALK_LIMIT = 2.0


class Significance(BaseModel):
    """Whether a change in a count between two periods is more than chance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    p_value: float = Field(
        ge=0,
        le=1,
        description=(
            "The chance of a change at least this large if nothing had really changed "
            "(two-sided exact test). Small values mean the change is unlikely to be chance."
        ),
    )
    verdict: Verdict = Field(
        description=(
            "significant_increase or significant_decrease when the p-value is below "
            "1 - confidence; otherwise no_significant_change."
        )
    )
    test: str = Field(
        default=EXACT_POISSON,
        description="The test used: exact-poisson, the exact conditional test for two Poisson counts.",
    )
    confidence: float = Field(
        gt=0, lt=1, description="The confidence level of the verdict, 0.95 for 95%."
    )
    explanation: str = Field(
        description="One plain-English sentence saying what the p-value means for this change."
    )
    current: int | None = Field(
        default=None, ge=0, description="The current count the test compared (events)."
    )
    baseline: int | None = Field(
        default=None, ge=0, description="The baseline count it was compared with (events)."
    )
    current_exposure: float = Field(
        default=1.0, gt=0, description="The length of the current period (months, or population-years)."
    )
    baseline_exposure: float = Field(
        default=1.0, gt=0, description="The length of the baseline period, in the same units."
    )

    @model_validator(mode="before")
    @classmethod
    def _derived_fields_are_not_input(cls, data: Any) -> Any:
        # A dumped result carries the intervals; they are worked out again from the counts.
        if isinstance(data, dict) and _DERIVED.intersection(data):
            data = {key: value for key, value in data.items() if key not in _DERIVED}
        return data

    # The intervals cost more than the test itself (a root search each), and a national run
    # judges thousands of changes: they are worked out when read or written, not when judged.

    @computed_field(  # type: ignore[prop-decorator]
        description=(
            "The confidence interval (at the result's confidence) of the current count, by Byar's "
            "method: the range of underlying levels the count is consistent with; null without counts."
        )
    )
    @property
    def current_interval(self) -> tuple[float, float] | None:
        """Byar's interval of the current count."""
        return None if self.current is None else byar_interval(self.current, confidence=self.confidence)

    @computed_field(  # type: ignore[prop-decorator]
        description="The same interval for the baseline count; null without counts."
    )
    @property
    def baseline_interval(self) -> tuple[float, float] | None:
        """Byar's interval of the baseline count."""
        return None if self.baseline is None else byar_interval(self.baseline, confidence=self.confidence)

    @computed_field(  # type: ignore[prop-decorator]
        description=(
            "The current rate over the baseline rate, (current / current exposure) / (baseline / "
            "baseline exposure): 1.25 is 25% higher. Null when the baseline count is 0 or unknown."
        )
    )
    @property
    def rate_ratio(self) -> float | None:
        """(c / t_c) / (b / t_b)."""
        if self.current is None or not self.baseline:
            return None
        return (self.current / self.current_exposure) / (self.baseline / self.baseline_exposure)

    @computed_field(  # type: ignore[prop-decorator]
        description=(
            "The exact confidence interval of the rate ratio from the conditional binomial "
            "(Clopper-Pearson); the upper end is null (unbounded) when the baseline count is 0; "
            "null when both counts are 0 or unknown."
        )
    )
    @property
    def rate_ratio_interval(self) -> tuple[float, float | None] | None:
        """The exact interval of the rate ratio."""
        if self.current is None or self.baseline is None or self.current + self.baseline == 0:
            return None
        return rate_ratio_interval(self.current, self.baseline, confidence=self.confidence,
                                   current_exposure=self.current_exposure,
                                   baseline_exposure=self.baseline_exposure)


_DERIVED = frozenset({"current_interval", "baseline_interval", "rate_ratio", "rate_ratio_interval"})


def significance_of_change(
    current: float,
    baseline: float,
    *,
    confidence: float = 0.95,
    current_exposure: float = 1.0,
    baseline_exposure: float = 1.0,
) -> Significance:
    """Test whether ``current`` events differ from ``baseline`` events by more than chance.

    ``current_exposure`` and ``baseline_exposure`` are the lengths of the two
    periods (months, or population-years) and matter only through their ratio.
    Counts must be whole numbers of events and not negative; ``253.0`` is
    accepted as 253. Raise ValueError otherwise.
    """
    c = _count(current, "current")
    b = _count(baseline, "baseline")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (0.95 for 95%), not {confidence!r}")
    probability = _share(current_exposure, baseline_exposure)
    n = c + b
    p_value = binomial_p_value(c, n, probability)
    expected = n * probability
    if p_value >= 1 - confidence:
        verdict: Verdict = "no_significant_change"
    elif c > expected:
        verdict = "significant_increase"
    else:
        verdict = "significant_decrease"
    fields = {
        "p_value": p_value,
        "verdict": verdict,
        "test": EXACT_POISSON,
        "confidence": confidence,
        "explanation": _explain(n, c > expected, c == expected, p_value, verdict, confidence),
        "current": c,
        "baseline": b,
        "current_exposure": current_exposure,
        "baseline_exposure": baseline_exposure,
    }
    if (type(confidence) is float and type(p_value) is float and type(c) is int and type(b) is int
            and type(current_exposure) is float and type(baseline_exposure) is float):
        # Checked above and floats: a national run tests thousands of changes, and validating
        # each result again costs more than a quick test.
        return prevalidated(Significance, fields)
    return Significance(**fields)


def byar_interval(count: float, *, confidence: float = 0.95, exposure: float = 1.0) -> tuple[float, float]:
    """Byar's confidence interval for a Poisson count, or for its rate ``count / exposure``.

    lower = O (1 - 1/(9 O) - z / (3 sqrt(O)))^3 (0 when O = 0) and
    upper = (O + 1) (1 - 1/(9 (O + 1)) + z / (3 sqrt(O + 1)))^3, with z the
    normal quantile of (1 + confidence) / 2: the method PHEindicatormethods
    uses for counts and rates.
    """
    o = _count(count, "")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (0.95 for 95%), not {confidence!r}")
    _share(exposure, 1.0)  # a positive, finite exposure, or ValueError
    z = _NORMAL.inv_cdf((1 + confidence) / 2)
    lower = o * (1 - 1 / (9 * o) - z / (3 * math.sqrt(o))) ** 3 if o > 0 else 0.0
    above = o + 1
    upper = above * (1 - 1 / (9 * above) + z / (3 * math.sqrt(above))) ** 3
    return max(0.0, lower) / exposure, upper / exposure


def rate_ratio_interval(
    current: float,
    baseline: float,
    *,
    confidence: float = 0.95,
    current_exposure: float = 1.0,
    baseline_exposure: float = 1.0,
) -> tuple[float, float | None]:
    """The exact confidence interval of the rate ratio (c / t_c) / (b / t_b), conditional on n = c + b.

    Given n, c ~ Binomial(n, pi) with pi / (1 - pi) = ratio x t_c / t_b, so
    the Clopper-Pearson limits of pi give the ratio's: the lower limit solves
    P(X >= c) = (1 - confidence) / 2, the upper P(X <= c) = (1 - confidence) / 2.
    The upper limit is None (unbounded) when b = 0. Raise ValueError when
    both counts are 0 (nothing to estimate) or an input is invalid.
    """
    c = _count(current, "current")
    b = _count(baseline, "baseline")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (0.95 for 95%), not {confidence!r}")
    _share(current_exposure, baseline_exposure)
    n = c + b
    if n == 0:
        raise ValueError("with no events in either period there is no rate ratio to estimate")
    alpha = (1 - confidence) / 2
    scale = baseline_exposure / current_exposure
    # The lower limit of pi solves P(X >= c) = alpha; the upper one is the lower limit of the
    # failures' share 1 - pi for b of n, so its log odds are minus that limit's.
    lower = math.exp(clopper_pearson_lower_log_odds(c, n, alpha)) * scale if c > 0 else 0.0
    upper = math.exp(-clopper_pearson_lower_log_odds(b, n, alpha)) * scale if b > 0 else None
    return lower, upper


_NORMAL = NormalDist()


def binomial_p_value(successes: int, trials: int, probability: float) -> float:
    """The two-sided exact binomial p-value, as ``scipy.stats.binomtest(...).pvalue``.

    The sum of the probabilities of all outcomes no more likely than
    ``successes`` (within a relative tolerance of 1e-7).
    """
    k, n, p = successes, trials, probability
    if n < 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= successes <= trials, got {k} of {n}")
    if not 0 < p < 1:
        raise ValueError(f"probability must be strictly between 0 and 1, not {p!r}")
    expected = n * p
    if k == expected:
        return 1.0

    def log_pmf(x: int) -> float:
        return log_binomial_probability(x, n, p)

    if p == 0.5:
        return _p_value_even_split(k, n, log_pmf)
    log_observed = log_pmf(k)
    if abs(k - expected) <= _MIDDLE_WALK_LIMIT * math.sqrt(expected * (1 - p)):
        # Near the mean both tails are long but the outcomes between them are
        # few: sum those instead and take them from 1.
        return _p_value_from_middle(k, n, p, log_observed)
    threshold = log_observed + _LOG_RELATIVE_TOLERANCE
    if k < expected:
        near_tail = log_lower_tail(k, n, p, log_observed)
        # The first outcome above the mean as unlikely as the observed one.
        lo, hi = math.ceil(expected), n
        while lo < hi:
            mid = (lo + hi) // 2
            if log_pmf(mid) <= threshold:
                hi = mid
            else:
                lo = mid + 1
        log_edge = log_pmf(lo)
        far_tail = log_upper_tail(lo, n, p, log_edge) if log_edge <= threshold else -math.inf
    else:
        near_tail = log_upper_tail(k, n, p, log_observed)
        # The last outcome below the mean as unlikely as the observed one.
        lo, hi = 0, math.floor(expected)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if log_pmf(mid) <= threshold:
                lo = mid
            else:
                hi = mid - 1
        log_edge = log_pmf(lo)
        far_tail = log_lower_tail(lo, n, p, log_edge) if log_edge <= threshold else -math.inf
    return min(1.0, math.exp(near_tail) + math.exp(far_tail))


def square_root_z(current: float, baseline: float) -> float:
    """The quick approximation z = sqrt(2) (sqrt(c) - sqrt(b)) for equal periods.

    The square root stabilises the variance of a Poisson count, so z is
    roughly standard normal when nothing has changed: |z| > 2 is the usual
    rule of thumb for a real change (Wheeler 2018). Use the exact test for
    verdicts; this is for quick screening and charts.
    """
    c = _count(current, "current")
    b = _count(baseline, "baseline")
    return math.sqrt(2) * (math.sqrt(c) - math.sqrt(b))


def _p_value_from_middle(k: int, n: int, p: float, log_observed: float) -> float:
    """1 - P(outcomes strictly more likely than ``k``), walking from ``k`` across the mean.

    Each probability is taken relative to the observed one by the ratio of
    successive terms, so "no more likely than observed" is just
    ``term <= 1 + 1e-7`` and no search for the far edge is needed.
    """
    expected = n * p
    middle = 0.0
    term = 1.0
    if k < expected:
        odds = p / (1 - p)
        far_side = math.ceil(expected)
        x = k
        while x < n:
            term *= (n - x) / (x + 1) * odds
            x += 1
            if x >= far_side and term <= _RELATIVE_TOLERANCE:
                break
            middle += term
    else:
        odds = (1 - p) / p
        far_side = math.floor(expected)
        x = k
        while x > 0:
            term *= x / (n - x + 1) * odds
            x -= 1
            if x <= far_side and term <= _RELATIVE_TOLERANCE:
                break
            middle += term
    return min(1.0, max(0.0, 1.0 - math.exp(log_observed) * middle))


def _p_value_even_split(k: int, n: int, log_pmf: Callable[[int], float]) -> float:
    """The p-value for equal periods (pi = 1/2), where every outcome has an exact mirror image.

    P(X = x) = P(X = n - x), so the outcomes no more likely than k are the
    two tails beyond k and its mirror: p = 2 P(X <= min(k, n - k)). Near the
    mean we sum the few outcomes between the tails instead.
    """
    m = min(k, n - k)
    log_observed = log_pmf(m)
    if n / 2 - m <= _MIDDLE_WALK_LIMIT * math.sqrt(n) / 2:
        # Outcomes m + 1 to n - m - 1, relative to P(X = m): the half up to the centre, twice
        # (once less the centre itself when n is even).
        half = list(itertools.accumulate([(n - y) / (y + 1) for y in range(m, n // 2)], operator.mul))
        middle = 2 * math.fsum(half) - (half[-1] if half and n % 2 == 0 else 0.0)
        return min(1.0, max(0.0, 1.0 - math.exp(log_observed) * middle))
    return min(1.0, 2 * math.exp(log_lower_tail(m, n, 0.5, log_observed)))


def _count(value: float, name: str) -> int:
    """A whole, non-negative number of events, or ValueError in plain words."""
    if type(value) is int and value >= 0:
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"the {name} count must be a number, not {value!r}")
    if not math.isfinite(value) or value != int(value):
        raise ValueError(f"the {name} count must be a whole number of events, not {value!r}")
    if value < 0:
        raise ValueError(f"the {name} count cannot be negative ({value!r})")
    return int(value)


def _share(current_exposure: float, baseline_exposure: float) -> float:
    """pi = t_c / (t_c + t_b): the share of events the current period expects."""
    for name, exposure in (("current", current_exposure), ("baseline", baseline_exposure)):
        if isinstance(exposure, bool) or not isinstance(exposure, int | float):
            raise ValueError(f"the {name} exposure must be a number, not {exposure!r}")
        if not (math.isfinite(exposure) and exposure > 0):
            raise ValueError(f"the {name} exposure must be a positive length, not {exposure!r}")
    return current_exposure / (current_exposure + baseline_exposure)


def _explain(
    n: int, rise: bool, same: bool, p_value: float, verdict: Verdict, confidence: float
) -> str:
    level = _plain_english.percent(confidence)
    if n == 0:
        return f"There were none in either period, so there is no change to test: not significant at {level}."
    if same:
        return f"The figure is exactly in line with the baseline, so there is no change to test: not significant at {level}."
    change = "rise" if rise else "fall"
    if verdict != "no_significant_change":
        direction = "increase" if rise else "decrease"
        odds = _plain_english.chance(p_value)
        only = "only " if odds.startswith("about") else ""
        return (
            f"A {change} this large would happen by chance {only}{odds} "
            f"if nothing had changed: a significant {direction} at {level}."
        )
    if p_value >= 0.995:
        return f"A {change} this small is what chance alone produces almost every time: not significant at {level}."
    return (
        f"A {change} this large would happen by chance {_plain_english.chance(p_value)} "
        f"even if nothing had changed: not significant at {level}."
    )
