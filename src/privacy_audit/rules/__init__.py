"""The rule catalogue: importing this package fills ``REGISTRY`` with every rule family.

The families are imported in the order of shared/spec/rules.md, which is the catalogue's
order everywhere it is listed (summary.json, `privacy-audit rules`, the compliance report).
"""

# isort: off
from privacy_audit.rules import (  # noqa: F401 - each import declares a family of rules
    retention,
    rights,
    minimization,
    consent,
    sharing,
    transfers,
    access,
    notices,
)

# isort: on
from privacy_audit.rules.registry import REGISTRY, Rule, Severity, Status

__all__ = ["REGISTRY", "Rule", "Severity", "Status"]
