"""Importing police.uk street-level archives: counts, areas, gaps, messy input, atomic output."""

from __future__ import annotations

import csv
import os
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csp_monitor.errors import FiguresError, OutputError
from csp_monitor.importers import CRIME_TYPES, STANDARD_MEASURES, PoliceUkImport, import_police_uk
from csp_monitor.importers._street_counting import count_street_file, default_engine
from csp_monitor.importers._street_files import find_street_files
from tests.police_uk_fixtures import (
    CITY_OF_LONDON,
    LEICESTERSHIRE,
    LEICESTERSHIRE_EXCERPT,
    LOOKUP,
    LOOKUP_EXCERPT,
    independent_count,
    member,
    month_rows,
    needs_shared,
    street_csv,
    street_row,
    write_archive,
)

CITY_OF_LONDON_CRIMES = [381, 417, 442, 433, 408, 436, 463, 494, 493, 440, 467, 489, 354, 451, 536, 474, 505, 455]
ENGINES = ["python", "checked"] + (["arrow"] if default_engine() == "arrow" else [])


def _months(first: str, count: int) -> list[str]:
    year, month = map(int, first.split("-"))
    index = year * 12 + month - 1
    return [f"{(index + i) // 12:04d}-{(index + i) % 12 + 1:02d}" for i in range(count)]


# --- the real archives -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def leicestershire() -> PoliceUkImport:
    """The Leicestershire archive imported with every district kept."""
    return import_police_uk(LEICESTERSHIRE, keep_outside_areas=True)


@needs_shared
def test_leicestershire_counts_match_an_independent_count(leicestershire: PoliceUkImport) -> None:
    """Every district, type and month of the real archive is counted exactly as the csv module counts it."""
    expected, unallocated = independent_count(LEICESTERSHIRE)
    for (district, type_name, month), number in expected.items():
        assert leicestershire.figures[(district, CRIME_TYPES[type_name], month)] == number
    counted = sum(v for (a, m, p), v in leicestershire.figures.items() if m != "total-crime")
    assert counted == sum(expected.values())
    assert leicestershire.unallocated == dict(unallocated)
    assert leicestershire.rows_read == sum(expected.values()) + sum(unallocated.values()) == 301_838


@needs_shared
def test_total_crime_is_every_type_but_anti_social_behaviour(leicestershire: PoliceUkImport) -> None:
    """total-crime is the sum of the thirteen crime types, leaving anti-social behaviour out."""
    expected, _ = independent_count(LEICESTERSHIRE)
    harborough: Counter[str] = Counter()
    for (district, type_name, month), number in expected.items():
        if district == "harborough" and type_name != "Anti-social behaviour":
            harborough[month] += number
    for month, number in harborough.items():
        assert leicestershire.figures[("harborough", "total-crime", month)] == number
    assert leicestershire.figures[("harborough", "total-crime", "2021-04")] == 462


@needs_shared
def test_every_area_gets_every_measure_for_every_month_whose_file_exists(leicestershire: PoliceUkImport) -> None:
    """Zero-filling: a month whose file exists gives each area a figure (0 if no rows) for every measure."""
    assert len(leicestershire.months) == 35
    for area in leicestershire.areas:
        for measure in STANDARD_MEASURES:
            for month in leicestershire.months:
                assert (area, measure, month) in leicestershire.figures
    assert leicestershire.figures[("york", "burglary", "2021-04")] == 0


@needs_shared
def test_city_of_london_force_totals_are_the_published_series() -> None:
    """Counted per force, the City of London's crimes excluding ASB are DOMAIN.md's 18 monthly totals."""
    result = import_police_uk(CITY_OF_LONDON, area_by="force")
    assert result.months == tuple(_months("2016-01", 18))
    assert [result.figures[("city-of-london", "total-crime", m)] for m in result.months] == CITY_OF_LONDON_CRIMES


