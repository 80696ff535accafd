"""``python -m csp_monitor.cli``: the same as the ``csp-monitor`` command."""

from csp_monitor.cli import main

main()
