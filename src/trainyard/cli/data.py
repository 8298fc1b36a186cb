"""``trainyard data create|list|show|download|archive``: versioned data assets."""

from __future__ import annotations

from pathlib import Path

import typer

from trainyard.cli.models import OutputOpt, _pairs, _ws
from trainyard.cli.output import Format, console, fmt_time, print_json, table

app = typer.Typer(help="Data assets: named, versioned, hash-checked data.", no_args_is_help=True)


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


@app.command("create")
def create(
    name: str = typer.Option(
        ..., "--name", "-n", help="Data asset name; each new content is its next version."
    ),
    path: str = typer.Option(
        ..., "--path", "-p", help="A local file or folder, or azureml://datastores/NAME/paths/PATH."
    ),
    type: str = typer.Option(
        None, "--type", "-t", help="uri_file, uri_folder or table (default: by the path)."
    ),
    description: str = typer.Option(None, help="A line about this version."),
    tag: list[str] = typer.Option([], "--tag", help="KEY=VALUE, repeatable."),
    reference: bool = typer.Option(False, "--reference", help="Record the path only; do not copy the files."),
    datastore: str = typer.Option(
        None, "--datastore", help="Upload the files to this datastore (default: workspaceblobstore)."
    ),
) -> None:
    """Make the next version of a data asset from a file or folder (the latest one if unchanged)."""
    from trainyard.data.assets import Data

    with console.status(f"hashing and storing {path}"):
        data = Data.create(
            _ws(),
            name,
            path,
            type=type,
            description=description,
            tags=_pairs(tag, "tag"),
            reference=reference,
            datastore=datastore,
        )
    r = data.record
    console.print(
        f"data [bold]{data.ref}[/] ({r.file_count} file(s), {_size(r.size_bytes)}, {r.content_hash[:12]})"
    )


@app.command("list")
def list_data(
    name: str = typer.Argument(None, help="Show every version of this data asset."),
    output: Format = OutputOpt,
) -> None:
    """Data assets (latest versions), or every version of one."""
    from dataclasses import asdict

    ws = _ws()
    versions = ws.store.list_data_versions(name)
    if output == Format.json:
        print_json([asdict(v) for v in versions])
        return
    rows = [
        [
            v.name,
            v.version,
            v.type,
            _size(v.size_bytes),
            v.file_count,
            v.content_hash[:12],
            "archived" if v.archived else "-",
            fmt_time(v.created_at),
        ]
        for v in versions
    ]
    columns = ["name", "version", "type", "size", "files", "hash", "archived", "created"]
    console.print(table(None, columns, rows))


@app.command("show")
def show(
    ref: str = typer.Argument(..., help="name, name:VERSION or name@latest"), output: Format = OutputOpt
) -> None:
    """One version: size, hash, table schema and statistics, the runs that used it and their models."""
    from dataclasses import asdict

    from trainyard.data.assets import Data
    from trainyard.data.lineage import uses_of

    ws = _ws()
    data = Data(ws, ref)
    r = data.record
    use = uses_of(ws, r.name, r.version)
    if output == Format.json:
        print_json(
            {
                **asdict(r),
                "runs": [asdict(x) for x in use.lineage],
                "models": [f"{m.name}:{m.version}" for m in use.models],
            }
        )
        return
    rows = [
        ["data", data.ref],
        ["type", r.type],
        ["created", fmt_time(r.created_at)],
        ["size", f"{_size(r.size_bytes)} in {r.file_count} file(s)"],
        ["content hash", r.content_hash],
        ["location", data.location],
    ]
    if r.description:
        rows.append(["description", r.description])
    if r.archived:
        rows.append(["archived", "yes"])
    rows += [[f"tag {k}", v] for k, v in r.tags.items()]
    if r.created_by_run:
        rows.append(["written by run", r.created_by_run])
    if r.table:
        rows.append(["rows", r.table["rows"]])
        for c in r.table["columns"]:
            numbers = " ".join(f"{k}={c[k]:.4g}" for k in ("min", "max", "mean") if c.get(k) is not None)
            rows.append(
                [
                    f"column {c['name']}",
                    f"{c['dtype']} nulls={c['nulls']} distinct={c['distinct']} {numbers}".strip(),
                ]
            )
    rows += [[f"run ({x.direction})", x.run_id] for x in use.lineage]
    rows += [["model", f"{m.name}:{m.version}"] for m in use.models]
    console.print(table(f"Data {data.ref}", ["", ""], rows))


@app.command("download")
def download(
    ref: str = typer.Argument(..., help="name, name:VERSION or name@latest"),
    to: Path = typer.Option(None, "--to", help="Folder to write into (default ./NAME-VERSION)."),
) -> None:
    """Copy a version's files here and check their content hash."""
    from trainyard.data.assets import Data

    data = Data(_ws(), ref)
    console.print(f"downloaded {data.ref} to {data.download(to)}")


@app.command("archive")
def archive(ref: str = typer.Argument(..., help="name:VERSION")) -> None:
    """Hide a version from @latest (it stays readable by number)."""
    from trainyard.data.assets import Data, parse_data_ref
    from trainyard.errors import InvalidInputError

    if parse_data_ref(ref)[1] is None:
        raise InvalidInputError(f"archive takes name:VERSION, not {ref!r}")
    data = Data(_ws(), ref).archive()
    console.print(f"archived {data.ref}")
