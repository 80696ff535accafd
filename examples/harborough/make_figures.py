"""Regenerate figures.csv: an illustrative monthly split of Figure 3's yearly totals.

The Harborough annual review publishes yearly totals only (Figure 3). This
script spreads each total over the twelve months with a fixed seasonal
profile, so that every yearly total is exactly the published one. The months
are illustrative; the yearly totals are the report's. Run it with
``python examples/harborough/make_figures.py``.
"""

from __future__ import annotations

import csv
from pathlib import Path

# measure: (2012/13 total, 2013/14 total) from Figure 3 (previous = current - difference).
TOTALS = {
    "total-crime": (2773, 2778),
    "domestic-burglary": (153, 253),
    "commercial-burglary": (107, 106),
    "theft-from-motor-vehicle": (335, 284),
    "theft-of-motor-vehicle": (38, 54),
    "violence-with-injury": (163, 176),
    "domestic-violence-with-injury": (59, 68),
    "criminal-damage": (490, 412),
    "asb-incidents": (1269, 1159),
}
# The split used by the rules' own test file (rules/harborough-2013-14.test.yaml).
EXPLICIT = {
    "domestic-burglary": [12, 13, 11, 14, 12, 13, 15, 12, 14, 13, 12, 12,
                          20, 21, 22, 19, 23, 20, 21, 22, 20, 21, 22, 22],
}
# April..March weights: more in summer evenings and the dark months.
PROFILE = [8.2, 8.6, 8.9, 9.0, 8.8, 8.3, 8.5, 8.4, 8.1, 7.6, 7.4, 8.2]
# User satisfaction (a rolling survey percentage): 2012/13 then 2013/14; March 2014 is Figure 3's 88%.
SATISFACTION = [84, 85, 85, 86, 85, 84, 86, 86, 85, 86, 85, 86,
                86, 87, 86, 87, 88, 87, 88, 87, 88, 89, 88, 88]


def split(total: int) -> list[int]:
    """Whole numbers in proportion to PROFILE that add up to exactly ``total``."""
    weights = [w / sum(PROFILE) * total for w in PROFILE]
    counts = [int(w) for w in weights]
    order = sorted(range(12), key=lambda i: weights[i] - counts[i], reverse=True)
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def months() -> list[str]:
    return [f"{2012 + (3 + i) // 12}-{(3 + i) % 12 + 1:02d}" for i in range(24)]


def main() -> None:
    out = Path(__file__).with_name("figures.csv")
    with out.open("w", newline="", encoding="utf-8") as handle:
        handle.write("# Harborough CSP, April 2012 to March 2014. The yearly totals are those of Figure 3 of\n")
        handle.write("# the 2013/14 annual review; the split into months is ILLUSTRATIVE (see make_figures.py).\n")
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["area", "measure", "period", "value"])
        for measure, (previous, current) in TOTALS.items():
            values = EXPLICIT.get(measure) or split(previous) + split(current)
            assert sum(values[:12]) == previous and sum(values[12:]) == current, measure
            for month, value in zip(months(), values, strict=True):
                writer.writerow(["harborough", measure, month, value])
        for month, value in zip(months(), SATISFACTION, strict=True):
            writer.writerow(["harborough", "user-satisfaction", month, value])


if __name__ == "__main__":
    main()
