"""The real police.uk excerpts committed in tests/data: real-data checks that run in a clone of the project alone."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from csp_monitor.importers import CRIME_TYPES, PoliceUkImport, import_police_uk
from csp_monitor.load.figures import load_figures
from tests.police_uk_fixtures import (
    CITY_OF_LONDON,
    CITY_OF_LONDON_EXCERPT,
    LEICESTERSHIRE,
    LEICESTERSHIRE_EXCERPT,
    LOOKUP_EXCERPT,
    independent_count,
    needs_shared,
)

# DOMAIN.md's City of London crimes excluding ASB, 2017-01 to 2017-06 (the last six of its 18 months).
CITY_OF_LONDON_2017 = [354, 451, 536, 474, 505, 455]
EXCERPT_DISTRICTS = {"charnwood", "harborough", "oadby-and-wigston"}


@pytest.fixture(scope="module")
def leicestershire(tmp_path_factory: pytest.TempPathFactory) -> tuple[PoliceUkImport, Path]:
    """The Leicestershire excerpt imported with the excerpt of the ONS lookup, written to a figures CSV."""
    out = tmp_path_factory.mktemp("excerpt") / "figures.csv"
    return import_police_uk(LEICESTERSHIRE_EXCERPT, lookup=LOOKUP_EXCERPT, out=out), out


def test_the_excerpts_carry_the_open_government_licence_line() -> None:
    """The excerpts' README names their source and the Open Government Licence they are published under."""
    readme = (LEICESTERSHIRE_EXCERPT.parents[1] / "README.md").read_text(encoding="utf-8")
    assert "Open Government Licence v3.0" in readme
    assert LEICESTERSHIRE_EXCERPT.name in readme and CITY_OF_LONDON_EXCERPT.name in readme


def test_every_row_of_the_leicestershire_excerpt_is_counted(leicestershire: tuple[PoliceUkImport, Path]) -> None:
    """Each district, type and month of the excerpt is counted exactly as the csv module counts it."""
    result, _ = leicestershire
    expected, unallocated = independent_count(LEICESTERSHIRE_EXCERPT)
    assert {district for district, _, _ in expected} == EXCERPT_DISTRICTS and not unallocated
    for (district, type_name, month), number in expected.items():
        assert result.figures[(district, CRIME_TYPES[type_name], month)] == number
    assert result.rows_read == sum(expected.values()) == 12_430
    assert result.months == ("2019-12", "2020-01", "2020-02", "2020-03", "2020-04", "2020-05", "2020-06")


def test_march_2020_fault_is_pinned_to_the_two_districts_that_lost_their_crimes(
        leicestershire: tuple[PoliceUkImport, Path]) -> None:
    """Harborough (4 crimes) and Oadby and Wigston (5) are suspect in March 2020; Charnwood (921) is not."""
    result, _ = leicestershire
    assert result.figures[("harborough", "total-crime", "2020-03")] == 4
    assert result.figures[("oadby-and-wigston", "total-crime", "2020-03")] == 5
    assert result.figures[("charnwood", "total-crime", "2020-03")] == 921
    suspect_march = {area for area, _, period in result.suspects if period == "2020-03"}
    assert suspect_march == {"harborough", "oadby-and-wigston"}
    assert ("harborough", "total-crime", "2020-03") in result.suspects
    assert not any(area == "charnwood" and period == "2020-03" for area, _, period in result.suspects)


def test_the_excerpts_suspect_flags_reach_the_core_loader(leicestershire: tuple[PoliceUkImport, Path]) -> None:
    """The written figures load with the core loader, March 2020's suspect flag included."""
    _, out = leicestershire
    figures = load_figures(out)
    march_2020 = 2020 * 12 + 2
    assert figures.series("harborough", "total-crime")[march_2020] == 4
    assert figures.suspect("harborough", "total-crime", march_2020)
    assert not figures.suspect("charnwood", "total-crime", march_2020)


def test_city_of_london_excerpt_totals_are_the_published_series() -> None:
    """Counted per force, the excerpt's crimes excluding ASB are DOMAIN.md's last six monthly totals."""
    result = import_police_uk(CITY_OF_LONDON_EXCERPT, area_by="force")
    assert [result.figures[("city-of-london", "total-crime", m)] for m in result.months] == CITY_OF_LONDON_2017


def test_city_of_london_excerpt_reports_may_2017_asb_as_a_publication_gap() -> None:
    """May 2017 has no ASB rows in the real file: a publication gap, left out rather than written as 0."""
    result = import_police_uk(CITY_OF_LONDON_EXCERPT, lookup=LOOKUP_EXCERPT)
    assert result.publication_gaps == (("city-of-london", "2017-05", "anti-social-behaviour"),)
    assert ("city-of-london", "anti-social-behaviour", "2017-05") not in result.figures
    assert result.figures[("city-of-london", "anti-social-behaviour", "2017-04")] > 100


@needs_shared
@pytest.mark.parametrize(("excerpt", "archive"), [(LEICESTERSHIRE_EXCERPT, LEICESTERSHIRE),
                                                    (CITY_OF_LONDON_EXCERPT, CITY_OF_LONDON)])
def test_each_excerpt_is_its_archive_rows_byte_for_byte(excerpt: Path, archive: Path) -> None:
    """Every line of an excerpt's month file is a line of the same month in the full archive, in order."""
    with zipfile.ZipFile(excerpt) as small, zipfile.ZipFile(archive) as full:
        for name in small.namelist():
            kept = small.read(name).splitlines()
            source = iter(full.read(name).splitlines())
            assert all(any(line == candidate for candidate in source) for line in kept), name
