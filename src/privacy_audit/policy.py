"""The policy file: a pydantic model of every number the rules use, its loading, and every
number derived from it (retention years for a country, the cut-off instants of age rules).

The default file ships beside this module; ``--policy`` overrides some of its keys (a partial
file) or all of them. No policy number lives in code: the model has no defaults, the bundled
file gives every key, and a misspelt key fails loudly with a did-you-mean rather than silently
falling back. Rules, report charts and the generator all ask this module, so a derived number
has one answer.

A cut-off C turns "``t + steps`` is before as_of" into ``t < C``, computed once per audit so
that a rule compares a column with a constant. C is the smallest instant x for which
``x + steps >= as_of`` under calendar arithmetic; naive subtraction from as_of is off by a day
around month ends (see ``cutoff``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from privacy_audit.errors import InputError, invalid
from privacy_audit.safe_yaml import parse_yaml, read_bounded

Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
# Every count has a range: a typo such as 5000 years or an age of 10**30 is refused with its
# key named rather than overflowing a date computation while the rules run.
Years = Annotated[int, Field(ge=0, le=150)]
Months = Annotated[int, Field(ge=0, le=1800)]
Days = Annotated[int, Field(ge=0, le=36_500)]
Age = Annotated[int, Field(ge=0, le=120)]
SectionNumber = Annotated[str, Field(pattern=r"^\d{1,2}(\.\d{1,2})?$")]
Step = tuple[str, int]
"""One calendar step of a deadline: ("years" | "months" | "days", n)."""


def midnight(day: date) -> datetime:
    """00:00 UTC (naive) of ``day``: the instant an audit "as of" that day stands at."""
    return datetime(day.year, day.month, day.day)


def add_steps(moment: datetime, steps: list[Step]) -> datetime:
    """``moment + step1 + step2 …`` left to right, as DuckDB adds ``INTERVAL``s (months clamp)."""
    for unit, n in steps:
        moment = moment + (timedelta(days=n) if unit == "days" else relativedelta(**{unit: n}))
    return moment


def cutoff(as_of: datetime, steps: list[Step]) -> datetime:
    """The smallest instant x with ``add_steps(x, steps) >= as_of`` (as_of is a midnight).

    Calendar addition is monotone and keeps the time of day, so the answer is a midnight; a
    binary search over days finds it exactly, whatever clamping happens at month ends.
    """
    low = as_of - timedelta(days=sum(_max_days(u, n) for u, n in steps) + 2)
    high = as_of
    while (high - low).days > 1:
        mid = low + timedelta(days=(high - low).days // 2)
        if add_steps(mid, steps) >= as_of:
            high = mid
        else:
            low = mid
    return low if add_steps(low, steps) >= as_of else high


def _max_days(unit: str, n: int) -> int:
    return {"years": 366, "months": 31, "days": 1}[unit] * n


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class OrderRetention(_Strict):
    """Years an order is kept after its order_date, by the partner's (account's) country."""

    default: Years
    by_country: dict[Country, Years]

    def years_for(self, country: str | None) -> int:
        """The retention of an order of a partner in ``country`` (the default elsewhere or unknown)."""
        return self.by_country.get(country, self.default) if country else self.default

    @property
    def shortest(self) -> int:
        """The fewest years any partner's orders are kept: no order younger is ever due."""
        return min([self.default, *self.by_country.values()])

    def describe(self) -> str:
        """The retention as documentation quotes it, e.g. "GB 6, DE 10, else 7"."""
        return ", ".join([*(f"{c} {y}" for c, y in self.by_country.items()), f"else {self.default}"])


class Disclosure(_Strict):
    dominance_share: Annotated[float, Field(gt=0, le=1)]
    protection_pct: Annotated[float, Field(ge=0, lt=100)]

    @field_validator("dominance_share", "protection_pct", mode="before")
    @classmethod
    def _int_is_a_number(cls, value: object) -> object:
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


