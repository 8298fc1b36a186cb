"""``trainyard model register|list|show|download|alias|archive|restore``."""

from __future__ import annotations

from pathlib import Path

import typer

from trainyard.cli.output import Format, console, fmt_number, fmt_time, print_json, table

app = typer.Typer(help="The model registry: named, versioned models with aliases.", no_args_is_help=True)
OutputOpt = typer.Option(Format.table, "--output", "-o", help="table or json.")


def _ws():  # noqa: ANN202
    from trainyard.workspace import Workspace

    return Workspace.from_config()


def _pairs(values: list[str], what: str) -> dict[str, str]:
    from trainyard.errors import InvalidInputError

    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"--{what} {item!r}: write it as KEY=VALUE")
        out[key] = value
    return out


def _summary(model) -> dict:  # noqa: ANN001
    return {
        "name": model.name,
        "version": model.version,
        "aliases": model.aliases,
        "status": model.status,
        "created": model.created_at,
        "description": model.description,
        "tags": model.tags,
        "properties": model.properties,
        "files": model.file_names,
        "lineage": model.lineage(),
        "data": _data_of(model),
    }


def _data_of(model) -> list[str]:  # noqa: ANN001
    """The data versions behind the model: what its run read."""
    from trainyard.data.lineage import data_of_model

    return [f"{r.name}:{r.version}" for r in data_of_model(model.workspace, model._record)]


@app.command("register")
def register(
    name: str = typer.Option(..., "--name", "-n", help="Model name; each registration is its next version."),
    path: str = typer.Option(
        ..., "--path", "-p", help="With --run: the run's artifact path; else a local path."
    ),
    run: str = typer.Option(
        None, "--run", "-r", help="Register an artifact of this run (e.g. outputs/model.pkl)."
    ),
    tag: list[str] = typer.Option([], "--tag", help="KEY=VALUE, repeatable."),
    prop: list[str] = typer.Option([], "--property", help="KEY=VALUE, repeatable."),
    description: str = typer.Option(None, help="A line about this version."),
    alias: str = typer.Option(None, help="Also point this alias (e.g. staging) at the new version."),
) -> None:
    """Register a model file or folder, from a run's artifacts or from this machine."""
    from trainyard.cli.runs import resolve_run_id
    from trainyard.registry import Model

    ws = _ws()
    tags, props = _pairs(tag, "tag"), _pairs(prop, "property")
    if run:
        model = Model.register_from_run(ws, resolve_run_id(ws, run), name, path, tags, props, description)
    else:
        model = Model.register(ws, path, name, tags, props, description)
    if alias:
        model.set_alias(alias)
    console.print(f"registered [bold]{model.id}[/] ({len(model.file_names)} file(s))")


@app.command("list")
def list_models(
    name: str = typer.Argument(None, help="Show every version of this model."), output: Format = OutputOpt
) -> None:
    """Registered models (latest versions), or every version of one model."""
    from trainyard.registry import Model

    models = Model.list(_ws(), name)
    if output == Format.json:
        print_json([{k: v for k, v in _summary(m).items() if k not in ("lineage", "data")} for m in models])
        return
    rows = [
        [
            m.name,
            m.version,
            ", ".join(m.aliases) or "-",
            m.status,
            (m.run_id or "-")[:12],
            fmt_time(m.created_at),
        ]
        for m in models
    ]
    console.print(table(None, ["name", "version", "aliases", "status", "run", "created"], rows))


