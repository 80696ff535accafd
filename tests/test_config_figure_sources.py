"""Figures sources in the configuration: files and patterns as ever, drop folders and police.uk archives,
every mistake located at file:line:col with a did-you-mean."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator

from csp_monitor.authoring.schema import available_schemas, schema_for
from csp_monitor.errors import ConfigError, FiguresError
from csp_monitor.load.config import figure_files, load_config
from csp_monitor.load.figure_sources import load_sources
from csp_monitor.load.figures import load_figures
from csp_monitor.models.figure_sources import DropFolder, PoliceUkArchives
from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES


def _write(folder: Path, figures: str, name: str = "csp-monitor.yaml") -> Path:
    """A configuration in ``folder`` with the Harborough rules, a history file and the given figures: lines."""
    (folder / "rules.yaml").write_bytes(HARBOROUGH_RULES.read_bytes())
    (folder / "history.csv").write_bytes(HARBOROUGH_FIGURES.read_bytes())
    (folder / "incoming").mkdir(exist_ok=True)
    path = folder / name
    path.write_text(f"rules: rules.yaml\n{figures}state: state.db\n", encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [str(problem) for problem in caught.value.problems]


def test_plain_files_and_patterns_load_as_they_always_have(tmp_path: Path) -> None:
    """A list of strings is kept as strings, and reading the sources gives exactly the files' figures."""
    config = load_config(_write(tmp_path, "figures: [history.csv]\n"))
    assert config.figures == (str(tmp_path / "history.csv"),)
    assert figure_files(config) == [str(tmp_path / "history.csv")]
    loaded = load_sources(config)
    assert list(loaded.figures) == list(load_figures(tmp_path / "history.csv"))
    assert (loaded.dropped, loaded.revisions, loaded.notes) == ((), (), ())


def test_a_drop_folder_and_police_uk_archives_load_with_paths_beside_the_file(tmp_path: Path) -> None:
    """Both mappings load with their defaults, every path made absolute relative to the configuration."""
    (tmp_path / "lad17-csp17-pfa17.csv").write_text("LAD17CD,LAD17NM,CSP17CD,CSP17NM,PFA17CD,PFA17NM\n",
                                                    encoding="utf-8")
    config = load_config(_write(tmp_path, (
        "figures:\n"
        "  - history.csv\n"
        "  - {drop_folder: incoming/}\n"
        "  - {drop_folder: ./incoming/json, pattern: '*.json', watch_seconds: 60}\n"
        "  - {police_uk: archives/*.zip, lookup: lad17-csp17-pfa17.csv, skip_malformed: true}\n"
        "  - police_uk: [a.zip, extracted/]\n")))
    history, drop, json_drop, police, two = config.figures
    assert history == str(tmp_path / "history.csv")
    assert drop == DropFolder(drop_folder=str(tmp_path / "incoming"), pattern="*.csv", watch_seconds=300)
    assert json_drop == DropFolder(drop_folder=str(tmp_path / "incoming" / "json"), pattern="*.json",
                                   watch_seconds=60)
    assert police == PoliceUkArchives(police_uk=[str(tmp_path / "archives" / "*.zip")],
                                      lookup=str(tmp_path / "lad17-csp17-pfa17.csv"), skip_malformed=True)
    assert two == PoliceUkArchives(police_uk=[str(tmp_path / "a.zip"), str(tmp_path / "extracted")])
    assert figure_files(config) == [str(tmp_path / "history.csv")]  # the files and patterns only


def test_one_mapping_is_a_list_of_one_and_its_mistakes_keep_their_place(tmp_path: Path) -> None:
    """figures: {drop_folder: ...} works like a list of one; a problem found at run time points at the value."""
    path = _write(tmp_path, "figures: {drop_folder: no-such-folder}\n")
    config = load_config(path)
    assert config.figures == (DropFolder(drop_folder=str(tmp_path / "no-such-folder")),)
    with pytest.raises(FiguresError) as caught:
        load_sources(config)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:2:24: the drop folder {tmp_path / 'no-such-folder'} does not exist"]


