"""The statistics behind every judgement: pure functions, no I/O, no clock, no SciPy.

* :mod:`~csp_monitor.statistics.significance`: is a change in a count more
  than chance? (the exact conditional test for two Poisson counts)
* :mod:`~csp_monitor.statistics.projection`: where will the year end?
* :mod:`~csp_monitor.statistics.spc`: XmR control charts as NHS England's
  Making Data Count draws them: limits, special causes, variation, assurance.
* :mod:`~csp_monitor.statistics.peers`: how does an area compare with its
  most similar group?

Every result is a frozen pydantic model carrying a plain-English
``explanation`` for people who are not statisticians.
"""

from csp_monitor.statistics.peers import (
    PeerComparison,
    PeerMethod,
    PeerPosition,
    PeerSettings,
    compare_group,
    compare_with_peers,
)
from csp_monitor.statistics.projection import Projection, ProjectionMethod, project_year_end
from csp_monitor.statistics.significance import (
    Significance,
    Verdict,
    binomial_p_value,
    byar_interval,
    rate_ratio_interval,
    significance_of_change,
    square_root_z,
)
from csp_monitor.statistics.spc import (
    Assurance,
    Better,
    SpcGroup,
    SpcPoint,
    SpcResult,
    SpcRule,
    SpcSettings,
    SpecialCause,
    Variation,
    analyse_spc,
    analyse_spc_columns,
)

__all__ = [
    "Assurance",
    "Better",
    "PeerComparison",
    "PeerMethod",
    "PeerPosition",
    "PeerSettings",
    "Projection",
    "ProjectionMethod",
    "Significance",
    "SpcGroup",
    "SpcPoint",
    "SpcResult",
    "SpcRule",
    "SpcSettings",
    "SpecialCause",
    "Variation",
    "Verdict",
    "analyse_spc",
    "analyse_spc_columns",
    "binomial_p_value",
    "byar_interval",
    "compare_group",
    "compare_with_peers",
    "project_year_end",
    "rate_ratio_interval",
    "significance_of_change",
    "square_root_z",
]
