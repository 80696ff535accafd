"""Turn pydantic validation errors into located, plain-English problems.

Pydantic reports where an error is as a ``loc`` tuple of keys and indexes.
We map it back to the YAML key path (dropping pydantic's internal segments,
such as the names of union members and validator wrappers), look the path up
in the file's :class:`Positions`, and say what is wrong the way a partnership
lead would say it, with a "did you mean" for misspelt keys and values.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import difflib
import re
import types
import typing
from collections.abc import Iterator
from typing import Any, Literal, TypeVar, Union

from pydantic import BaseModel, RootModel, ValidationError

from csp_monitor.errors import Problem
from csp_monitor.load.yaml_source import Located, Positions
from csp_monitor.names import near_typo

__all__ = ["allowed_keys", "closest", "closest_word", "problems_from_validation", "validate_located", "what_is_at"]

M = TypeVar("M", bound=BaseModel)

_SURROGATE = re.compile("[\ud800-\udfff]")


def closest(word: str, options: typing.Iterable[str]) -> str | None:
    """The option ``word`` is a near-typo of, quoted, or None (see :func:`csp_monitor.names.near_typo`).

    Callers list the options instead when this is None: a suggestion on likeness
    alone would send a lead to another area or measure.
    """
    found = near_typo(word, options)
    return None if found is None else f"'{found}'"


def closest_word(word: str, options: typing.Iterable[str]) -> str | None:
    """The allowed key or value most like ``word``, quoted, or None.

    Keys and allowed values are csp-monitor's own small vocabulary, listed in
    the same message, so a looser likeness helps (``significant_rise`` ->
    ``significant_increase``) and cannot send anyone to another area or measure.
    """
    options = [o for o in options if isinstance(o, str)]
    matches = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if matches:
        return f"'{matches[0]}'"
    lowered = {o.lower(): o for o in options}
    return f"'{lowered[word.lower()]}'" if word.lower() in lowered else None


def validate_located(model: type[M], located: Located, *, context: dict[str, Any] | None = None
                     ) -> tuple[M | None, list[Problem]]:
    """Validate plain data into ``model``; return it, or every problem found."""
    # JSON may spell half a character ("\\ud800"): such text cannot be encoded, so refuse it where it is.
    unpaired = [located.positions.problem(path, "this text holds half of a character (an unpaired surrogate "
                                                "such as \\ud800), which is not valid Unicode: remove it",
                                          key=is_key)
                for path, is_key in _unpaired_surrogates(located.data, ())]
    if unpaired:
        return None, unpaired
    try:
        return model.model_validate(located.data, context=context), []
    except ValidationError as exc:
        return None, problems_from_validation(exc, model, located)


def repeated_ids(located: Located, kind: str,
                 lists: typing.Iterable[tuple[tuple[str | int, ...], Any]]) -> list[Problem]:
    """Ids used twice across ``lists`` (each a key path and the raw list found there) of data that did not
    validate: a model's own uniqueness check runs only once every field is valid, and the reader wants every
    problem in one run."""
    problems: list[Problem] = []
    first: dict[str, tuple[str | int, ...]] = {}
    for path, items in lists:
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            ident = item.get("id") if isinstance(item, dict) else None
            if not isinstance(ident, str):
                continue
            where = (*path, index, "id")
            if ident in first:
                line, _ = located.positions.locate(first[ident])
                problems.append(located.positions.problem(
                    where, f"the {kind} id '{ident}' is already used at line {line}: ids must be unique"))
            else:
                first[ident] = where
    return problems


def _unpaired_surrogates(node: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], bool]]:
    """The key paths of strings (values, or keys when the flag is set) that hold an unpaired surrogate."""
    if isinstance(node, str):
        if not node.isascii() and _SURROGATE.search(node):
            yield path, False
    elif isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and not key.isascii() and _SURROGATE.search(key):
                yield (*path, key), True
            yield from _unpaired_surrogates(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _unpaired_surrogates(value, (*path, index))


def problems_from_validation(exc: ValidationError, model: type[BaseModel], located: Located) -> list[Problem]:
    """One located :class:`Problem` per pydantic error."""
    problems: list[Problem] = []
    seen: set[tuple[Any, ...]] = set()
    for error in exc.errors(include_url=False):
        if _only_because_items_failed(error):
            continue
        path = _clean_path(error["loc"], located.positions, located.data)
        problem = _problem(error, path, model, located.positions)
        signature = (problem.line, problem.column, problem.message)
        if signature not in seen:
            seen.add(signature)
            problems.append(problem)
    return _link_misspellings(problems)


def _only_because_items_failed(error: Any) -> bool:
    """A tuple's "too short" counts only the items that validated: with items given, their errors say it all."""
    given = error.get("input")
    return (error["type"] == "too_short" and isinstance(given, list | tuple)
            and len(given) >= (error.get("ctx") or {}).get("min_length", 0) > 0)


