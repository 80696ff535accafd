"""The pydantic models that are csp-monitor's contract: rules, figures, results."""
