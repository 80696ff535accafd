"""``csp-monitor rules test``: run rule unit tests written in YAML."""

from __future__ import annotations

import click

__all__ = ["test"]


@click.command()
@click.argument("tests", nargs=-1, required=True, type=click.Path())
@click.option("--junit", "junit", type=click.Path(dir_okay=False, writable=True),
              help="Also write the results as JUnit XML to this file, for CI systems.")
def test(tests: tuple[str, ...], junit: str | None) -> None:
    """Run the rule tests in TESTS: files such as rules/harborough-2013-14.test.yaml, or folders
    (every *.test.yaml in them).

    Each test gives figures, an as-of month and the results and alerts the
    rules must produce. Exit code 0 when every test passes, 1 otherwise.

    \b
    Example:
      csp-monitor rules test rules/harborough-2013-14.test.yaml
    """
    from csp_monitor.authoring.rule_tests import format_reports, run_rule_tests
    from csp_monitor.cli.options import refuse_overwriting_inputs

    files = _test_files(tests)
    refuse_overwriting_inputs(junit, files, option="--junit")
    reports = run_rule_tests(files)
    click.echo(format_reports(reports), nl=False)
    if junit is not None:
        from csp_monitor.authoring.junit import junit_xml
        from csp_monitor.files import write_text_atomically

        try:
            write_text_atomically(junit, junit_xml(reports))
        except OSError as exc:
            raise click.FileError(junit, hint=exc.strerror or str(exc)) from None
    if not all(report.passed for report in reports):
        raise click.exceptions.Exit(1)


def _test_files(paths: tuple[str, ...]) -> list[str]:
    """The files named, with each folder replaced by the rule test files in it (sorted)."""
    from pathlib import Path

    files: list[str] = []
    for path in paths:
        if Path(path).is_dir():
            found = sorted(str(p) for pattern in ("*.test.yaml", "*.test.yml") for p in Path(path).rglob(pattern))
            if not found:
                raise click.UsageError(f"there are no rule test files (*.test.yaml) in {path}")
            files.extend(found)
        else:
            files.append(path)
    return files
