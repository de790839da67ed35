"""Time for the generator: epoch seconds in numpy, calendar arithmetic, cut-offs and seasonality.

Every instant is an ``int64`` count of whole seconds since 1970 (UTC). Whole seconds keep the
CSV and Parquet forms of an export identical, and plain integers keep millions of rows cheap.
``NEVER`` stands for "did not happen" (an erasure that is not due, a hold never released).

Retention years and cut-offs come from the policy model, which the audit binds too, so the
clean background and the planted boundaries follow the policy file rather than copied numbers.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np

from privacy_audit.policy import Policy

DAY = 86_400
HOUR = 3_600
NEVER = np.iinfo(np.int64).max
HISTORY_YEARS = 12
"""How far back the platform's orders reach from as_of."""

# Wholesale buyers stock up ahead of retail peaks: Q4 holidays, Valentine's Day, Mother's Day.
_MONTH_WEIGHT = np.array([1.15, 1.2, 0.85, 0.9, 1.05, 0.85, 0.75, 0.85, 1.15, 1.4, 1.5, 1.0])
_WEEKDAY_WEIGHT = np.array([1.1, 1.15, 1.1, 1.05, 1.0, 0.35, 0.25])  # Monday first
_YEARLY_GROWTH = 1.12


def seconds(moment: datetime | date) -> int:
    """Epoch seconds of a naive UTC datetime, or of a date's midnight."""
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    return int((moment - datetime(1970, 1, 1)).total_seconds())


def add_months(t: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """``t + INTERVAL months MONTH`` as DuckDB computes it: the day of month clamps at month end."""
    t = np.asarray(t, dtype=np.int64)
    day = t // DAY
    second_of_day = t - day * DAY
    d = day.astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    day_of_month = (d - month.astype("datetime64[D]")).astype(np.int64)
    target = month + np.asarray(months, dtype=np.int64).astype("timedelta64[M]")
    month_days = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    new_day = target.astype("datetime64[D]").astype(np.int64) + np.minimum(day_of_month, month_days - 1)
    return new_day * DAY + second_of_day


def add_years(t: np.ndarray, years: np.ndarray | int) -> np.ndarray:
    """``t + INTERVAL years YEAR`` (29 February + 1 year = 28 February)."""
    return add_months(t, np.asarray(years, dtype=np.int64) * 12)


class Timeline:
    """The generation's as_of, the policy's deadlines, and a seasonal sampler of instants."""

    def __init__(self, as_of: date, policy: Policy) -> None:
        self.as_of = as_of
        self.policy = policy
        self.now = seconds(as_of)
        self.start = int(add_years(np.array([self.now]), -HISTORY_YEARS - 1)[0])
        self.grace = policy.deletion_grace_days * DAY
        self.usage_cutoff = seconds(policy.usage_cutoff(as_of))
        self.ticket_cutoff = seconds(policy.ticket_cutoff(as_of))
        self.inactive_cutoff = seconds(policy.inactive_cutoff(as_of))
        self.training_cutoff = seconds(policy.training_cutoff(as_of))
        self._day0 = self.start // DAY
        days = np.arange(self._day0, self.now // DAY, dtype=np.int64)
        dt = days.astype("datetime64[D]")
        month = dt.astype("datetime64[M]").astype(np.int64) % 12
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
        years_ago = (self.now // DAY - days) / 365.25
        weight = _MONTH_WEIGHT[month] * _WEEKDAY_WEIGHT[weekday] * _YEARLY_GROWTH ** (-years_ago)
        # The two weeks before Valentine's Day are the busiest of the winter.
        day_of_year = (dt - dt.astype("datetime64[Y]")).astype(np.int64)
        weight = weight * np.where((day_of_year >= 20) & (day_of_year <= 40), 1.5, 1.0)
        self._cdf = np.concatenate([[0.0], np.cumsum(weight)]) / weight.sum()

    def retention_years(self, country: np.ndarray) -> np.ndarray:
        """Order retention in years for each account country, as the policy answers it."""
        codes, index = np.unique(country, return_inverse=True)
        years = np.array([self.policy.order_retention_years.years_for(c) for c in codes], dtype=np.int64)
        return years[index]

    def inactivity_deadline(self, last_activity: np.ndarray) -> np.ndarray:
        """last activity + inactive_after_years, then + reactivation_grace_years (in that order)."""
        return add_years(
            add_years(last_activity, self.policy.inactive_after_years), self.policy.reactivation_grace_years
        )

    def _mass(self, t: np.ndarray) -> np.ndarray:
        day = np.clip(np.asarray(t) // DAY - self._day0, 0, len(self._cdf) - 1)
        return self._cdf[day]

    def sample(self, low: np.ndarray, high: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One seasonal instant in ``[low, high)`` per pair, in business hours when it can be.

        Inverse-CDF sampling over daily weights (month, weekday, growth): vectorized, and the
        order counts per month show the peaks a trend report should find.
        """
        low = np.asarray(low, dtype=np.int64)
        high = np.maximum(np.asarray(high, dtype=np.int64), low + 1)
        u = self._mass(low) + rng.random(len(low)) * (self._mass(high) - self._mass(low))
        day = np.searchsorted(self._cdf, u, side="right") - 1 + self._day0
        t = day * DAY + 7 * HOUR + rng.integers(0, 13 * HOUR, len(low))
        inside = (t >= low) & (t < high)
        fallback = low + (rng.random(len(low)) * (high - low)).astype(np.int64)
        return np.where(inside, t, fallback)

    def uniform(self, low: np.ndarray, high: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One instant uniformly in ``[low, high)`` per pair (whole seconds)."""
        low = np.asarray(low, dtype=np.int64)
        span = np.maximum(np.asarray(high, dtype=np.int64) - low, 1)
        return low + (rng.random(len(low)) * span).astype(np.int64)
