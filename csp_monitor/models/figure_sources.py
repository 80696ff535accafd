"""Where a monitor configuration's figures come from: files and patterns, drop folders, police.uk archives.

An entry of ``figures:`` is one of::

    figures:
      - history/*.csv                            # a file, or a pattern (expanded at every run)
      - {drop_folder: incoming/, pattern: "*.csv", watch_seconds: 300}
      - {police_uk: archives/*.zip, lookup: lad17-csp17-pfa17.csv, skip_malformed: false}

A **drop folder** is where partners leave new figures files. Every matching
file is read at each run, in the order the files arrived (oldest first, by
modification time), and a later file may *revise* a figure an earlier one
gave (figures are revised, sometimes late). The daemon watches it and runs
the alerts job when a new or changed file is complete.

**police.uk archives** (zips, folders of them, or street CSVs) are counted in
memory at each run by :func:`csp_monitor.importers.import_police_uk`, suspect
figures included, so the daemon judges straight from the archives.

Which kind an entry is, is told by its keys (text is a file or pattern), so
a misspelt key is reported against the kind it was meant to be.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    GetJsonSchemaHandler,
    Tag,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from csp_monitor.models.rules import KeyedValueError

__all__ = [
    "DEFAULT_DROP_PATTERN",
    "DEFAULT_WATCH_SECONDS",
    "DropFolder",
    "FigureSource",
    "FigureSources",
    "PoliceUkArchives",
    "source_kind",
]

DEFAULT_DROP_PATTERN = "*.csv"
DEFAULT_WATCH_SECONDS = 300
_MAX_WATCH_SECONDS = 24 * 3600


def _whole_number(value: object) -> object:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


WatchSeconds = Annotated[int, Field(ge=1, le=_MAX_WATCH_SECONDS), BeforeValidator(_whole_number)]


def _as_list(value: object) -> object:
    """A single value where a list is expected means a list of one."""
    return [value] if isinstance(value, (str, dict)) else value


class _OneOrList:
    """In the JSON Schema, a list that may also be written as one of its items (as the loader accepts)."""

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
                                     ) -> JsonSchemaValue:
        schema = handler(core_schema)
        return {"anyOf": [schema["items"], schema]}


Paths = Annotated[tuple[Annotated[str, Field(min_length=1)], ...], Field(min_length=1), BeforeValidator(_as_list),
                  _OneOrList()]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DropFolder(_Model):
    """A folder where partners drop new figures files; the daemon watches it."""

    drop_folder: str = Field(
        min_length=1,
        description="The folder, relative to this file. Every file in it that matches 'pattern' is read at each "
                    "run, oldest first; a later file revises the figures an earlier one gave.",
        examples=["incoming/"])
    pattern: str = Field(
        default=DEFAULT_DROP_PATTERN, min_length=1,
        description="Which file names in the folder are figures (a pattern such as *.csv, no folders). "
                    "Hidden files and Office lock files (~$...) are never read.",
        examples=["*.csv"])
    watch_seconds: WatchSeconds = Field(
        default=DEFAULT_WATCH_SECONDS,
        description="How often the daemon looks in the folder for new or changed files, in seconds. A file is "
                    "picked up once it is unchanged between two looks and can be read.",
        examples=[300])

    @model_validator(mode="before")
    @classmethod
    def _one_kind(cls, data: Any) -> Any:
        if isinstance(data, dict) and "police_uk" in data:
            raise KeyedValueError("a figures source is a drop folder or police.uk archives, not both: make them two "
                                  "entries of the figures list", at=("police_uk",))
        return data

    @field_validator("pattern")
    @classmethod
    def _file_names_only(cls, value: str) -> str:
        value = value.strip()
        if "/" in value or "\\" in value:
            raise ValueError(f"the pattern '{value}' names folders: it matches file names inside the drop folder "
                             "(such as *.csv); put the folder in drop_folder")
        return value


class PoliceUkArchives(_Model):
    """police.uk street-level archives, counted into figures in memory at each run."""

    police_uk: Paths = Field(
        description="The archives: zip files, folders of archives or of YYYY-MM folders, street CSVs, or "
                    "patterns such as archives/*.zip, relative to this file.",
        examples=["archives/*.zip"])
    lookup: str | None = Field(
        default=None, min_length=1,
        description="The ONS LAD17-CSP17-PFA17 lookup (relative to this file): count per Community Safety "
                    "Partnership instead of per district.",
        examples=["lad17-csp17-pfa17.csv"])
    skip_malformed: bool = Field(
        default=False,
        description="Skip malformed rows (each is logged as a warning) instead of failing the run.",
        examples=[False])


def _one_entry(value: object) -> object:
    if isinstance(value, (str, dict, DropFolder, PoliceUkArchives)):
        return value
    raise ValueError("each entry of figures must be a file or pattern (figures/*.csv), a drop folder "
                     "({drop_folder: incoming/}) or police.uk archives ({police_uk: archives/*.zip}), "
                     f"not {'a list' if isinstance(value, list) else repr(value)}")


_KIND_KEYS = {"drop_folder": "DropFolder", "police_uk": "PoliceUk"}
_POLICE_ONLY = {"lookup", "skip_malformed"}
_DROP_ONLY = {"pattern", "watch_seconds"}


def source_kind(value: Any) -> str | None:
    """Which kind of figures source an entry is: File, DropFolder or PoliceUk (by its keys); None if none."""
    if isinstance(value, DropFolder):
        return "DropFolder"
    if isinstance(value, PoliceUkArchives):
        return "PoliceUk"
    if isinstance(value, str):
        return "File"
    if not isinstance(value, dict):
        return None
    keys = [key for key in value if isinstance(key, str)]
    for key in keys:
        if key in _KIND_KEYS:
            return _KIND_KEYS[key]
    for key in keys:  # a misspelt kind key: judge it by the key it is nearest
        near = difflib.get_close_matches(key, list(_KIND_KEYS), n=1, cutoff=0.6)
        if near:
            return _KIND_KEYS[near[0]]
    if _POLICE_ONLY & set(keys) and not _DROP_ONLY & set(keys):
        return "PoliceUk"
    return "DropFolder"


FigureSource = Annotated[
    Annotated[str, Tag("File")] | Annotated[DropFolder, Tag("DropFolder")]
    | Annotated[PoliceUkArchives, Tag("PoliceUk")],
    Discriminator(source_kind),
    BeforeValidator(_one_entry),
]
"""One entry of ``figures:``: a file or pattern (text), a drop folder, or police.uk archives."""

FigureSources = Annotated[tuple[FigureSource, ...], BeforeValidator(_as_list), _OneOrList()]
"""The ``figures:`` list, which may be written as one entry."""