def _link_misspellings(problems: list[Problem]) -> list[Problem]:
    """A missing key with a misspelt sibling (``beter`` for ``better``) says so, so the two read as one mistake."""
    misspelt = {(p.path[:-1], p.suggestion.strip("'")): p for p in problems
                if p.suggestion and p.message.startswith("unknown key ") and p.path}
    linked = []
    for problem in problems:
        if problem.path and problem.message.startswith(f"'{problem.path[-1]}' is missing"):
            typo = misspelt.get((problem.path[:-1], str(problem.path[-1])))
            if typo is not None:
                problem = dataclasses.replace(
                    problem, message=f"{problem.message.split(': ', 1)[0]}: is '{typo.path[-1]}' on line "
                                     f"{typo.line} a misspelling of it?")
        linked.append(problem)
    return linked


def _clean_path(loc: tuple[Any, ...], positions: Positions, data: Any) -> tuple[str | int, ...]:
    """Keep only the segments that are real keys or indexes of the data."""
    path: list[str | int] = []
    node = data
    for segment in loc:
        if isinstance(node, dict) and isinstance(segment, str) and segment in node:
            path.append(segment)
            node = node[segment]
        elif isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node):
            path.append(segment)
            node = node[segment]
        elif isinstance(node, dict) and isinstance(segment, str) and not _looks_internal(segment):
            # A missing or extra key: keep it so the message can name it.
            path.append(segment)
            node = None
        # Anything else is pydantic's own bookkeeping (union tags, wrappers).
    return tuple(path)


def _looks_internal(segment: str) -> bool:
    return (
        "[" in segment
        or segment[:1].isupper()
        or segment in {"function-after", "function-before", "function-wrap", "tagged-union"}
    )


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types behind Optional / Union / Annotated."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        found: list[Any] = []
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                found.extend(_unwrap(arg))
        return found
    return [annotation]


def _annotations_at(model: type[BaseModel], path: tuple[str | int, ...]) -> list[Any]:
    """The possible annotations of the value found at ``path`` inside ``model``."""
    current: list[Any] = [model]
    for segment in path:
        following: list[Any] = []
        for candidate in current:
            for concrete in _unwrap(_root_of(candidate)):
                origin = typing.get_origin(concrete)
                if isinstance(segment, int) and origin in (list, tuple, typing.Sequence):
                    args = typing.get_args(concrete)
                    if args:
                        following.append(args[0])
                elif isinstance(segment, str) and isinstance(concrete, type) and issubclass(concrete, BaseModel):
                    field = concrete.model_fields.get(segment)
                    if field is None:
                        for name, info in concrete.model_fields.items():
                            if info.alias == segment:
                                field = concrete.model_fields[name]
                    if field is not None:
                        following.append(field.annotation)
                elif isinstance(segment, str) and origin in (dict, collections.abc.Mapping):
                    args = typing.get_args(concrete)
                    if len(args) == 2:
                        following.append(args[1])
        current = following
    return current


def _root_of(annotation: Any) -> Any:
    """A RootModel stands for its ``root``: look through it."""
    if isinstance(annotation, type) and issubclass(annotation, RootModel):
        return annotation.model_fields["root"].annotation
    return annotation


def _allowed_keys(model: type[BaseModel], parent: tuple[str | int, ...]) -> list[str]:
    keys: list[str] = []
    for annotation in _annotations_at(model, parent):
        for concrete in _unwrap(annotation):
            if isinstance(concrete, type) and issubclass(concrete, BaseModel):
                for name, info in concrete.model_fields.items():
                    keys.append(info.alias or name)
    return keys


