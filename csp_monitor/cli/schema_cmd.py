"""``csp-monitor schema``: the JSON Schemas editors use to check rule and config files as you type."""

from __future__ import annotations

import click

__all__ = ["schema"]


@click.command()
@click.argument("name", required=False)
@click.option("--write", "folder", type=click.Path(file_okay=False),
              help="Write every schema into this folder (as NAME.schema.json) instead of printing one.")
def schema(name: str | None, folder: str | None) -> None:
    """Print the JSON Schema NAME (default: rules), or write them all with --write.

    Point an editor at a schema with a first line such as
    '# yaml-language-server: $schema=../docs/schema/rules.schema.json'
    and it will complete keys and underline mistakes as you type.

    \b
    Examples:
      csp-monitor schema rules
      csp-monitor schema --write docs/schema
    """
    from csp_monitor.authoring.schema import (
        available_schemas,
        schema_for,
        schema_text,
        write_schemas,
    )

    if folder is not None:
        if name is not None:
            raise click.UsageError("give a schema name or --write FOLDER, not both")
        try:
            written = write_schemas(folder)
        except OSError as exc:
            raise click.FileError(folder, hint=exc.strerror or str(exc)) from None
        for path in written:
            click.echo(f"wrote {path}")
        return
    schemas = {spec.name: (spec, model) for spec, model in available_schemas()}
    wanted = name or "rules"
    if wanted not in schemas:
        raise click.BadParameter(f"'{wanted}' is not a schema: choose from {', '.join(schemas)}",
                                 param_hint="NAME")
    spec, model = schemas[wanted]
    click.echo(schema_text(schema_for(spec, model)), nl=False)