@needs_shared
def test_city_of_london_district_counts_plus_other_districts_and_unallocated_make_the_total() -> None:
    """Per district, the City's own count plus its neighbours' rows plus unallocated crimes is the force total."""
    result = import_police_uk(CITY_OF_LONDON, keep_outside_areas=True)
    expected, _ = independent_count(CITY_OF_LONDON)
    for month, total in zip(_months("2016-01", 18), CITY_OF_LONDON_CRIMES, strict=True):
        own = sum(n for (d, t, m), n in expected.items()
                  if d == "city-of-london" and m == month and t != "Anti-social behaviour")
        if month != "2017-05":
            assert result.figures[("city-of-london", "total-crime", month)] == own
        located = sum(n for (d, t, m), n in expected.items() if m == month and t != "Anti-social behaviour")
        assert located + result.unallocated[month] == total
    assert result.figures[("city-of-london", "total-crime", "2016-01")] == 356


@needs_shared
def test_city_of_london_may_2017_anti_social_behaviour_is_a_publication_gap_not_a_zero() -> None:
    """No ASB rows in May 2017 against ~150 a month around it: reported as a gap and not written as 0."""
    result = import_police_uk(CITY_OF_LONDON, lookup=LOOKUP)
    assert result.publication_gaps == (("city-of-london", "2017-05", "anti-social-behaviour"),)
    assert ("city-of-london", "anti-social-behaviour", "2017-05") not in result.figures
    assert result.figures[("city-of-london", "anti-social-behaviour", "2017-04")] > 100
    assert result.figures[("city-of-london", "total-crime", "2017-05")] == 442
    gap = [f for f in result.findings if f.kind == "publication-gap"]
    assert len(gap) == 1 and "publication gap, not a zero" in gap[0].message
    assert any("city-of-london 2017-05 anti-social-behaviour" in line for line in result.summary())


@needs_shared
def test_lookup_maps_districts_to_partnerships_and_leaves_out_other_forces_areas() -> None:
    """With the ONS lookup, areas are partnerships, and districts outside Leicestershire are left out."""
    result = import_police_uk(LEICESTERSHIRE, lookup=LOOKUP)
    assert set(result.areas) == {"blaby", "charnwood", "harborough", "hinckley-and-bosworth", "leicester",
                                 "melton", "north-west-leicestershire", "oadby-and-wigston", "rutland"}
    assert result.outside_areas["daventry-and-south-northamptonshire"] == 29
    assert result.outside_areas["south-kesteven"] == 108
    expected, _ = independent_count(LEICESTERSHIRE)
    assert result.figures[("harborough", "burglary", "2021-06")] == expected[("harborough", "Burglary", "2021-06")]


@needs_shared
def test_without_a_lookup_districts_with_a_sliver_of_the_forces_rows_are_left_out() -> None:
    """Without the lookup, districts with under 0.1% of the force's located rows are reported and left out."""
    result = import_police_uk(LEICESTERSHIRE)
    assert "harborough" in result.areas and "rutland" in result.areas
    assert result.outside_areas["south-kesteven"] == 108
    assert result.outside_areas["daventry"] == 29
    assert not any(key[0] == "south-kesteven" for key in result.figures)


def test_daventry_and_south_northamptonshire_are_one_partnership(tmp_path: Path) -> None:
    """Two districts of one partnership are added together under the partnership's slug."""
    rows = month_rows("2020-01", {("Daventry 001A", "Burglary"): 3, ("South Northamptonshire 004C", "Burglary"): 4,
                                  ("Northampton 010B", "Burglary"): 5})
    archive = write_archive(tmp_path / "n.zip", {member("2020-01", "northamptonshire"): street_csv(rows)})
    result = import_police_uk(archive, lookup=LOOKUP_EXCERPT)
    assert result.figures[("daventry-and-south-northamptonshire", "burglary", "2020-01")] == 7
    assert result.figures[("northampton", "burglary", "2020-01")] == 5


# --- messy input ---------------------------------------------------------------------------------


