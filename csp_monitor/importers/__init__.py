"""Importers: figures from the places they really come from.

- :func:`import_police_uk`: police.uk street-level archives, counted per
  month, area and crime type, with data-quality checks.
- :func:`import_spreadsheet`: the wide tables partnerships keep (one row per
  measure, one column per month), from xlsx or CSV.

Both give long ``area,measure,period,value`` figures, written atomically.
"""

from __future__ import annotations

from csp_monitor.importers.areas import AreaLookup, district_of_lsoa, load_area_lookup, slugify
from csp_monitor.importers.crime_types import CRIME_TYPES, STANDARD_MEASURES, TOTAL_CRIME
from csp_monitor.importers.figures_csv import FigureRow, write_figures_csv
from csp_monitor.importers.police_uk import PoliceUkImport, import_police_uk
from csp_monitor.importers.quality import QualityFinding
from csp_monitor.importers.spreadsheet import SpreadsheetImport, import_spreadsheet

__all__ = [
    "CRIME_TYPES",
    "STANDARD_MEASURES",
    "TOTAL_CRIME",
    "AreaLookup",
    "FigureRow",
    "PoliceUkImport",
    "QualityFinding",
    "SpreadsheetImport",
    "district_of_lsoa",
    "import_police_uk",
    "import_spreadsheet",
    "load_area_lookup",
    "slugify",
    "write_figures_csv",
]
