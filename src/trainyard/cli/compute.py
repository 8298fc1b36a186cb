"""``trainyard compute list|create|show|delete``: the built-in ``local``, the Ray targets a
workspace folder stores, and a server workspace's queues with the agents seen serving each."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

import typer

from trainyard.cli.output import Format, console, fmt_duration, print_json, table
from trainyard.errors import InvalidInputError

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

app = typer.Typer(help="Compute targets.", no_args_is_help=True)
TYPES = ("ray",)


@app.command("list")
def compute_list(output: Format = typer.Option(Format.table, "--output", "-o")) -> None:
    """The compute targets jobs can name; in a server workspace, its queues and their agents."""
    from trainyard.compute.targets import load_targets
    from trainyard.workspace import Workspace

    ws = Workspace.from_config()
    if ws.is_server:
        show_queues(ws, output)
        return
    targets: list[dict[str, object]] = [
        {"name": "local", "type": "local", "concurrency": ws.config.local.concurrency}
    ]
    for name, spec in load_targets(ws).items():
        targets.append(
            {"name": name, "type": spec.type, "address": spec.address, "local": spec.local is not None}
        )
    if output == Format.json:
        print_json(targets)
        return
    for target in targets:
        detail = f"concurrency {target['concurrency']}" if "concurrency" in target else target["address"]
        console.print(f"{target['name']}  ({target['type']}, {detail})")


@app.command("create")
def create(
    name: str = typer.Argument(..., help="The name jobs give as `compute:`."),
    type_: str = typer.Option("ray", "--type", help="The kind of target: ray."),
    address: str = typer.Option(
        None, "--address", help="The cluster: ray://head:10001, http://head:8265 (its dashboard) or auto."
    ),
    local: bool = typer.Option(False, "--local", help="Start a Ray head on 127.0.0.1 for this workspace."),
    num_cpus: int = typer.Option(2, "--num-cpus", help="CPUs of the --local head."),
) -> None:
    """Add a compute target: an existing Ray cluster (--address), or a local head (--local)."""
    from trainyard.compute.ray_target import connect, start_local_head
    from trainyard.compute.targets import TargetSpec, check_new_name, save_target
    from trainyard.workspace import Workspace

    if type_ not in TYPES:
        raise InvalidInputError(f"unknown compute type {type_!r}; known: {', '.join(TYPES)}")
    if local == (address is not None):
        raise InvalidInputError("give exactly one of --address (an existing Ray cluster) and --local")
    ws = Workspace.from_config()
    check_new_name(ws, name)
    # An address is kept as the Jobs API's own (a ray:// or auto lookup costs seconds per job);
    # an unreachable one is an error, and nothing is stored.
    spec = start_local_head(num_cpus) if local else TargetSpec(address=connect(address).get_address())
    save_target(ws, name, spec)
    found = "" if address in (None, spec.address) else f" (found from {address})"
    console.print(f"created compute target {name} (ray, {spec.address}){found}")


@app.command("show")
def show(name: str, output: Format = typer.Option(Format.table, "--output", "-o")) -> None:
    """A target's address, health and resources, asked of the cluster."""
    from trainyard.compute.ray_target import RayUnreachableError, cluster_state
    from trainyard.compute.targets import get_target
    from trainyard.workspace import Workspace

    spec = get_target(Workspace.from_config(), name)
    try:
        state = dataclasses.asdict(cluster_state(spec.address))
        health = "healthy" if state["nodes_dead"] == 0 else "degraded"
    except RayUnreachableError as exc:
        state, health = {"error": str(exc)}, "unreachable"
    shown = {"name": name, **spec.model_dump(mode="json"), "health": health, **state}
    if output == Format.json:
        print_json(shown)
        return
    console.print(f"{name}  ray  {spec.address}  {health}")
    if "error" in state:
        console.print(state["error"])
        return
    console.print(f"nodes: {state['nodes_alive']} alive, {state['nodes_dead']} dead")
    rows = [[key, _amount(key, value)] for key, value in sorted(state["resources"].items())]
    console.print(table(None, ["resource", "total"], rows))
    if state["jobs"]:
        console.print(
            "jobs: " + ", ".join(f"{n} {status.lower()}" for status, n in sorted(state["jobs"].items()))
        )


@app.command("delete")
def delete(name: str) -> None:
    """Forget a target; a --local one's head is stopped first."""
    from trainyard.compute.ray_target import stop_local_head
    from trainyard.compute.targets import delete_target, get_target
    from trainyard.workspace import Workspace

    ws = Workspace.from_config()
    spec = get_target(ws, name)
    if spec.local is not None:
        stop_local_head(spec.local)
    delete_target(ws, name)
    console.print(f"deleted compute target {name}" + (" (its Ray head stopped)" if spec.local else ""))


def _amount(resource: str, value: float) -> str:
    return f"{value / 2**30:.1f} GiB" if resource.endswith("memory") else f"{value:g}"


def show_queues(ws: Workspace, output: Format) -> None:
    """One row per agent (or per queue none serves): the queue's waiting and running runs, then
    the agent's id, host, last sighting and the runs on its host."""
    from trainyard.compute.queues import fetch

    found = fetch(ws)
    if output == Format.json:
        print_json(dataclasses.asdict(found))
        return
    now = time.time()
    rows = []
    for queue in found.queues:
        head = [queue.name, queue.queued, queue.running]
        for agent in queue.agents:
            rows.append(
                [*head, agent.id, agent.host, f"{fmt_duration(now - agent.last_seen)} ago", agent.running]
            )
            head = ["", "", ""]
        if not found.serving(queue.name, now):
            rows.append([*head, f"none seen in the last {found.agent_timeout:g} s", "", "", ""])
    columns = ["queue", "queued", "running", "agent", "host", "last seen", "its runs"]
    console.print(table(None, columns, rows) if rows else "no queues yet: submit a job, or start an agent")
