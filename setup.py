"""Package layout that pyproject.toml cannot express on its own.

The Jinja2 templates live in the top-level ``templates/`` folder (the design
card) and ship inside the wheel as the resource package ``csp_monitor.templates``.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["csp_monitor", "csp_monitor.*"]), "csp_monitor.templates"],
    package_dir={"csp_monitor.templates": "templates"},
)
