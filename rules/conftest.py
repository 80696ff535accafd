"""pytest collects the rule tests in this folder (``*.test.yaml``), one test per rule test."""

from csp_monitor.authoring.pytest_plugin import pytest_collect_file

__all__ = ["pytest_collect_file"]
