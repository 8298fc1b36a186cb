"""``trainyard compute list`` of a server workspace: its queues and the agents seen serving each."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

from trainyard.cli.output import Format, console, fmt_duration, print_json, table

if TYPE_CHECKING:
    from trainyard.workspace import Workspace


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
