"""The statistics package: a sorted public surface with no SciPy behind it."""

from __future__ import annotations

import subprocess
import sys

import csp_monitor.statistics as statistics


def test_all_is_sorted_and_unique() -> None:
    """``__all__`` is sorted and lists each name once."""
    assert list(statistics.__all__) == sorted(set(statistics.__all__))


def test_all_is_exactly_the_public_names() -> None:
    """``__all__`` lists every public name the package defines, and only those."""
    public = {
        name
        for name in vars(statistics)
        if not name.startswith("_")
        and name not in {"annotations", "peers", "projection", "significance", "spc"}
    }
    assert set(statistics.__all__) == public


def test_no_scipy_at_run_time() -> None:
    """Importing and using the statistics loads neither SciPy nor NumPy."""
    code = (
        "import sys; from csp_monitor.statistics import *;"
        "significance_of_change(54, 38); analyse_spc([('a', 1.0), ('b', 2.0)]);"
        "compare_with_peers({'a': (1, 10), 'b': (2, 10)}, 'a', PeerSettings(method='funnel'));"
        "print([m for m in ('scipy', 'numpy') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
