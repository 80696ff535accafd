"""Load a monitor configuration file, reporting every mistake at once as file:line:col.

Paths in the file are relative to the file itself, so a configuration and
its figures can be moved together; they are made absolute here. Glob
patterns for figures are kept as patterns and expanded at each run
(:func:`figure_files`), because the daemon runs for years and a new month's
file should be picked up without a restart; drop folders and police.uk
archives are read at each run too (:mod:`csp_monitor.load.figure_sources`).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from csp_monitor.arguments import check_path
from csp_monitor.errors import ArgumentError, ConfigError, Problem, shown_value
from csp_monitor.files import not_regular, read_regular
from csp_monitor.load.validation import closest, repeated_ids, validate_located
from csp_monitor.load.yaml_source import Located, Positions, YamlProblems, read_yaml_file
from csp_monitor.models.config import MonitorConfig, parse_mailbox
from csp_monitor.models.figure_sources import DropFolder, PoliceUkArchives

__all__ = [
    "PATH_FIELDS",
    "config_from_data",
    "config_problem",
    "figure_files",
    "load_config",
    "read_password",
    "summary_recipients",
]

PATH_FIELDS: tuple[tuple[str, ...], ...] = (
    ("rules", "*"),
    ("figures", "*"),
    ("figures", "*", "drop_folder"),
    ("figures", "*", "police_uk", "*"),
    ("figures", "*", "lookup"),
    ("state",),
    ("templates",),
    ("delivery", "folder"),
    ("delivery", "smtp", "password_file"),
    ("delivery", "smtp", "ca_file"),
)
"""Key paths whose values are file paths relative to the configuration ('*': every list item)."""

DEFAULT_FOLDER = "outbox"


def config_from_data(data: Mapping[str, Any], *, base: str | os.PathLike[str], source: str = "<config>"
                     ) -> MonitorConfig:
    """Build a :class:`MonitorConfig` from Python data shaped like a configuration file.

    The data gets exactly the checks a configuration file gets, every problem
    reported at once as a :class:`ConfigError` located by ``source`` and its key
    path (``<config>:delivery.smtp.port: ...``); relative paths are taken from
    the folder ``base``, as a file's are from its own folder.
    """
    from csp_monitor.load.rules import as_read

    folder = Path(check_path(base, argument="base"))
    if not isinstance(source, str):
        raise ArgumentError(f"source must be a name (a str), not {type(source).__name__}", argument="source")
    source = shown_value(source, most=200)
    if not isinstance(data, Mapping):
        raise ArgumentError(f"data must be a mapping shaped like a configuration file, not {type(data).__name__}",
                            argument="data")
    problems: list[Problem] = []
    plain = as_read(data, (), source, problems, what="a configuration file")
    if problems:
        raise ConfigError(problems)
    return _configuration(Located(plain, Positions(file=source)), source, folder.resolve())


def load_config(path: str | os.PathLike[str]) -> MonitorConfig:
    """Read and validate a configuration file; raise :class:`ConfigError` with every problem."""
    path = check_path(path)
    name = str(path)  # as the caller wrote it
    try:
        located = read_yaml_file(Path(path))
    except YamlProblems as exc:
        found = list(exc.problems)
        if exc.mended is not None and isinstance(exc.mended.data, dict):  # its other mistakes, in the same run
            found.extend(_explain(problem) for problem in validate_located(MonitorConfig, exc.mended)[1])
        raise ConfigError(found) from None
    if located.data is None:
        raise ConfigError([Problem("this configuration file is empty: it needs at least rules:, figures: and "
                                   "state:", file=name, line=1, column=1)])
    if not isinstance(located.data, dict):
        raise ConfigError([Problem("a configuration file must be a mapping of keys such as rules: and "
                                   "figures:, not a list or a value", file=name, line=1, column=1)])
    return _configuration(located, name, Path(path).resolve().parent)


def _configuration(located: Located, name: str, base: Path) -> MonitorConfig:
    """Validate what a file (or Python data) holds, make its paths absolute from ``base`` and check them."""
    model, problems = validate_located(MonitorConfig, located)
    if model is None:
        schedules = located.data.get("schedules") if isinstance(located.data, dict) else None
        problems = [*problems, *repeated_ids(located, "schedule", [(("schedules",), schedules)])]
        raise ConfigError([_explain(problem) for problem in problems])
    data = _absolute(located.data, base)
    if data.get("delivery") is None:
        data["delivery"] = {}
    delivery = data["delivery"]
    if delivery.get("smtp") is None and delivery.get("folder") is None:
        delivery["folder"] = str(base / DEFAULT_FOLDER)  # the embedded default: no mail server needed
    config = MonitorConfig.model_validate(data)
    config._file = name
    config._positions = _as_lists(located, ("rules", "figures"))
    problems = _check_files(config, located.positions)
    if problems:
        raise ConfigError(problems)
    return config


_MAX_PASSWORD_FILE_BYTES = 64 * 1024
"""A password file holds one line; more than this is not a password file."""

_NO_PASSWORD = (
    "a password is never written in the configuration file: put it in an environment variable and name it "
    "with password_env, or in a file readable only by the service and name it with password_file")


def _explain(problem: Problem) -> Problem:
    """Say why a ``password:`` key is refused, not just that it is unknown."""
    if problem.path[-1:] == ("password",) and problem.message.startswith("unknown key"):
        return Problem(_NO_PASSWORD, file=problem.file, line=problem.line, column=problem.column,
                       path=problem.path)
    return problem


def _absolute(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """A copy of the plain data with every path field made absolute."""
    result: dict[str, Any] = _copy(data)
    for key_path in PATH_FIELDS:
        _resolve(result, key_path, base)
    return result


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _resolve(node: Any, key_path: Sequence[str], base: Path) -> None:
    key, rest = key_path[0], key_path[1:]
    if not isinstance(node, dict) or key not in node or node[key] is None:
        return
    if rest and rest[0] == "*":
        if isinstance(node[key], (str, dict)):
            node[key] = [node[key]]
        if rest[1:]:
            for item in node[key]:
                _resolve(item, rest[1:], base)
        else:
            node[key] = [_join(base, item) if isinstance(item, str) else item for item in node[key]]
    elif rest:
        _resolve(node[key], rest, base)
    elif isinstance(node[key], str) and not (key == "state" and "://" in node[key]):
        node[key] = _join(base, node[key])


def _join(base: Path, text: str) -> str:
    expanded = os.path.expanduser(text.strip())
    return os.path.normpath(expanded if os.path.isabs(expanded) else os.path.join(base, expanded))


def _as_lists(located: Located, keys: Sequence[str]) -> Positions:
    """Positions in which a list written as one value (``figures: incoming.csv``) is also item 0."""
    positions = located.positions
    single = [key for key in keys if isinstance(located.data, dict) and key in located.data
              and not isinstance(located.data[key], list)]
    if not single:
        return positions
    values, keys_at = dict(positions.values), dict(positions.keys)
    for table in (values, keys_at):
        for path, place in list(table.items()):
            if path and path[0] in single and (len(path) > 1 or table is values):
                table.setdefault((path[0], 0, *path[1:]), place)
    return Positions(positions.file, values, keys_at)


def config_problem(config: MonitorConfig, key_path: tuple[str | int, ...], message: str, *,
                   suggestion: str | None = None) -> Problem:
    """A problem located at a key of the configuration file (for checks made after loading)."""
    positions: Positions | None = getattr(config, "_positions", None)
    if positions is None:
        return Problem(message, file=config.file, path=key_path, suggestion=suggestion)
    return positions.problem(key_path, message, suggestion=suggestion)


def _missing(what: str, path: str) -> str:
    """Why a file named in the configuration cannot be used: it does not exist, or it is a pipe, device..."""
    try:
        kind = not_regular(path)
    except OSError:
        return f"{what} {path} does not exist"
    return f"{what} {path} is {kind}, not a file: name a regular file"


def _check_files(config: MonitorConfig, positions: Positions) -> list[Problem]:
    problems: list[Problem] = []
    for index, rule_file in enumerate(config.rules):
        if not os.path.isfile(rule_file):
            problems.append(positions.problem(("rules", index), _missing("the rule file", rule_file)))
    if config.templates is not None and not os.path.isdir(config.templates):
        problems.append(positions.problem(("templates",), f"the templates folder {config.templates} does not exist"))
    smtp = config.delivery.smtp
    if smtp is not None and smtp.ca_file is not None and not os.path.isfile(smtp.ca_file):
        problems.append(positions.problem(("delivery", "smtp", "ca_file"),
                                          _missing("the certificate file", smtp.ca_file)))
    folders: dict[str, int] = {}
    for index, source in enumerate(config.figures):
        if isinstance(source, DropFolder) and source.drop_folder in folders:
            line, _ = positions.locate(("figures", folders[source.drop_folder]))
            problems.append(positions.problem(("figures", index, "drop_folder"),
                                              f"the drop folder {source.drop_folder} is already given on line {line}: "
                                              "give each folder once (its pattern picks the files)"))
        elif isinstance(source, DropFolder):
            folders[source.drop_folder] = index
        if isinstance(source, DropFolder) and os.path.isfile(source.drop_folder):
            problems.append(positions.problem(("figures", index, "drop_folder"),
                                              f"{source.drop_folder} is a file: a drop folder is a folder where "
                                              "figures files are left"))
        if isinstance(source, PoliceUkArchives) and source.lookup is not None and not os.path.isfile(source.lookup):
            problems.append(positions.problem(("figures", index, "lookup"),
                                              f"the lookup file {source.lookup} does not exist"))
    if not config.state_is_url and os.path.isdir(config.state):
        problems.append(positions.problem(("state",), f"{config.state} is a folder: name a file such as "
                                          "csp-monitor.db"))
    return problems


def figure_files(config: MonitorConfig) -> list[str]:
    """The figures files the configuration names now (patterns expanded, sorted, each once).

    Only the entries written as files or patterns: drop folders and police.uk
    archives are read by :func:`csp_monitor.load.figure_sources.load_sources`.
    """
    files: list[str] = []
    problems: list[Problem] = []
    for index, pattern in enumerate(config.figures):
        if not isinstance(pattern, str):
            continue
        if glob.has_magic(pattern):
            matches = sorted(p for p in glob.glob(pattern) if os.path.isfile(p))
            if not matches:
                problems.append(config_problem(config, ("figures", index),
                                               f"no figures file matches {pattern}"))
        elif os.path.isfile(pattern):
            matches = [pattern]
        else:
            problems.append(config_problem(config, ("figures", index), f"the figures file {pattern} does not exist"))
            matches = []
        files.extend(match for match in matches if match not in files)
    if problems:
        raise ConfigError(problems)
    return files


def summary_recipients(config: MonitorConfig, recipients: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """The addresses the summary goes to: list names resolved against the rules' ``recipients``."""
    if config.summary is None:
        return ()
    addresses: list[str] = []
    problems: list[Problem] = []
    for index, name in enumerate(config.summary.to):
        if "@" in name:
            try:
                parse_mailbox(name)
            except ValueError as exc:
                problems.append(config_problem(config, ("summary", "to", index), str(exc)))
                continue
            found = [name]
        elif name in recipients:
            found = list(recipients[name])
        else:
            known = sorted(recipients)
            message = f"the summary goes to '{name}', but the rules name no recipients list '{name}'"
            if not known:
                message += ": add recipients: {" + name + ": [someone@example.org]} to a rule file"
            elif not closest(name, known):
                message += f"; the lists are {', '.join(known)}"
            problems.append(config_problem(config, ("summary", "to", index), message,
                                           suggestion=closest(name, known)))
            continue
        for address in found:
            if address.lower() not in {a.lower() for a in addresses}:
                addresses.append(address)
    if problems:
        raise ConfigError(problems)
    return tuple(addresses)


