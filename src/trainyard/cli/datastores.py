"""``trainyard datastore create|list|show|delete``: named storage locations for data assets."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from trainyard.cli.models import OutputOpt, _ws
from trainyard.cli.output import Format, console, fmt_time, print_json, table

app = typer.Typer(
    help="Datastores: named storage locations (a folder, s3://, gs://, az://) that data lives on.",
    no_args_is_help=True,
)
YAML_KEYS = ("$schema", "name", "type", "url", "endpoint", "credentials", "description")


def _from_yaml(file: Path) -> dict[str, Any]:
    """The fields of a datastore YAML (Azure's top-level keys; ``url`` for where it is)."""
    import yaml

    from trainyard.errors import InvalidInputError
    from trainyard.store.datastores import datastore_type

    try:
        spec = yaml.safe_load(file.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInputError(f"cannot read the datastore file {file}: {exc}") from None
    if not isinstance(spec, dict):
        raise InvalidInputError(f"{file}: a datastore file is a mapping (name:, url:, credentials:)")
    unknown = sorted(set(spec) - set(YAML_KEYS))
    if unknown:
        raise InvalidInputError(
            f"{file}: unknown key(s) {', '.join(unknown)}; a datastore has {', '.join(YAML_KEYS)}"
        )
    if not isinstance(spec.get("credentials") or {}, dict):
        raise InvalidInputError(f"{file}: credentials is a mapping of option: ENV_VARIABLE")
    if spec.get("type") and spec.get("url") and datastore_type(str(spec["url"])) != spec["type"]:
        raise InvalidInputError(f"{file}: type {spec['type']!r} does not match the url {spec['url']!r}")
    return {
        "name": spec.get("name"),
        "url": spec.get("url"),
        "endpoint": spec.get("endpoint"),
        "credentials": {str(k): str(v) for k, v in (spec.get("credentials") or {}).items()},
        "description": spec.get("description"),
    }


def _shown(record: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(record)


@app.command("create")
def create(
    name_arg: str = typer.Argument(None, metavar="[NAME]", help="The datastore's name (or --name)."),
    name: str = typer.Option(None, "--name", "-n", help="The datastore's name."),
    url: str = typer.Option(None, "--url", help="s3://bucket/prefix, gs://…, az://container/…, or a folder."),
    credential: list[str] = typer.Option(
        [],
        "--credential",
        "-c",
        help="OPTION=ENV_VAR (key=MY_KEY), or a known variable (AWS_ACCESS_KEY_ID); repeatable. "
        "Only the variable's name is stored.",
    ),
    endpoint: str = typer.Option(
        None, "--endpoint", help="An S3-compatible service, e.g. http://minio:9000."
    ),
    description: str = typer.Option(None, help="A line about it."),
    file: Path = typer.Option(None, "--file", "-f", help="A datastore YAML (name, url, credentials…)."),
) -> None:
    """Name a storage location; data assets can then live on it (data create --datastore NAME)."""
    from trainyard.data.datastores import credential_pairs
    from trainyard.errors import InvalidInputError

    fields: dict[str, Any] = _from_yaml(file) if file is not None else {"credentials": {}}
    given = {"name": name or name_arg, "url": url, "endpoint": endpoint, "description": description}
    fields.update({k: v for k, v in given.items() if v is not None})
    fields["credentials"] = {**fields["credentials"], **credential_pairs(credential)}
    if not fields.get("name") or not fields.get("url"):
        raise InvalidInputError(
            "datastore create needs a name and a URL: NAME --url s3://bucket/prefix (or -f FILE)"
        )
    record = _ws().store.create_datastore(fields.pop("name"), **fields)
    console.print(f"datastore [bold]{record.name}[/] ({record.type}: {record.url})")
    for option, variable in record.credentials.items():
        if variable not in os.environ:
            console.print(
                f"note: {variable} (its {option}) is not set here; set it wherever the datastore is used"
            )


@app.command("list")
def list_datastores(output: Format = OutputOpt) -> None:
    """Every datastore, the built-in workspaceblobstore first."""
    from trainyard.data.datastores import list_datastores as every

    found = every(_ws())
    if output == Format.json:
        print_json([_shown(d) for d in found])
        return
    rows = [
        [d.name, d.type, d.url, ", ".join(d.credentials.values()) or "-", fmt_time(d.created_at)]
        for d in found
    ]
    console.print(table(None, ["name", "type", "url", "credential variables", "created"], rows))


@app.command("show")
def show(name: str = typer.Argument(..., help="The datastore's name."), output: Format = OutputOpt) -> None:
    """One datastore: its URL, endpoint and the variables its credentials are read from."""
    from trainyard.data.datastores import get_datastore

    record = get_datastore(_ws(), name)
    if output == Format.json:
        print_json(_shown(record))
        return
    rows = [["name", record.name], ["type", record.type], ["url", record.url]]
    if record.endpoint:
        rows.append(["endpoint", record.endpoint])
    rows += [
        [f"credential {k}", f"${v} ({'set' if v in os.environ else 'not set'} here)"]
        for k, v in record.credentials.items()
    ]
    if record.description:
        rows.append(["description", record.description])
    rows.append(["created", fmt_time(record.created_at)])
    console.print(table(f"Datastore {record.name}", ["", ""], rows))


@app.command("delete")
def delete(name: str = typer.Argument(..., help="The datastore's name.")) -> None:
    """Forget a datastore (its files stay); refused while a data asset version is on it."""
    from trainyard.errors import InvalidInputError
    from trainyard.store.records import DEFAULT_DATASTORE

    if name == DEFAULT_DATASTORE:
        raise InvalidInputError(
            f"{DEFAULT_DATASTORE} is the workspace's artifact store; it cannot be deleted"
        )
    _ws().store.delete_datastore(name)
    console.print(f"deleted datastore {name}")


@app.command("secret")
def store_secret(
    variable: str = typer.Argument(
        ..., help="The environment variable a datastore names (AWS_SECRET_ACCESS_KEY…)."
    ),
) -> None:
    """Keep a datastore credential on this machine (a 0600 file), for when the variable is not set.

    The value is read from a hidden prompt, or from standard input when it is not a terminal;
    it is never printed. An agent's machine can hold the secrets of the datastores its jobs read.
    """
    import re
    import sys

    from trainyard.credentials import save_secret
    from trainyard.errors import InvalidInputError

    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", variable):
        raise InvalidInputError(f"{variable!r} is not an environment variable name (letters, digits, _)")
    value = typer.prompt(variable, hide_input=True) if sys.stdin.isatty() else sys.stdin.read().strip()
    if not value:
        raise InvalidInputError(f"no value given for {variable}")
    console.print(f"stored {variable} in {save_secret(variable, value)} (readable by you only)")