def _literal_options(model: type[BaseModel], path: tuple[str | int, ...]) -> list[str]:
    options: list[str] = []
    for annotation in _annotations_at(model, path):
        for concrete in _unwrap(annotation):
            if typing.get_origin(concrete) in (list, tuple):  # one value given where a list may be
                concrete = next(iter(_unwrap(typing.get_args(concrete)[0])), None)
            if typing.get_origin(concrete) is Literal:
                options.extend(str(arg) for arg in typing.get_args(concrete))
    return options


_SYNONYMS = {
    "down": "lower", "less": "lower", "decrease": "lower", "reduce": "lower", "reduction": "lower",
    "up": "higher", "more": "higher", "increase": "higher",
    "total": "sum", "add": "sum", "average": "mean", "last": "latest", "percentage": "percent",
}
"""Words leads write for an allowed value, offered as "did you mean" when spelling alone finds nothing."""


def allowed_keys(model: type[BaseModel], parent: tuple[str | int, ...]) -> list[str]:
    """The keys a mapping at ``parent`` inside ``model`` may have."""
    return _allowed_keys(model, parent)


def what_is_at(model: type[BaseModel], path: tuple[str | int, ...]) -> str | None:
    """``measure`` for the mapping at a measure's path: what a lead calls the thing there, if it is one model."""
    found = _model_at(model, path) if path else model
    return _words(found.__name__) if found is not None else None


def _words(class_name: str) -> str:
    """``RuleFile`` -> ``rule file``: a model's name as a lead would say it."""
    return " ".join(part.lower() for part in re.findall(r"[A-Z][a-z]*|[a-z]+", class_name)) or class_name