def read_password(config: MonitorConfig) -> str | None:
    """The SMTP password from the environment or the secret file; never logged, never stored."""
    smtp = config.delivery.smtp
    if smtp is None or smtp.username is None:
        return None
    if smtp.password_env is not None:
        value = os.environ.get(smtp.password_env)
        if not value:
            raise ConfigError([config_problem(
                config, ("delivery", "smtp", "password_env"),
                f"the environment variable {smtp.password_env} is not set, so there is no SMTP password")])
        return value
    assert smtp.password_file is not None
    try:
        # A password is a line; a bounded read of a regular file refuses /dev/zero and pipes.
        raw = read_regular(smtp.password_file, _MAX_PASSWORD_FILE_BYTES)
        first = raw.decode("utf-8").splitlines()[0] if raw else ""
    except OSError as exc:
        raise ConfigError([config_problem(config, ("delivery", "smtp", "password_file"),
                                          f"the password file cannot be read: {exc.strerror}")]) from None
    except UnicodeDecodeError:
        raise ConfigError([config_problem(config, ("delivery", "smtp", "password_file"),
                                          "the password file is not UTF-8 text")]) from None
    if not first:
        raise ConfigError([config_problem(config, ("delivery", "smtp", "password_file"),
                                          "the password file is empty")])
    return first
