"""The rule catalogue: importing this package fills ``REGISTRY`` with every rule family."""

from privacy_audit.rules import (  # noqa: F401 - each import declares a family of rules
    minimization,
    retention,
)
from privacy_audit.rules.registry import REGISTRY, Rule, Severity

__all__ = ["REGISTRY", "Rule", "Severity"]
