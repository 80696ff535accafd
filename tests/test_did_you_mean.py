"""A "did you mean" is offered only for a near-typo, never to send a lead to another area or crime type."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csp_monitor import evaluate, load_figures, rules_from_text
from csp_monitor.errors import FiguresError
from csp_monitor.load.validation import closest
from csp_monitor.names import edit_distance, near_typo, typo_allowance

LEICESTERSHIRE = ["blaby", "charnwood", "harborough", "hinckley-and-bosworth", "leicester", "melton",
                  "north-west-leicestershire", "oadby-and-wigston"]
CRIME_TYPES = ["anti-social-behaviour", "bicycle-theft", "burglary", "criminal-damage-and-arson", "drugs",
               "other-theft", "possession-of-weapons", "public-order", "robbery", "shoplifting",
               "theft-from-the-person", "vehicle-crime", "violence-and-sexual-offences", "other-crime"]


@pytest.mark.parametrize(("word", "options"), [
    ("leicestershire", LEICESTERSHIRE),
    ("charnwood-borough", LEICESTERSHIRE),
    ("violent-crime", CRIME_TYPES),
    ("violent-crime", ["vehicle-crime"]),
])
def test_a_different_area_or_crime_type_is_never_suggested(word: str, options: list[str]) -> None:
    """leicestershire, charnwood-borough and violent-crime are other names, not typos: nothing is suggested."""
    assert near_typo(word, options) is None
    assert closest(word, options) is None


@pytest.mark.parametrize(("word", "options", "expected"), [
    ("harbrough", LEICESTERSHIRE, "harborough"),
    ("harborugh", LEICESTERSHIRE, "harborough"),
    ("Harborough", LEICESTERSHIRE, "harborough"),
    ("oadby_and_wigston", LEICESTERSHIRE, "oadby-and-wigston"),
    ("hinckley-and-bosworht", LEICESTERSHIRE, "hinckley-and-bosworth"),
    ("burglery", CRIME_TYPES, "burglary"),
    ("vehicle-crim", CRIME_TYPES, "vehicle-crime"),
    ("shopliftng", CRIME_TYPES, "shoplifting"),
])
def test_a_genuine_typo_is_suggested(word: str, options: list[str], expected: str) -> None:
    """A slip of a letter or two (or of case and separators) finds the name meant."""
    assert near_typo(word, options) == expected


def test_two_equally_near_names_are_not_guessed_between() -> None:
    """'melten' is one slip from both 'melton' and 'meltan': no suggestion, as either would be a guess."""
    assert near_typo("melten", ["melton", "meltan"]) is None


def test_the_allowance_grows_with_length_in_steps() -> None:
    """One slip up to 5 letters, two up to 12, three beyond: the definition of a near-typo."""
    assert [typo_allowance("x" * n) for n in (1, 5, 6, 12, 13, 40)] == [1, 1, 2, 2, 3, 3]
    assert near_typo("drgs", ["drugs"]) == "drugs"
    assert near_typo("drgz", ["drugs"]) is None  # two slips in a five-letter word


@given(st.text(alphabet=string.ascii_lowercase, min_size=6, max_size=20), st.data())
def test_one_slip_in_a_name_always_finds_it(name: str, data: st.DataObject) -> None:
    """Any name with one letter dropped, changed or added is suggested back, when it is the only option."""
    index = data.draw(st.integers(0, len(name) - 1))
    letter = data.draw(st.sampled_from(string.ascii_lowercase))
    slipped = data.draw(st.sampled_from([name[:index] + name[index + 1:], name[:index] + letter + name[index + 1:],
                                         name[:index] + letter + name[index:]]))
    assert near_typo(slipped, [name]) == name


@given(st.text(alphabet="abc", max_size=12), st.text(alphabet="abc", max_size=12))
def test_a_suggestion_is_never_further_than_the_allowance(word: str, option: str) -> None:
    """Whatever the words, a suggestion is within the allowance for the word, by edit distance."""
    found = near_typo(word, [option])
    if found is not None:
        assert edit_distance(word, found) <= typo_allowance(word)


def test_evaluate_lists_the_areas_instead_of_suggesting_another(tmp_path: Path) -> None:
    """Rules for 'leicestershire' against district figures: refused, listing the districts, not 'did you mean leicester'."""
    figures = tmp_path / "figures.csv"
    figures.write_text("area,measure,period,value\n" + "".join(
        f"{area},burglary,2022-0{month},{month}\n" for area in LEICESTERSHIRE for month in (1, 2, 3)))
    rules = rules_from_text("partnership: Leicestershire\narea: leicestershire\npriorities:\n  - id: p\n"
                            "    title: P\n    measures:\n      - {id: burglary, name: Burglary, better: lower, "
                            "target: {change: -5%}}\n", "rules.yaml")
    with pytest.raises(FiguresError) as caught:
        evaluate(rules, load_figures(figures), as_of="2022-03")
    message = str(caught.value)
    assert "the figures have nothing for the area 'leicestershire'" in message
    assert "the figures cover blaby, charnwood, harborough, hinckley-and-bosworth, leicester, melton" in message
    assert "did you mean" not in message


def test_the_police_uk_importer_suggests_only_a_near_crime_type() -> None:
    """An unknown crime type in a street file is matched only when it is a slip of a known one."""
    from csp_monitor.importers._street_counting import _crime_type_problem

    assert "did you mean" not in _crime_type_problem("Violent offending")
    assert _crime_type_problem("Vehicle crme").endswith("(did you mean 'Vehicle crime'?)")


def test_unread_figures_are_not_matched_to_another_crime_type(tmp_path: Path) -> None:
    """Figures for vehicle-crime beside rules for violent-crime: ignored, with no 'did you mean violent-crime'."""
    figures = tmp_path / "figures.csv"
    figures.write_text("area,measure,period,value\n" + "".join(
        f"leicester,{measure},2022-0{month},{month}\n" for measure in ("burglary", "vehicle-crime")
        for month in (1, 2, 3)))
    rules = rules_from_text("partnership: L\narea: leicester\npriorities:\n  - id: p\n    title: P\n    measures:\n"
                            "      - {id: violent-crime, name: V, better: lower}\n"
                            "      - {id: burglary, name: B, better: lower}\n", "rules.yaml")
    evaluation = evaluate(rules, load_figures(figures), as_of="2022-03")
    assert "figures for the measure 'vehicle-crime' are ignored: no rule reads it" in evaluation.warnings
    assert not any("did you mean" in warning for warning in evaluation.warnings)
