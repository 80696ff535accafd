"""The evaluate layer: pure functions from rules and figures to results (no I/O, no clock)."""