class Policy(_Strict):
    """Every key of the default policy file; see ``default_policy.yaml`` for their meaning."""

    deletion_grace_days: Days
    order_retention_years: OrderRetention
    ticket_retention_years: Years
    inactive_after_years: Years
    reactivation_grace_years: Years
    usage_retention_months: Months
    request_response_days: Days
    request_extended_days: Days
    minimum_age: Age
    require_marketing_opt_in: bool
    honor_do_not_track: bool
    password_schemes: dict[str, list[Annotated[str, Field(min_length=1)]]]
    forbidden_share_purposes: list[str]
    eea_countries: list[Country]
    adequate_countries: list[Country]
    role_permissions: dict[str, list[str]]
    training_valid_months: Months
    access_lookback_days: Days
    notice_days: Days
    data_inventory: dict[str, list[str]]
    regions: dict[str, list[Country]]
    disclosure: Disclosure
    clauses: dict[str, list[SectionNumber]]

    def effective(self) -> dict[str, Any]:
        """Every key's value in force, defaults and overrides merged: what the manifest records."""
        return self.model_dump(mode="json")

    @property
    def effective_digest(self) -> str:
        """sha256 of the effective policy as canonical JSON: equal for equal promises, whatever file."""
        canonical = json.dumps(self.effective(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def sections_of(self, rule_id: str, declared: tuple[str, ...]) -> tuple[str, ...]:
        """The policy-text sections a rule evidences: this file's mapping, else its declaration's."""
        return tuple(self.clauses.get(rule_id, declared))

    def region_of(self) -> dict[str, str]:
        """Country code → region name, from the ``regions`` mapping."""
        return {c: region for region, countries in self.regions.items() for c in countries}

    def _grace(self, *steps: Step) -> list[Step]:
        """A deletion deadline's steps: the retention, then the deletion grace."""
        return [*steps, ("days", self.deletion_grace_days)]

    def order_steps(self, country: str | None) -> list[Step]:
        """From an order's order_date to its erasure deadline, for a partner in ``country``."""
        return self._grace(("years", self.order_retention_years.years_for(country)))

    def ticket_steps(self) -> list[Step]:
        """From a ticket's closed_at to its erasure deadline."""
        return self._grace(("years", self.ticket_retention_years))

    def inactive_steps(self) -> list[Step]:
        """From an account's last activity to its contacts' erasure deadline: inactivity, then grace."""
        return self._grace(("years", self.inactive_after_years), ("years", self.reactivation_grace_years))

    def usage_steps(self) -> list[Step]:
        """From a web event's occurred_at to its erasure deadline."""
        return self._grace(("months", self.usage_retention_months))

    def order_cutoff(self, as_of: date, country: str | None) -> datetime:
        """An order of a partner in ``country`` dated before this is overdue for erasure."""
        return cutoff(midnight(as_of), self.order_steps(country))

    def order_cutoff_latest(self, as_of: date) -> datetime:
        """No order dated at or after this is overdue, whatever its partner's country."""
        return cutoff(midnight(as_of), self._grace(("years", self.order_retention_years.shortest)))

    def ticket_cutoff(self, as_of: date) -> datetime:
        """A ticket closed before this is overdue for erasure."""
        return cutoff(midnight(as_of), self.ticket_steps())

    def inactive_cutoff(self, as_of: date) -> datetime:
        """An account last active before this is due: inactivity, then reactivation grace."""
        return cutoff(midnight(as_of), self.inactive_steps())

    def usage_cutoff(self, as_of: date) -> datetime:
        """A web event that occurred before this is overdue for erasure."""
        return cutoff(midnight(as_of), self.usage_steps())

    def training_cutoff(self, as_of: date) -> datetime:
        """Staff training before this has lapsed at as_of (no grace: nothing is deleted)."""
        return cutoff(midnight(as_of), [("months", self.training_valid_months)])

    def access_since(self, as_of: date) -> datetime:
        """The start of the access look-back window ``[as_of - days, as_of)``."""
        return midnight(as_of) - timedelta(days=self.access_lookback_days)


DEFAULT_POLICY = resources.files("privacy_audit") / "default_policy.yaml"


def load_policy(path: Path | None = None) -> tuple[Policy, str]:
    """Read and validate a policy file over the bundled defaults (the defaults alone when None).

    A key the file gives replaces the default's value; a key that holds fixed sub-keys
    (``order_retention_years``, ``disclosure``) merges them one by one, while a mapping of
    names (``by_country``, ``role_permissions``, ``clauses``…) or a list is replaced whole, so
    that a file can remove an entry. Returns the policy and the sha256 digest of the file's
    bytes, which ``privacy-audit verify`` recomputes; ``Policy.effective_digest`` says which
    promises a run checked.
    """
    bundled = DEFAULT_POLICY.read_bytes()
    defaults = _mapping(bundled, "default_policy.yaml")
    if path is None:
        return _validated(defaults, "default_policy.yaml"), hashlib.sha256(bundled).hexdigest()
    raw = read_bounded(path, "policy file")
    overrides = _mapping(raw, str(path))
    return _validated(_merged(defaults, overrides, Policy), str(path)), hashlib.sha256(raw).hexdigest()


def _mapping(raw: bytes, name: str) -> dict[str, Any]:
    data = parse_yaml(raw, name)
    if not isinstance(data, dict):
        raise InputError(name, expected="a YAML mapping of policy keys")
    return data


def _merged(defaults: dict[str, Any], overrides: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """``defaults`` with ``overrides`` applied, key by key into nested models (see ``load_policy``)."""
    merged = dict(defaults)
    for key, value in overrides.items():
        nested = _model_of(model, key)
        if nested and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value, nested)
        else:
            merged[key] = value
    return merged


def _model_of(model: type[BaseModel], key: object) -> type[BaseModel] | None:
    """The model a key of ``model`` holds, when it holds one (fixed sub-keys), else None."""
    info = model.model_fields.get(key) if isinstance(key, str) else None
    kind = info.annotation if info else None
    return kind if isinstance(kind, type) and issubclass(kind, BaseModel) else None


def _validated(data: dict[str, Any], name: str) -> Policy:
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        loc = exc.errors()[0]["loc"]
        model: type[BaseModel] | None = Policy
        for part in loc[:-1]:  # the model whose keys an unknown key was meant to be among
            model = _model_of(model, part) if model else None
        raise invalid(exc, file=name, known=model.model_fields if model else ()) from None