@app.command("show")
def show(
    ref: str = typer.Argument(..., help="name, name:VERSION or name@ALIAS"), output: Format = OutputOpt
) -> None:
    """One version with its lineage: the run, its params and metrics, the code snapshot."""
    from trainyard.registry import Model

    summary = _summary(Model(_ws(), ref))
    if output == Format.json:
        print_json(summary)
        return
    lineage = summary["lineage"]
    rows = [
        ["model", f"{summary['name']}:{summary['version']}"],
        ["aliases", ", ".join(summary["aliases"]) or "-"],
        ["status", summary["status"]],
        ["created", fmt_time(summary["created"])],
        ["source", lineage["source"]],
    ]
    if summary["description"]:
        rows.append(["description", summary["description"]])
    rows += [[f"tag {k}", v] for k, v in summary["tags"].items()]
    rows += [[f"property {k}", v] for k, v in summary["properties"].items()]
    if "run_id" in lineage:
        rows += [
            ["run", f"{lineage['run_id']} ({lineage['run_name']})"],
            ["experiment", lineage["experiment"]],
            ["snapshot", (lineage["snapshot_id"] or "-")[:12]],
        ]
        rows += [[f"param {k}", v] for k, v in sorted(lineage["params"].items())]
        rows += [[f"metric {k}", fmt_number(v)] for k, v in sorted(lineage["metrics"].items())]
    rows += [["data", d] for d in summary["data"]]
    rows += [["file", f] for f in summary["files"]]
    console.print(table(f"Model {summary['name']}:{summary['version']}", ["", ""], rows))


@app.command("download")
def download(
    ref: str,
    output_dir: Path = typer.Option(
        Path("."), "--output-dir", "-d", help="Where to write the model's files."
    ),
    overwrite: bool = typer.Option(False, help="Replace files that exist."),
) -> None:
    """Download a model version's files."""
    from trainyard.registry import Model

    model = Model(_ws(), ref)
    target = model.download(output_dir, exist_ok=overwrite)
    for name in model.file_names:
        console.print(str(target / name))


@app.command("alias")
def alias(
    name: str,
    alias_name: str = typer.Argument(..., metavar="ALIAS", help="e.g. production, staging"),
    version: int = typer.Argument(None, help="The version to point at (omit with --delete)."),
    delete: bool = typer.Option(False, "--delete", help="Remove the alias."),
) -> None:
    """Point an alias at a version (moving it off any other), or remove it."""
    from trainyard.errors import InvalidInputError
    from trainyard.registry import Model

    ws = _ws()
    if delete:
        Model(ws, f"{name}@{alias_name}").remove_alias(alias_name)
        console.print(f"removed {name}@{alias_name}")
        return
    if version is None:
        raise InvalidInputError("give the version: trainyard model alias NAME ALIAS VERSION (or --delete)")
    Model(ws, name, version).set_alias(alias_name)
    console.print(f"{name}@{alias_name} -> {name}:{version}")


@app.command("archive")
def archive(ref: str) -> None:
    """Hide a version from `Model(ws, name)` (the latest ready one); files are kept."""
    from trainyard.registry import Model

    model = Model(_ws(), ref)
    model.archive()
    console.print(f"{model.id} archived")


@app.command("restore")
def restore(ref: str) -> None:
    """Undo archive."""
    from trainyard.registry import Model

    model = Model(_ws(), ref)
    model.restore()
    console.print(f"{model.id} ready")


@app.command("serve")
def serve(
    ref: str = typer.Argument(..., help="name, name:VERSION, name@ALIAS, or a model folder"),
    host: str = typer.Option("127.0.0.1", help="Address to listen on (loopback unless you give a key)."),
    port: int = typer.Option(5000, min=1, max=65535, help="Port."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
    key: list[str] = typer.Option(
        [], "--key", help="Require Authorization: Bearer KEY (repeat for a second key)."
    ),
    trust: bool = typer.Option(False, help="Allow a pickled model from outside the workspace's registry."),
    insecure: bool = typer.Option(False, help="Allow a non-loopback address without a key."),
    entry_script: Path = typer.Option(
        None, help="An Azure-style score.py with init() and run(raw_data) for /score."
    ),
) -> None:
    """Serve a model on /invocations (MLflow), /score (Azure ML) and /v2 (Open Inference Protocol)."""
    from trainyard.serving.serve import serve as run_server

    console.print(f"serving {ref} on http://{host}:{port} (Ctrl-C stops)")
    run_server(ref, host, port, workers, key, trust, insecure, str(entry_script) if entry_script else None)
