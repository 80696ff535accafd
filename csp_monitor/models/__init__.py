"""The pydantic models that are csp-monitor's contract: rules, figures, results."""

# The rule models import the alert models at their end, which build on them:
# importing the rule models first makes either import order work.
from csp_monitor.models import rules as _rules  # noqa: F401
