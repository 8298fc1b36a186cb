"""A pipeline run as its steps stand: what ``pipeline show`` draws (and the studio will)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from trainyard.pipelines.record import REUSED_TAG, STEP_TAG, PipelineRecord
from trainyard.store import RunInfo

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

SYMBOLS = {"completed": "●", "failed": "✗", "canceled": "■", "running": "▶", "not started": "○"}


@dataclass(frozen=True)
class StepView:
    step: str
    what: str  # its component's name, sweep, automl or command
    status: str
    needs: list[str]
    run_id: str | None
    reused_from: str | None
    duration: float | None

    @property
    def symbol(self) -> str:
        return SYMBOLS.get(self.status, "◌")


@dataclass(frozen=True)
class PipelineView:
    record: PipelineRecord
    layers: list[list[StepView]]


def step_views(ws: Workspace, info: RunInfo) -> PipelineView:
    """Each step of the pipeline run ``info`` with its newest child run, layer by layer."""
    record = PipelineRecord.of_run(info)
    children = sorted(ws.store.search_runs(parent_id=info.id), key=lambda c: c.created_at)
    newest = {c.tags[STEP_TAG]: c for c in children if STEP_TAG in c.tags}
    layers = []
    for layer in record.layers:
        row = []
        for step in layer:
            child = newest.get(step)
            row.append(
                StepView(
                    step=step,
                    what=record.steps[step].what,
                    status=child.status.value if child else "not started",
                    needs=record.steps[step].needs,
                    run_id=child.id if child else None,
                    reused_from=child.tags.get(REUSED_TAG) if child else None,
                    duration=child.duration if child else None,
                )
            )
        layers.append(row)
    return PipelineView(record, layers)