def _simple_archive(tmp_path: Path, months: list[str], per_month: int = 20, **csv_options: bool) -> Path:
    members = {}
    for month in months:
        rows = month_rows(month, {("Harborough 001A", "Burglary"): per_month, ("Blaby 002B", "Burglary"): per_month,
                                  ("Harborough 003C", "Anti-social behaviour"): per_month,
                                  ("", "Vehicle crime"): 2})
        members[member(month)] = street_csv(rows, **csv_options)
    return write_archive(tmp_path / "street.zip", members)


@pytest.mark.parametrize("engine", ENGINES)
def test_bom_crlf_and_quoted_commas_are_read_correctly(tmp_path: Path, engine: str) -> None:
    """A byte-order mark, CRLF line ends and quoted locations with commas change no count, in every engine."""
    rows = [street_row("2020-01", "Harborough 001A", "Burglary", location='On or near Asda, "Main" Road')
            for _ in range(5)]
    rows += [street_row("2020-01", "Harborough 001A", "Drugs") for _ in range(2)]
    path = tmp_path / "2020-01-test-street.csv"
    path.write_bytes(street_csv(rows, bom=True, crlf=True))
    assert b'"On or near Asda, ""Main"" Road"' in path.read_bytes()
    result = import_police_uk(path, engine=engine)
    assert result.figures[("harborough", "burglary", "2020-01")] == 5
    assert result.figures[("harborough", "drugs", "2020-01")] == 2
    assert result.figures[("harborough", "total-crime", "2020-01")] == 7


def test_a_single_csv_with_any_name_is_read_for_its_months(tmp_path: Path) -> None:
    """A street CSV given by hand under another name is counted by the months in its rows."""
    rows = month_rows("2020-01", {("Harborough 001A", "Robbery"): 2}) + month_rows(
        "2020-02", {("Harborough 001A", "Robbery"): 3})
    path = tmp_path / "export.csv"
    path.write_bytes(street_csv(rows, crlf=False))
    result = import_police_uk(path)
    assert result.figures[("harborough", "robbery", "2020-01")] == 2
    assert result.figures[("harborough", "robbery", "2020-02")] == 3


def test_folders_of_archives_and_extracted_files_are_read(tmp_path: Path) -> None:
    """A folder is searched for archives and extracted YYYY-MM/…-street.csv files."""
    folder = tmp_path / "downloads"
    (folder / "2020-02").mkdir(parents=True)
    write_archive(folder / "a.zip", {member("2020-01"): street_csv(month_rows("2020-01", {("Melton 001A", "Drugs"): 4}))})
    (folder / "2020-02" / "2020-02-test-street.csv").write_bytes(
        street_csv(month_rows("2020-02", {("Melton 001A", "Drugs"): 6})))
    (folder / "2020-02" / "2020-02-test-outcomes.csv").write_text("not read")
    result = import_police_uk(folder)
    assert result.figures[("melton", "drugs", "2020-01")] == 4
    assert result.figures[("melton", "drugs", "2020-02")] == 6


def test_the_same_force_and_month_twice_is_refused(tmp_path: Path) -> None:
    """A month given twice (say a zip and its extracted file) would double count: it is an error."""
    archive = _simple_archive(tmp_path, ["2020-01"])
    extracted = tmp_path / "2020-01-test-street.csv"
    with zipfile.ZipFile(archive) as source:
        extracted.write_bytes(source.read(member("2020-01")))
    with pytest.raises(FiguresError) as caught:
        import_police_uk([archive, extracted])
    assert "counted twice" in str(caught.value)


def test_an_empty_month_file_among_full_months_is_a_gap_not_zeros(tmp_path: Path) -> None:
    """A month file with only its header is a month not published: reported as missing, no figures."""
    archive = _simple_archive(tmp_path, ["2020-01", "2020-02", "2020-04", "2020-05"])
    with zipfile.ZipFile(archive, "a") as target:
        target.writestr(member("2020-03"), street_csv([]))
    result = import_police_uk(archive)
    assert any(f.kind == "empty-month" and f.period == "2020-03" for f in result.findings)
    assert ("harborough", "burglary", "2020-03") not in result.figures
    assert ("harborough", "total-crime", "2020-03") not in result.figures
    assert ("harborough", "robbery", "2020-03") not in result.figures  # rare, but the whole month is absent
    assert result.missing_months == (("test", "2020-03"),)
    assert result.figures[("harborough", "burglary", "2020-04")] == 20