def _model_at(model: type[BaseModel], path: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The one model class expected at ``path``, if there is exactly one."""
    found = [concrete for annotation in _annotations_at(model, path) for concrete in _unwrap(annotation)
             if isinstance(concrete, type) and issubclass(concrete, BaseModel)]
    return found[0] if len(found) == 1 else None


def _from_this(model: type[BaseModel], parent: tuple[str | int, ...]) -> str:
    """`` from this measure`` (nothing at the top of the file or when the parent is unclear)."""
    if not parent:
        return ""
    found = _model_at(model, parent)
    return f" from this {_words(found.__name__)}" if found is not None else ""


def _in_a(model: type[BaseModel], parent: tuple[str | int, ...]) -> str:
    found = _model_at(model, parent) if parent else None
    return f" in a {_words(found.__name__)}" if found is not None else " here"


def _field_info(model: type[BaseModel], path: tuple[str | int, ...]) -> Any:
    parent = _model_at(model, path[:-1]) if path[:-1] else model
    if parent is None or not path or not isinstance(path[-1], str):
        return None
    for key, info in parent.model_fields.items():
        if path[-1] in (key, info.alias):
            return info
    return None


def _how_to_add(model: type[BaseModel], path: tuple[str | int, ...]) -> str:
    """``: add 'better: lower' or 'better: higher'``, or an example from the field's schema."""
    name = path[-1] if path else None
    options = _literal_options(model, path)
    if 1 < len(options) <= 3:
        return "add " + " or ".join(f"'{name}: {option}'" for option in options)
    example = _scalar_example(_field_info(model, path))
    if example is not None:
        return f"add it, for example '{name}: {example}'"
    return "it is required here"


def _scalar_example(info: Any) -> str | None:
    examples = getattr(info, "examples", None) or []
    if examples and isinstance(examples[0], (str, int, float)) and not isinstance(examples[0], bool):
        return str(examples[0])
    return None


def _belongs_under(model: type[BaseModel], parent: tuple[str | int, ...], key: str) -> str | None:
    """Where a key that is unknown here would be right: ``it belongs under 'target:'``."""
    here = _model_at(model, parent) if parent else model
    if here is None:
        return None
    for field_name, info in here.model_fields.items():
        for concrete in _unwrap(info.annotation):
            is_list = typing.get_origin(concrete) in (list, tuple)
            inner = _unwrap(typing.get_args(concrete)[0]) if is_list and typing.get_args(concrete) else [concrete]
            for candidate in inner:
                if not (isinstance(candidate, type) and issubclass(candidate, BaseModel)):
                    continue
                children = {child.alias or child_name: child for child_name, child in candidate.model_fields.items()}
                if key in children:
                    label = info.alias or field_name
                    if is_list:
                        return f"it belongs to each {_words(candidate.__name__)}, under '{label}:'"
                    example = _scalar_example(children[key]) or "..."
                    return f"it belongs under '{label}:', for example {label}: {{{key}: {example}}}"
    return None


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return f"'{value}'"


def _problem(error: Any, path: tuple[str | int, ...], model: type[BaseModel], positions: Positions) -> Problem:
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    name = path[-1] if path else None
    suggestion: str | None = None
    at_key = False
    locate_path = path

    if kind == "missing":
        locate_path = path[:-1]
        at_key = True
        message = f"'{name}' is missing{_from_this(model, path[:-1])}: {_how_to_add(model, path)}"
    elif kind == "extra_forbidden":
        at_key = True
        options = [k for k in _allowed_keys(model, path[:-1]) if k != name]
        suggestion = closest_word(str(name), options)
        message = f"unknown key '{name}'"
        home = None if suggestion else _belongs_under(model, path[:-1], str(name))
        if home:
            message += f"{_in_a(model, path[:-1])}: {home}"
        elif not suggestion and options:
            message += f": the keys allowed here are {', '.join(sorted(options))}"
    elif kind in {"literal_error", "enum"}:
        options = _literal_options(model, path)
        suggestion = closest_word(str(value), options)
        synonym = _SYNONYMS.get(str(value).strip().lower())
        if suggestion is None and synonym in options:
            suggestion = f"'{synonym}'"
        expected = ", ".join(f"'{o}'" for o in options) if options else ctx.get("expected", "")
        # An entry of a list (status: [rde]) is named by its list's key.
        label = path[-2] if isinstance(name, int) and len(path) > 1 else name
        message = f"{_describe(value)} is not allowed for '{label}': use one of {expected}"
    elif kind in {"float_parsing", "int_parsing", "float_type", "int_type", "decimal_parsing",
                  "int_from_float", "finite_number"}:
        message = f"'{name}' must be a number, not {_describe(value)}"
    elif kind in {"greater_than_equal", "greater_than"}:
        bound = ctx.get("ge", ctx.get("gt"))
        word = "at least" if kind == "greater_than_equal" else "more than"
        message = f"'{name}' must be {word} {bound}, not {_describe(value)}"
    elif kind in {"less_than_equal", "less_than"}:
        bound = ctx.get("le", ctx.get("lt"))
        word = "at most" if kind == "less_than_equal" else "less than"
        message = f"'{name}' must be {word} {bound}, not {_describe(value)}"
    elif kind == "bool_parsing" or kind == "bool_type":
        message = f"'{name}' must be true or false, not {_describe(value)}"
    elif kind in {"string_type", "str_type"}:
        message = f"'{name}' must be a single value (text), not {_describe(value)}"
    elif kind in {"list_type", "tuple_type"}:
        message = f"'{name}' must be a list (one entry per line, each starting with '- '), not {_describe(value)}"
    elif kind in {"dict_type", "model_type", "model_attributes_type"}:
        where = f"'{name}'" if name is not None and not isinstance(name, int) else "this entry"
        entry = _model_at(model, path) if isinstance(name, int) else None
        if entry is not None:
            keys = [f"{info.alias or key}:" for key, info in entry.model_fields.items() if info.is_required()]
            message = (f"each {_words(entry.__name__)} must be a mapping of keys such as {', '.join(keys)} "
                       f"(one per line), not {_describe(value)}")
        else:
            message = f"{where} must be a mapping of keys and values, not {_describe(value)}"
    elif kind in {"string_too_short", "too_short"}:
        message = f"'{name}' must not be empty"
    elif kind in {"string_too_long", "too_long"}:
        message = f"'{name}' is too long (at most {ctx.get('max_length')})"
    elif kind in {"value_error", "assertion_error"}:
        cause = ctx.get("error")
        message = str(cause if cause is not None else error.get("msg", "")).removeprefix("Value error, ")
        extra = getattr(cause, "at", None)
        if extra:
            locate_path = path = (*path, *extra)
            name = path[-1]
        if message.startswith("must ") and name is not None and not isinstance(name, int):
            message = f"'{name}' {message}"
    else:
        message = str(error.get("msg", "is not valid"))
        if name is not None:
            message = f"'{name}': {message}"
    if "[key]" in error["loc"]:  # a mapping's key itself is wrong (a list name, say): point at the key
        at_key = True
    line, column = positions.locate(locate_path, key=at_key)
    return Problem(message, file=positions.file, line=line, column=column, path=path, suggestion=suggestion)
