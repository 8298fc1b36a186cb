"""``trainyard env list|build``."""

from __future__ import annotations

from pathlib import Path

import typer

from trainyard.cli.output import Format, console, fmt_time, print_json, table

app = typer.Typer(help="Python environments for jobs.", no_args_is_help=True)


@app.command("list")
def list_envs(output: Format = typer.Option(Format.table, "--output", "-o")) -> None:
    """Registered environments, every version, and whether each is built here."""
    from trainyard.environments import Environment, default_cache_dir
    from trainyard.workspace import Workspace

    ws = Workspace.from_config()
    cache = default_cache_dir()
    rows = [
        {
            "name": e.name,
            "version": e.version,
            "hash": e.spec_hash,
            "python": e.spec.get("python") or "current",
            "requirements": e.spec.get("requirements", []),
            "created": e.created_at,
            "built": (
                cache / Environment.model_validate(e.spec).build_hash() / ".trainyard-complete"
            ).exists(),
        }
        for e in ws.store.list_environments()
    ]
    if output == Format.json:
        print_json(rows)
        return
    console.print(
        table(
            None,
            ["name", "version", "python", "requirements", "built", "created", "hash"],
            [
                [
                    r["name"],
                    r["version"],
                    r["python"],
                    ", ".join(r["requirements"]) or "-",
                    "yes" if r["built"] else "no",
                    fmt_time(r["created"]),
                    r["hash"][:12],
                ]
                for r in rows
            ],
        )
    )


@app.command("build")
def build(
    file: Path = typer.Option(
        ..., "--file", "-f", help="Environment YAML (name, python, requirements, env_vars)."
    ),
) -> None:
    """Register an environment and build it now, so jobs using it start at once."""
    from trainyard.environments import Environment, resolve
    from trainyard.workspace import Workspace

    ws = Workspace.from_config()
    env = Environment.from_file(file)
    record = env.register(ws.store)
    with console.status(f"building {env.name}…"):
        resolved = resolve(env, log=lambda line: console.print(line, markup=False, highlight=False))
    state = "cache hit" if resolved.cache_hit else "built"
    console.print(
        f"environment {record.name}:{record.version} {state} in {resolved.seconds:.2f}s -> {resolved.python}"
    )
