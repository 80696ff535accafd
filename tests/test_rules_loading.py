"""Loading rule files: the documented minimum, combining files, and every mistake located in plain English."""

from __future__ import annotations

from pathlib import Path

import pytest

from csp_monitor import RulesError, load_rules

MINIMUM = """\
partnership: Harborough District Community Safety Partnership
area: harborough            # optional: without it the rules apply to every area in the figures
year_starts: 2013-04        # the 12-month reporting year; April-March unless said otherwise
tolerance: 5                # default amber band (see semantics)
priorities:
  - id: serious-acquisitive-crime
    title: To reduce serious acquisitive crime
    owner: acquisitive.crime@example.org
    measures:
      - id: domestic-burglary
        name: Domestic Burglary
        better: lower       # lower | higher
        target: {change: -13%}
      - id: theft-from-motor-vehicle
        name: Theft From Motor Vehicle
        better: lower
        target: {change: -14%}
      - id: commercial-burglary
        name: Commercial Burglary OTD
        better: lower       # no target: monitored only
  - id: anti-social-behaviour
    title: To tackle anti-social behaviour
    measures:
      - id: user-satisfaction
        name: User Satisfaction
        better: higher
        aggregate: latest   # sum (default) | latest | mean
        target: {at_least: 85}
        tolerance: 2
"""