def test_a_quiet_type_absent_from_a_month_is_a_real_zero(tmp_path: Path) -> None:
    """A type that is usually rare (under 7 a month) and absent from a month is filled with 0."""
    members = {}
    for month, robberies in zip(_months("2020-01", 5), [2, 1, 0, 3, 1], strict=True):
        rows = month_rows(month, {("Harborough 001A", "Burglary"): 30, ("Harborough 001A", "Robbery"): robberies})
        members[member(month)] = street_csv(rows)
    result = import_police_uk(write_archive(tmp_path / "q.zip", members))
    assert result.figures[("harborough", "robbery", "2020-03")] == 0
    assert result.publication_gaps == ()


def test_a_type_missing_from_a_whole_month_drops_that_months_total_crime(tmp_path: Path) -> None:
    """A missing crime type (not ASB) makes the month's total-crime incomplete, so it is left out too."""
    members = {}
    for month in _months("2020-01", 5):
        counts = {("Harborough 001A", "Burglary"): 30, ("Harborough 001A", "Drugs"): 20}
        if month == "2020-03":
            del counts[("Harborough 001A", "Drugs")]
        members[member(month)] = street_csv(month_rows(month, counts))
    result = import_police_uk(write_archive(tmp_path / "g.zip", members))
    assert result.publication_gaps == (("test", "2020-03", "drugs"),)
    assert ("harborough", "drugs", "2020-03") not in result.figures
    assert ("harborough", "total-crime", "2020-03") not in result.figures
    assert result.figures[("harborough", "burglary", "2020-03")] == 30


def test_a_missing_month_is_reported_and_never_filled(tmp_path: Path) -> None:
    """A month with no file between the first and last is missing: reported, no figures written."""
    archive = _simple_archive(tmp_path, ["2020-01", "2020-03"])
    result = import_police_uk(archive)
    assert result.missing_months == (("test", "2020-02"),)
    assert not any(key[2] == "2020-02" for key in result.figures)
    assert any("Missing months (not filled): test 2020-02" in line for line in result.summary())


def test_unallocated_rows_are_counted_and_assigned_to_no_area(tmp_path: Path) -> None:
    """Rows with no location are counted per month and in no area's figures."""
    result = import_police_uk(_simple_archive(tmp_path, ["2020-01"]))
    assert result.unallocated == {"2020-01": 2}
    assert result.figures[("harborough", "vehicle-crime", "2020-01")] == 0
    assert "" not in result.areas


def test_a_truncated_zip_is_a_clear_error(tmp_path: Path) -> None:
    """A cut-short download is reported as damaged, not as a traceback."""
    archive = _simple_archive(tmp_path, ["2020-01", "2020-02"])
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(FiguresError) as caught:
        import_police_uk(archive)
    assert "damaged or incomplete" in str(caught.value)
    assert str(archive) in str(caught.value)


def test_a_corrupt_member_is_a_clear_error(tmp_path: Path) -> None:
    """Bytes flipped inside a member are caught (by the CRC or the inflater) and named."""
    rows = month_rows("2020-01", {("Harborough 001A", "Burglary"): 3000})
    archive = tmp_path / "c.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as target:
        target.writestr(member("2020-01"), street_csv(rows))
    data = bytearray(archive.read_bytes())
    for offset in range(200, 260):
        data[offset] ^= 0x55
    archive.write_bytes(bytes(data))
    with pytest.raises(FiguresError) as caught:
        import_police_uk(archive)
    assert "damaged or incomplete" in str(caught.value)
    assert "2020-01-test-street.csv" in str(caught.value)


