"""The policy file: a pydantic model of every number the rules use, and its loading.

The default file ships beside this module; ``--policy`` replaces it whole. No policy number
lives in code: the model has no defaults, so a file that forgets a key fails loudly.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from privacy_audit.errors import InputError, invalid

Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
PositiveInt = Annotated[int, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class OrderRetention(_Strict):
    default: PositiveInt
    by_country: dict[Country, PositiveInt]


class Disclosure(_Strict):
    dominance_share: Annotated[float, Field(gt=0, le=1)]
    protection_pct: Annotated[float, Field(ge=0, lt=100)]

    @field_validator("dominance_share", "protection_pct", mode="before")
    @classmethod
    def _int_is_a_number(cls, value: object) -> object:
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


class Policy(_Strict):
    """Every key of the default policy file; see ``default_policy.yaml`` for their meaning."""

    deletion_grace_days: PositiveInt
    order_retention_years: OrderRetention
    ticket_retention_years: PositiveInt
    inactive_after_years: PositiveInt
    reactivation_grace_years: PositiveInt
    usage_retention_months: PositiveInt
    request_response_days: PositiveInt
    request_extended_days: PositiveInt
    minimum_age: PositiveInt
    require_marketing_opt_in: bool
    honor_do_not_track: bool
    password_schemes: dict[str, list[Annotated[str, Field(min_length=1)]]]
    forbidden_share_purposes: list[str]
    eea_countries: list[Country]
    adequate_countries: list[Country]
    role_permissions: dict[str, list[str]]
    training_valid_months: PositiveInt
    access_lookback_days: PositiveInt
    notice_days: PositiveInt
    data_inventory: dict[str, list[str]]
    regions: dict[str, list[Country]]
    disclosure: Disclosure

    def region_of(self) -> dict[str, str]:
        """Country code → region name, from the ``regions`` mapping."""
        return {c: region for region, countries in self.regions.items() for c in countries}


DEFAULT_POLICY = resources.files("privacy_audit") / "default_policy.yaml"


def load_policy(path: Path | None = None) -> tuple[Policy, str]:
    """Read and validate a policy file (the bundled default when ``path`` is None).

    Returns the policy and the sha256 digest of the file's bytes, which the manifest records so
    that an auditor can tell which promises a run checked.
    """
    name = str(path) if path else "default_policy.yaml"
    try:
        raw = path.read_bytes() if path else DEFAULT_POLICY.read_bytes()
    except OSError as exc:
        raise InputError(name, expected=f"a readable policy file ({exc.strerror})") from None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise InputError(name, expected=f"valid YAML{where}") from None
    if not isinstance(data, dict):
        raise InputError(name, expected="a YAML mapping of policy keys")
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise invalid(exc, file=name) from None
    return policy, hashlib.sha256(raw).hexdigest()