def test_every_mistake_in_the_sources_is_reported_at_once_with_its_place(tmp_path: Path) -> None:
    """Misspelt keys (with did-you-mean), bad values, both kinds in one entry, folders in a pattern, a list."""
    path = _write(tmp_path, (
        "figures:\n"
        "  - history.csv\n"
        "  - {drop_foldr: incoming/}\n"
        "  - drop_folder: incoming/\n"
        "    patern: '*.csv'\n"
        "    watch_seconds: often\n"
        "  - {polce_uk: archives/*.zip, lookup: lookup.csv}\n"
        "  - {police_uk: archives/*.zip, skip_malformed: perhaps}\n"
        "  - {drop_folder: incoming/, police_uk: a.zip}\n"
        "  - {drop_folder: incoming/, pattern: 'sub/*.csv'}\n"
        "  - {drop_folder: incoming/, watch_seconds: 0}\n"
        "  - [a.csv, b.csv]\n"))
    assert _problems(path) == [
        f"{path}:4:5: 'drop_folder' is missing: is 'drop_foldr' on line 4 a misspelling of it?",
        f"{path}:4:6: unknown key 'drop_foldr' (did you mean 'drop_folder'?)",
        f"{path}:6:5: unknown key 'patern' (did you mean 'pattern'?)",
        f"{path}:7:20: 'watch_seconds' must be a number, not 'often'",
        f"{path}:8:5: 'police_uk' is missing: is 'polce_uk' on line 8 a misspelling of it?",
        f"{path}:8:6: unknown key 'polce_uk' (did you mean 'police_uk'?)",
        f"{path}:9:49: 'skip_malformed' must be true or false, not 'perhaps'",
        f"{path}:10:41: a figures source is a drop folder or police.uk archives, not both: make them two entries "
        "of the figures list",
        f"{path}:11:39: the pattern 'sub/*.csv' names folders: it matches file names inside the drop folder "
        "(such as *.csv); put the folder in drop_folder",
        f"{path}:12:45: 'watch_seconds' must be at least 1, not '0'",
        f"{path}:13:5: each entry of figures must be a file or pattern (figures/*.csv), a drop folder "
        "({drop_folder: incoming/}) or police.uk archives ({police_uk: archives/*.zip}), not a list",
    ]


def test_a_drop_folder_that_is_a_file_and_a_missing_lookup_are_found_when_the_file_is_read(tmp_path: Path) -> None:
    """What cannot change between runs is checked at load time, so the daemon refuses to start with it."""
    path = _write(tmp_path, "figures:\n  - {drop_folder: history.csv}\n"
                            "  - {police_uk: archives/, lookup: lad17.csv}\n")
    assert _problems(path) == [
        f"{path}:3:19: {tmp_path / 'history.csv'} is a file: a drop folder is a folder where figures files are left",
        f"{path}:4:36: the lookup file {tmp_path / 'lad17.csv'} does not exist",
    ]


def test_a_drop_folder_given_twice_is_refused(tmp_path: Path) -> None:
    """One folder, one entry: the daemon remembers what it picked up by folder."""
    path = _write(tmp_path, "figures:\n  - {drop_folder: incoming/}\n  - {drop_folder: ./incoming, pattern: '*.json'}\n")
    assert _problems(path) == [
        f"{path}:4:19: the drop folder {tmp_path / 'incoming'} is already given on line 3: give each folder once "
        "(its pattern picks the files)"]


def test_archives_that_are_not_there_are_located_at_run_time(tmp_path: Path) -> None:
    """A police.uk pattern matching nothing and a missing archive are each reported at their place."""
    path = _write(tmp_path, "figures:\n  - {police_uk: [archives/*.zip, missing.zip]}\n")
    with pytest.raises(FiguresError) as caught:
        load_sources(load_config(path))
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:3:18: no police.uk archive matches {tmp_path / 'archives' / '*.zip'}",
        f"{path}:3:34: the police.uk archive {tmp_path / 'missing.zip'} does not exist",
    ]


@pytest.mark.parametrize("snippet", [
    "figures: history.csv",
    "figures: [history.csv, {drop_folder: incoming/}]",
    "figures: {drop_folder: incoming/, pattern: '*.csv', watch_seconds: 60}",
    "figures: [{police_uk: archives/*.zip, lookup: lad17-csp17-pfa17.csv, skip_malformed: false}]",
    "figures: [{police_uk: [a.zip, b.zip]}]",
])
def test_the_config_schema_accepts_every_source(snippet: str) -> None:
    """Editors accept each form the loader accepts, typed as YAML reads it."""
    validator = Draft7Validator(_config_schema())
    data = yaml.safe_load(f"rules: rules.yaml\nstate: s.db\n{snippet}")
    assert [error.message for error in validator.iter_errors(data)] == []


@pytest.mark.parametrize("snippet", [
    "figures: [{drop_foldr: incoming/}]",
    "figures: [{police_uk: a.zip, patern: '*.csv'}]",
    "figures: [{drop_folder: incoming/, watch_seconds: often}]",
])
def test_the_config_schema_underlines_a_misspelt_source(snippet: str) -> None:
    """A misspelt key or a wrong value in a source is an error in the editor too."""
    validator = Draft7Validator(_config_schema())
    assert list(validator.iter_errors(yaml.safe_load(f"rules: rules.yaml\nstate: s.db\n{snippet}")))


def _config_schema() -> dict[str, object]:
    (found,) = [schema_for(spec, model) for spec, model in available_schemas() if spec.name == "config"]
    return found