def test_a_wrong_header_says_what_the_file_should_be(tmp_path: Path) -> None:
    """A CSV that is not a street file (here an outcomes-like header) is refused at line 1."""
    path = tmp_path / "2020-01-test-street.csv"
    path.write_text("Crime ID,Month,Reported by,Falls within,LSOA name,Outcome type\nx,2020-01,a,b,c,d\n")
    with pytest.raises(FiguresError) as caught:
        import_police_uk(path)
    message = str(caught.value)
    assert f"{path}:1:1: not a police.uk street-level file" in message
    assert "'Crime type'" in message


def test_a_misspelt_header_column_gets_a_suggestion(tmp_path: Path) -> None:
    """A misspelt required column is named with the likely intended one."""
    path = tmp_path / "2020-01-test-street.csv"
    path.write_text(street_csv([]).decode().replace("Crime type", "Crime typ"))
    with pytest.raises(FiguresError) as caught:
        import_police_uk(path)
    assert "is 'Crime typ' for 'Crime type' a misspelling?" in str(caught.value)


def test_an_empty_file_is_an_error(tmp_path: Path) -> None:
    """A file of zero bytes (not even a header) is a failed download."""
    path = tmp_path / "2020-01-test-street.csv"
    path.write_bytes(b"")
    with pytest.raises(FiguresError, match="not even a header"):
        import_police_uk(path)


def _malformed_file(tmp_path: Path) -> Path:
    good = street_row("2020-01", "Harborough 001A", "Burglary")
    rows = [good, good,
            [*good, "extra"],                                          # line 4: 13 fields
            street_row("2020-13", "Harborough 001A", "Burglary"),       # line 5: not a month
            street_row("2020-02", "Harborough 001A", "Burglary"),       # line 6: another month
            street_row("2020-01", "Harborough 001A", "Burglarly"),      # line 7: unknown type
            street_row("2020-01", "Harborough", "Burglary"),            # line 8: no LSOA code
            good]
    path = tmp_path / "2020-01-test-street.csv"
    path.write_bytes(street_csv(rows))
    return path


@pytest.mark.parametrize("engine", ENGINES)
def test_malformed_rows_are_all_reported_with_file_and_line(tmp_path: Path, engine: str) -> None:
    """Every malformed row is reported at once, located, and nothing is written."""
    path = _malformed_file(tmp_path)
    out = tmp_path / "figures.csv"
    with pytest.raises(FiguresError) as caught:
        import_police_uk(path, out=out, engine=engine)
    lines = str(caught.value).splitlines()
    assert f"{path}:4:1: the row has 13 fields where the header has 12 (an unquoted comma in a location?)" in lines
    assert any(line.startswith(f"{path}:5:") and "'2020-13' is not a month" in line for line in lines)
    assert any(line.startswith(f"{path}:6:") and "does not match the file's month 2020-01" in line
               for line in lines)
    assert any(line.startswith(f"{path}:7:") and "did you mean 'Burglary'?" in line for line in lines)
    assert any(line.startswith(f"{path}:8:") and "does not end in an LSOA code" in line for line in lines)
    assert "5 malformed rows found: nothing was written" in lines[-1]
    assert not out.exists()
    assert os.listdir(tmp_path) == [path.name]


def test_skip_malformed_counts_the_good_rows_and_reports_the_rest(tmp_path: Path) -> None:
    """With skip_malformed the good rows are counted and each skipped row is a located warning."""
    result = import_police_uk(_malformed_file(tmp_path), skip_malformed=True)
    assert result.figures[("harborough", "burglary", "2020-01")] == 3
    assert result.rows_malformed == 5
    assert len(result.warnings) == 5
    assert all(w.severity == "warning" and w.message.startswith("skipped: ") for w in result.warnings)
    assert [w.line for w in result.warnings] == [4, 5, 6, 7, 8]