def write(tmp_path: Path, text: str, name: str = "rules.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str, name: str = "rules.yaml") -> list[str]:
    """The rendered problems of a rule file that must fail to load."""
    path = write(tmp_path, text, name)
    with pytest.raises(RulesError) as info:
        load_rules(path)
    return [str(p).replace(str(tmp_path) + "/", "") for p in info.value.problems]


def test_the_documented_minimum_loads_as_written(tmp_path: Path) -> None:
    """The issue's minimum rule file loads with the values it states."""
    rules = load_rules(write(tmp_path, MINIMUM))
    assert rules.area == "harborough"
    assert rules.year_start_month == 4
    assert rules.tolerance == 5
    burglary = rules.measure("domestic-burglary")
    assert burglary is not None and burglary[1].target is not None
    assert burglary[1].target.change == -13
    satisfaction = rules.measure("user-satisfaction")
    assert satisfaction is not None
    assert satisfaction[1].aggregate == "latest" and satisfaction[1].tolerance == 2
    assert rules.measure("commercial-burglary")[1].target is None  # type: ignore[index]
    assert len(rules.content_hash) == 64


def test_change_written_without_percent_sign(tmp_path: Path) -> None:
    """`change: -13` means the same as `change: -13%`."""
    rules = load_rules(write(tmp_path, MINIMUM.replace("-13%", "-13")))
    assert rules.measure("domestic-burglary")[1].target.change == -13  # type: ignore[index,union-attr]


def test_misspelt_key_suggests_the_right_one(tmp_path: Path) -> None:
    """An unknown key is reported at its own position with a did-you-mean."""
    text = MINIMUM.replace("        better: lower       # lower | higher", "        beter: lower")
    assert problems(tmp_path, text) == [
        "rules.yaml:10:9: 'better' is missing from this measure: is 'beter' on line 12 a misspelling of it?",
        "rules.yaml:12:9: unknown key 'beter' (did you mean 'better'?)",
    ]


def test_misspelt_value_suggests_the_right_one(tmp_path: Path) -> None:
    """A value outside the allowed set names the allowed values and the nearest."""
    text = MINIMUM.replace("aggregate: latest", "aggregate: lastest")
    assert problems(tmp_path, text) == [
        "rules.yaml:27:20: 'lastest' is not allowed for 'aggregate': use one of 'sum', 'latest', 'mean' "
        "(did you mean 'latest'?)",
    ]


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    """Three mistakes in one file give three located messages, in file order."""
    text = (MINIMUM.replace("tolerance: 5 ", "tolerance: -5")
            .replace("better: higher", "better: up")
            .replace("name: Theft From Motor Vehicle", "nam: Theft From Motor Vehicle"))
    found = problems(tmp_path, text)
    assert len(found) == 4
    assert found[0] == "rules.yaml:4:12: 'tolerance' must be at least 0, not '-5'"
    assert found[1].startswith("rules.yaml:14:9: 'name' is missing")
    assert found[2] == "rules.yaml:15:9: unknown key 'nam' (did you mean 'name'?)"
    assert found[3].startswith("rules.yaml:26:17: 'up' is not allowed for 'better'")


def test_ambiguous_positive_change_for_lower_is_better(tmp_path: Path) -> None:
    """`change: 13` on a lower-is-better measure is refused with both readings offered."""
    text = MINIMUM.replace("{change: -13%}", "{change: 13}")
    assert problems(tmp_path, text) == [
        "rules.yaml:13:26: a change of 13% would mean a rise of 13%, but lower is better for 'domestic-burglary': "
        "write -13% for a reduction, or +13% if a rise of up to 13% really is the target",
    ]


def test_explicit_plus_sign_is_accepted(tmp_path: Path) -> None:
    """`change: +5%` on a lower-is-better measure is a deliberate cap on a rise."""
    rules = load_rules(write(tmp_path, MINIMUM.replace("{change: -13%}", "{change: +5%}")))
    assert rules.measure("domestic-burglary")[1].target.change == 5  # type: ignore[index,union-attr]


@pytest.mark.parametrize(("snippet", "expected"), [
    ("x: &a [1]\ny: *a\n", "rules.yaml:1:4: YAML anchors (&name) are not allowed in csp-monitor files: write each value out in full"),
    ("partnership: !!python/object/apply:os.system ['true']\n",
     "rules.yaml:1:14: the YAML tag '!!python/object/apply:os.system' is not allowed: "
     "csp-monitor files hold plain values only"),
    ("partnership: A\npartnership: B\n",
     "rules.yaml:2:1: 'partnership' is given twice in the same place (first at line 1, column 1): remove one of them"),
    ("partnership: A\n\tpriorities: []\n",
     "rules.yaml:2:1: a tab is used for indentation here: YAML only allows spaces, so indent with spaces"),
    ("- a\n- b\n", "rules.yaml:1:1: a rule file must be a mapping of keys such as partnership: and priorities:, not a list or a value"),
    ("", "rules.yaml:1:1: this rule file is empty: start it with 'partnership:' and 'priorities:' "
         "(csp-monitor rules new writes a commented example)"),
    ("partnership: A\n\x01\n", "rules.yaml:2:1: this file contains a control character (code 0x01) that YAML does not allow: "
     "remove it, or save the file as plain text"),
])
def test_hostile_or_broken_yaml_is_refused(tmp_path: Path, snippet: str, expected: str) -> None:
    """Aliases, tags, duplicate keys, tabs, wrong shapes and control characters are refused, located."""
    assert problems(tmp_path, snippet)[0] == expected


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    """A billion-laughs file is refused at its first anchor, without expanding anything."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    found = problems(tmp_path, "\n".join(lines))
    assert "anchors" in found[0]


def test_huge_file_is_refused_unread(tmp_path: Path) -> None:
    """A file over the size limit is refused before parsing."""
    path = tmp_path / "big.yaml"
    path.write_bytes(b"# " + b"x" * (3 * 1024 * 1024))
    with pytest.raises(RulesError) as info:
        load_rules(path)
    assert "too large" in str(info.value)


@pytest.mark.parametrize("value", ["NO", "012", "1:30", "yes", "0x1F", "2013-04-01"])
def test_yaml_never_turns_words_into_booleans_or_numbers(tmp_path: Path, value: str) -> None:
    """`NO`, `012`, `1:30` reach the model as the text written, never as booleans or numbers."""
    text = MINIMUM.replace("name: Commercial Burglary OTD", f"name: {value}")
    rules = load_rules(write(tmp_path, text))
    assert rules.measure("commercial-burglary")[1].name == value  # type: ignore[index]


def test_bad_id_suggests_a_slug(tmp_path: Path) -> None:
    """An id with spaces or capitals is refused with a slug suggestion."""
    text = MINIMUM.replace("id: domestic-burglary", "id: Domestic Burglary")
    assert problems(tmp_path, text) == [
        "rules.yaml:10:13: 'Domestic Burglary' is not a valid id: use lower-case letters, digits and hyphens, "
        "for example 'domestic-burglary'",
    ]


def test_two_target_kinds_are_refused(tmp_path: Path) -> None:
    """A target with both change and at_least is refused at the target."""
    text = MINIMUM.replace("{at_least: 85}", "{at_least: 85, change: +1%}")
    found = problems(tmp_path, text)
    assert found == ["rules.yaml:28:17: a target has one kind only, but this one gives change and at_least: keep one"]


def test_target_written_as_a_bare_number_explains_the_forms(tmp_path: Path) -> None:
    """`target: -13%` is refused with the form it must have been meant as; `target: 85` with the forms it may be."""
    text = MINIMUM.replace("target: {change: -13%}", "target: -13%")
    assert problems(tmp_path, text) == [
        "rules.yaml:13:17: write the target as {change: -13%}: a change of -13% against the same months last year",
    ]
    text = MINIMUM.replace("target: {change: -13%}", "target: 85")
    assert problems(tmp_path, text) == [
        "rules.yaml:13:17: say what kind of target 85 is: {at_least: 85} or {at_most: 85} for a level, or "
        "{change: -85%} / {change: +85%} for a change against last year",
    ]


def test_percentage_level_target_out_of_range(tmp_path: Path) -> None:
    """A percentage measure's level target must be between 0 and 100."""
    text = MINIMUM.replace("aggregate: latest", "aggregate: latest\n        unit: percent").replace(
        "{at_least: 85}", "{at_least: 850}")
    assert problems(tmp_path, text) == [
        "rules.yaml:29:28: 'user-satisfaction' is a percentage, so its target must be between 0 and 100, not 850",
    ]


def test_duplicate_measure_ids_across_files(tmp_path: Path) -> None:
    """The same measure id in two files is reported at the second, naming the first."""
    first = write(tmp_path, MINIMUM, "a.yaml")
    second = write(tmp_path, "priorities:\n  - id: other\n    title: Other\n    measures:\n"
                             "      - {id: domestic-burglary, name: DB, better: lower}\n", "b.yaml")
    with pytest.raises(RulesError) as info:
        load_rules([first, second])
    assert [str(p).replace(str(tmp_path) + "/", "") for p in info.value.problems] == [
        "b.yaml:5:14: the measure id 'domestic-burglary' is already used in a.yaml at line 10: ids must be unique",
    ]


def test_contradictory_settings_across_files(tmp_path: Path) -> None:
    """Two files giving different default tolerances is an error at the second."""
    first = write(tmp_path, MINIMUM, "a.yaml")
    second = write(tmp_path, "tolerance: 3\n", "b.yaml")
    with pytest.raises(RulesError) as info:
        load_rules([first, second])
    message = str(info.value.problems[0])
    assert message.endswith("must agree, so give it once")
    assert "b.yaml:1:1: 'tolerance' is 3 here but 5 in" in message


def test_files_combine_into_one_rule_set(tmp_path: Path) -> None:
    """A defaults file and a priorities file combine; the defaults apply to every measure."""
    defaults = write(tmp_path, "partnership: Test\nyear_starts: 2013-04\ntolerance: 4\n", "defaults.yaml")
    priorities = write(tmp_path, "priorities:\n  - id: p\n    title: P\n    measures:\n"
                                 "      - {id: m, name: M, better: lower, target: {change: -1%}}\n", "p.yaml")
    rules = load_rules([defaults, priorities])
    priority, measure = rules.measure("m")  # type: ignore[misc]
    assert rules.tolerance_for(priority, measure) == 4
    assert rules.files == (str(defaults), str(priorities))


def test_problems_from_several_files_are_reported_together(tmp_path: Path) -> None:
    """Mistakes in two files are all reported in one error."""
    a = write(tmp_path, "partnership: A\nunknown: 1\n", "a.yaml")
    b = write(tmp_path, "priorities: {}\n", "b.yaml")
    with pytest.raises(RulesError) as info:
        load_rules([a, b])
    assert len(info.value.problems) == 2


def test_missing_file_is_a_plain_error(tmp_path: Path) -> None:
    """A rule file that does not exist is reported, not raised as OSError."""
    with pytest.raises(RulesError, match="no such file"):
        load_rules(tmp_path / "nope.yaml")


def test_cli_rules_check_reports_and_exits_1(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """`rules check` prints each problem as file:line:col, a count, and exits 1 without a traceback."""
    path = write(tmp_path, MINIMUM.replace("better: higher", "better: hihger"))
    out = cli("rules", "check", path)
    assert out.exit_code == 1
    assert f"{path}:26:17: 'hihger' is not allowed for 'better'" in out.stderr
    assert "(did you mean 'higher'?)" in out.stderr
    assert out.stderr.strip().endswith("1 problem found.")
    assert "Traceback" not in out.stderr


def test_cli_rules_check_ok(cli) -> None:  # type: ignore[no-untyped-def]
    """`rules check` on the shipped rules says what it found and exits 0."""
    from tests.conftest import HARBOROUGH_RULES

    out = cli("rules", "check", HARBOROUGH_RULES)
    assert out.exit_code == 0
    assert "6 priorities, 10 measures (6 with targets, 4 monitored)" in out.stdout
