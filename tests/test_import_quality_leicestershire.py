"""Data-quality findings on the real Leicestershire archive: faults pinned to their areas, context not suspect."""

from __future__ import annotations

import pytest

from csp_monitor.importers import PoliceUkImport, import_police_uk
from csp_monitor.importers.crime_types import ANTI_SOCIAL_BEHAVIOUR, CRIME_TYPES, TOTAL_CRIME
from tests.police_uk_fixtures import LEICESTERSHIRE, LOOKUP, independent_count

pytestmark = pytest.mark.skipif(not LEICESTERSHIRE.is_file() or not LOOKUP.is_file(),
                                reason="the shared police.uk archive and ONS lookup are not beside the project")

SHORT = ("harborough", "oadby-and-wigston")
NORMAL = ("blaby", "charnwood", "hinckley-and-bosworth", "leicester", "melton", "north-west-leicestershire",
          "rutland")
CRIME_MEASURES = sorted({*CRIME_TYPES.values(), TOTAL_CRIME} - {ANTI_SOCIAL_BEHAVIOUR})


@pytest.fixture(scope="module")
def imported() -> PoliceUkImport:
    """The archive imported with the ONS lookup (areas are partnerships)."""
    return import_police_uk(LEICESTERSHIRE, lookup=LOOKUP)


def _crimes(district: str, month: str) -> int:
    """An area's located crimes in a month, counted with the csv module alone."""
    counts, _ = independent_count(LEICESTERSHIRE)
    return sum(n for (d, kind, m), n in counts.items()
               if d == district and m == month and kind != "Anti-social behaviour")


def test_march_2020_is_pinned_to_harborough_and_oadby_and_wigston(imported: PoliceUkImport) -> None:
    """March 2020's suspect figures are the 14 crime figures of the two areas that lost their crimes, no others."""
    march = {key for key in imported.suspects if key[2] == "2020-03"}
    assert march == {(area, measure, "2020-03") for area in SHORT for measure in CRIME_MEASURES}
    assert len(march) == 28 == len(imported.suspects)
    for area in NORMAL:
        assert (area, TOTAL_CRIME, "2020-03") not in imported.suspects
    assert ("harborough", ANTI_SOCIAL_BEHAVIOUR, "2020-03") not in imported.suspects


def test_each_short_area_has_its_own_evidence(imported: PoliceUkImport) -> None:
    """Harborough (4) and Oadby and Wigston (5) are each named with their count against their own usual level."""
    assert (_crimes("harborough", "2020-03"), _crimes("oadby-and-wigston", "2020-03")) == (4, 5)
    pinned = {f.area: f for f in imported.findings if f.kind == "unallocated-area"}
    assert sorted(pinned) == list(SHORT)
    assert all(f.suspect and f.period == "2020-03" for f in pinned.values())
    assert pinned["harborough"].message.startswith(
        "harborough 2020-03: 4 crimes against a usual 324-384 (median 356.5), while in leicestershire "
        "16.3% of crimes have no location against a usual 7.7%")
    assert pinned["oadby-and-wigston"].message.startswith(
        "oadby-and-wigston 2020-03: 5 crimes against a usual 249-288 (median 271.5)")
    reasons = imported.suspects[("harborough", "burglary", "2020-03")]
    assert any(r.startswith("harborough 2020-03: 4 crimes") for r in reasons)


def test_the_jump_names_the_areas_that_are_normal(imported: PoliceUkImport) -> None:
    """The jump says the extra no-location rows match the two areas' missing crimes; Charnwood and Leicester are normal."""
    assert (_crimes("charnwood", "2020-03"), _crimes("leicester", "2020-03")) == (921, 3261)
    [jump] = [f for f in imported.findings if f.kind == "unallocated-jump"]
    assert not jump.suspect and jump.period == "2020-03"
    assert "short by" not in jump.message
    assert "(about 611 more than usual), matching the about 619 crimes missing from harborough" in jump.message
    assert "not far from their own usual level, so not suspect" in jump.message
    assert "charnwood 921 (usual 939-1080)" in jump.message and "leicester 3261 (usual 3091-3469)" in jump.message
    assert any(line.endswith("; suspect figures: 28.") for line in imported.summary())


def test_the_april_2020_lockdown_is_context_not_a_fault(imported: PoliceUkImport) -> None:
    """Anti-social behaviour doubling and burglary falling across the force in April 2020 are reported, not suspect."""
    changes = {(f.measure, f.period): f for f in imported.findings if f.kind == "force-change"}
    asb, burglary = changes[(ANTI_SOCIAL_BEHAVIOUR, "2020-04")], changes[("burglary", "2020-04")]
    assert asb.message.startswith("anti-social-behaviour 2020-04: leicestershire 1736 against a usual 785-1063 "
                                  "(median 873) in the months before, up 99%")
    assert burglary.message.startswith("burglary 2020-04: leicestershire 350 against a usual 486-646 "
                                       "(median 545.5) in the months before, down 36%")
    assert not any(f.suspect for f in changes.values())
    assert not [key for key in imported.suspects if key[2] == "2020-04"]


def test_the_june_2020_geocoding_change_is_context(imported: PoliceUkImport) -> None:
    """The no-location share falling from about 7.6% to 0.5% in June 2020 is reported once, not suspect."""
    shifts = {f.period: f for f in imported.findings if f.kind == "unallocated-shift"}
    june = shifts["2020-06"]
    assert not june.suspect
    assert "changed from about 7.6% (the months before) to 0.5% (from 2020-06 on)" in june.message
    assert "before 2020-06 are about 7% lower" in june.message
    assert "2020-03" not in shifts and "2020-04" not in shifts  # the one-month jump is not a new level


def test_a_value_repeated_for_four_months_is_reported(imported: PoliceUkImport) -> None:
    """Harborough burglary at 13 from December 2020 to March 2021 is reported; small repeated counts are not."""
    months = ("2020-12", "2021-01", "2021-02", "2021-03")
    assert [imported.figures[("harborough", "burglary", m)] for m in months] == [13, 13, 13, 13]
    repeats = [f for f in imported.findings if f.kind == "repeated-value"]
    assert [(f.area, f.measure, f.period, f.suspect) for f in repeats] == [
        ("harborough", "burglary", "2020-12", False)]
    assert repeats[0].message.startswith(
        "harborough burglary 2020-12 to 2021-03: 13 in each of 4 months in a row")
    # Oadby and Wigston's other crime is 8 in four months running: too small a count to mean anything.
    assert [imported.figures[("oadby-and-wigston", "other-crime", f"2021-0{m}")] for m in range(5, 9)] == [8] * 4