def test_bytes_that_are_not_utf8_are_a_located_row_problem(tmp_path: Path) -> None:
    """A row with bytes that are not UTF-8 is reported at its line."""
    path = tmp_path / "2020-01-test-street.csv"
    data = street_csv(month_rows("2020-01", {("Harborough 001A", "Burglary"): 2}))
    path.write_bytes(data.replace(b"Harborough 001A", b"Harb\xf6rough 001A", 1))
    with pytest.raises(FiguresError) as caught:
        import_police_uk(path)
    assert f"{path}:2:" in str(caught.value) and "not UTF-8" in str(caught.value)


# --- output ----------------------------------------------------------------------------------------


def test_the_output_is_the_long_figures_csv_with_a_flag_column(tmp_path: Path) -> None:
    """The written file is area,measure,period,value,flag,reason, one row per figure, sorted."""
    out = tmp_path / "figures.csv"
    result = import_police_uk(_simple_archive(tmp_path, ["2020-01"]), out=out)
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["area", "measure", "period", "value", "flag", "reason"]
    assert len(rows) == len(result.figures) == 2 * len(STANDARD_MEASURES)
    burglary = [r for r in rows if r["area"] == "blaby" and r["measure"] == "burglary"]
    assert burglary == [{"area": "blaby", "measure": "burglary", "period": "2020-01", "value": "20",
                         "flag": "", "reason": ""}]
    assert oct(out.stat().st_mode & 0o777) == "0o644"


def test_a_failure_while_writing_leaves_the_old_file_and_no_temporary(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Output is atomic: if writing fails half way, the previous figures file is untouched."""
    from csp_monitor.importers import figures_csv

    out = tmp_path / "figures.csv"
    out.write_text("area,measure,period,value\nold,old,2019-01,1\n")
    result = import_police_uk(_simple_archive(tmp_path, ["2020-01"]))
    real_text = figures_csv._text
    calls = {"n": 0}

    def failing(value: float) -> str:
        calls["n"] += 1
        if calls["n"] > 5:
            raise OSError(28, "No space left on device")
        return real_text(value)

    monkeypatch.setattr(figures_csv, "_text", failing)
    with pytest.raises(OutputError, match="the disk is full; nothing half-written was left"):
        result.write(out)
    assert out.read_text() == "area,measure,period,value\nold,old,2019-01,1\n"
    assert sorted(os.listdir(tmp_path)) == ["figures.csv", "street.zip"]


def test_the_figures_load_with_the_core_loader(tmp_path: Path) -> None:
    """The written CSV is read by csp_monitor's figures loader, suspect flags included."""
    from csp_monitor.load.figures import load_figures

    out = tmp_path / "figures.csv"
    result = import_police_uk(LEICESTERSHIRE_EXCERPT, lookup=LOOKUP_EXCERPT, out=out)
    figures = load_figures(out)
    assert len(figures) == len(result.figures)
    assert figures.series("harborough", "total-crime")[2020 * 12] == result.figures[
        ("harborough", "total-crime", "2020-01")]
    assert figures.suspect("harborough", "total-crime", 2020 * 12 + 2)


# --- speed paths give the same answer --------------------------------------------------------------


def test_parallel_and_sequential_imports_agree(tmp_path: Path) -> None:
    """Counting files in parallel gives exactly the sequential result."""
    archive = _simple_archive(tmp_path, _months("2020-01", 6))
    one = import_police_uk(archive, workers=1)
    two = import_police_uk(archive, workers=2)
    assert one.figures == two.figures and one.findings == two.findings


def test_progress_is_reported_up_to_the_total(tmp_path: Path) -> None:
    """The progress callback starts at 0 and ends at the total bytes."""
    seen: list[tuple[int, int]] = []
    import_police_uk(_simple_archive(tmp_path, _months("2020-01", 3)), progress=lambda d, t: seen.append((d, t)))
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1] > 0


_cell = st.text(st.characters(codec="utf-8", exclude_characters="\x00\r\n"), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(
    st.sampled_from(["Harborough 001A", "Blaby 010C", "", "Hinckley and Bosworth 003D"]),
    st.sampled_from(list(CRIME_TYPES)),
    _cell, st.booleans()), max_size=40),
    bom=st.booleans(), crlf=st.booleans())
