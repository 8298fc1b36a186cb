"""``trainyard env list|build``."""

from __future__ import annotations

from pathlib import Path

import typer

from trainyard.cli.output import Format, console, fmt_time, print_json, table

app = typer.Typer(help="Python environments for jobs.", no_args_is_help=True)


@app.command("list")
def list_envs(
    output: Format = typer.Option(Format.table, "--output", "-o"),
    curated: bool = typer.Option(False, "--curated", help="The curated environments shipped with trainyard."),
) -> None:
    """Registered environments, every version, and whether each is built here."""
    from trainyard.environments import Environment, default_cache_dir
    from trainyard.workspace import Workspace

    if curated:
        _list_curated(output)
        return

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


def _list_curated(output: Format) -> None:
    from trainyard.environments import Environment, is_built
    from trainyard.environments.curated import CATALOGUE

    rows = [
        {
            "name": c.name,
            "aliases": list(c.aliases),
            "description": c.description,
            "requirements": list(c.requirements),
            "built": is_built(Environment.curated(c.name)),
        }
        for c in CATALOGUE
    ]
    if output == Format.json:
        print_json(rows)
        return
    console.print(
        table(
            None,
            ["name", "aliases", "contains", "built"],
            [
                [c.name, ", ".join(c.aliases), c.description, "yes" if r["built"] else "no"]
                for c, r in zip(CATALOGUE, rows, strict=True)
            ],
        )
    )


@app.command("build")
def build(
    file: Path | None = typer.Option(
        None, "--file", "-f", help="Environment YAML (name, python, requirements, env_vars)."
    ),
    curated: str | None = typer.Option(
        None, "--curated", help="Pre-build a curated environment (a name from `env list --curated`)."
    ),
) -> None:
    """Register an environment (or pick a curated one) and build it now, so jobs using it start at once."""
    from trainyard.environments import Environment, resolve
    from trainyard.errors import InvalidInputError

    if (file is None) == (curated is None):
        raise InvalidInputError("give one of --file ENV.yml or --curated NAME")
    if curated is not None:
        env = Environment.curated(curated)
        label = env.name
    else:
        from trainyard.workspace import Workspace

        assert file is not None
        env = Environment.from_file(file)
        record = env.register(Workspace.from_config().store)
        label = f"{record.name}:{record.version}"
    with console.status(f"building {env.name}…"):
        resolved = resolve(env, log=lambda line: console.print(line, markup=False, highlight=False))
    state = "cache hit" if resolved.cache_hit else "built"
    console.print(f"environment {label} {state} in {resolved.seconds:.2f}s -> {resolved.python}")