def test_every_engine_counts_the_same(tmp_path: Path, rows: list[tuple[str, str, str, bool]], bom: bool,
                                      crlf: bool) -> None:
    """Fast, Arrow and checked counting agree on any rows, whatever the locations hold."""
    data = [street_row("2020-01", lsoa, kind, location=(f"On or near {text}, x" if comma else text))
            for lsoa, kind, text, comma in rows]
    path = tmp_path / "2020-01-prop-street.csv"
    path.write_bytes(street_csv(data, bom=bom, crlf=crlf))
    (file,), problems = find_street_files([path])
    assert problems == []
    results = {engine: count_street_file(file, engine) for engine in ENGINES}
    expected = Counter((lsoa.rsplit(" ", 1)[0].lower().replace(" ", "-") if lsoa else "", CRIME_TYPES[kind])
                       for lsoa, kind, _, _ in rows)
    for engine, counted in results.items():
        assert not counted.problems, (engine, counted.problems)
        assert counted.rows == len(rows)
        assert Counter({(d, s): n for (_, d, s), n in counted.counts.items()}) == expected, engine


@pytest.mark.parametrize("fast_inflate", [True, False])
def test_zip_members_read_the_same_with_or_without_isal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         fast_inflate: bool) -> None:
    """The ISA-L inflate path and zipfile's own give the same counts, and both catch a corrupt member."""
    from csp_monitor.importers import _street_files

    if not fast_inflate:
        monkeypatch.setattr(_street_files, "_fast_inflate", lambda: None)
    elif _street_files._fast_inflate() is None:
        pytest.skip("isal is not installed")
    archive = _simple_archive(tmp_path, _months("2020-01", 2))
    result = import_police_uk(archive, engine="python")
    assert result.figures[("harborough", "burglary", "2020-02")] == 20
    data = bytearray(archive.read_bytes())
    data[100] ^= 0xFF
    archive.write_bytes(bytes(data))
    with pytest.raises(FiguresError, match="damaged or incomplete"):
        import_police_uk(archive, engine="python")


def test_the_importers_package_exports_exactly_its_public_names() -> None:
    """csp_monitor.importers' __all__ is sorted, complete and every name resolves."""
    import csp_monitor.importers as importers

    public = sorted(name for name in vars(importers) if not name.startswith("_")
                    and not isinstance(getattr(importers, name), type(importers)) and name != "annotations")
    assert sorted(importers.__all__) == public
    assert importers.__all__ == sorted(importers.__all__, key=lambda n: (not n.isupper(), n))


def test_the_benchmarks_synthetic_national_year_imports_exactly(tmp_path: Path) -> None:
    """The benchmark's synthetic archive (police.uk's exact format) is read without a fault, every row counted."""
    import importlib.util
    import sys

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_police_uk_import.py"
    spec = importlib.util.spec_from_file_location("bench_police_uk_import", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench
    spec.loader.exec_module(bench)
    truth, written = bench.build(tmp_path, 20_000)
    result = import_police_uk(tmp_path / "national-street.zip", keep_outside_areas=True)
    assert result.rows_read == written == sum(truth.values())
    assert len(result.forces) == 43 and len(result.months) == 12
    by_type: Counter[str] = Counter()
    for (_, measure, _), value in result.figures.items():
        by_type[measure] += value
    unallocated = sum(result.unallocated.values())
    assert sum(by_type[CRIME_TYPES[name]] for name in truth) + unallocated == written


def test_an_output_folder_that_does_not_exist_fails_before_counting(tmp_path: Path) -> None:
    """A wrong --out is reported at once, not after minutes of counting."""
    seen: list[int] = []
    with pytest.raises(FiguresError, match="the folder for the output file does not exist"):
        import_police_uk(CITY_OF_LONDON, out=tmp_path / "no" / "figures.csv",
                         progress=lambda done, total: seen.append(done))
    assert seen == []
