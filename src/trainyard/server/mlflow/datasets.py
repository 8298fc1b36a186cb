"""Dataset inputs of runs (``runs/log-inputs``), what ``mlflow.<flavour>.autolog()`` records.

A dataset input carries a schema and a profile that can be larger than a tag may be, so the
inputs of a run are one JSON document in the artifact store (``mlflow/run-datasets/<run>.json``,
written atomically, out of the proxy's reach); the run tag ``trainyard.mlflow.datasets`` counts
them, so reading a run without datasets costs nothing.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from trainyard.errors import InvalidInputError
from trainyard.server.mlflow.protocol import Args
from trainyard.store.records import RunInfo

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

PREFIX = "mlflow/run-datasets"
COUNT_TAG = "trainyard.mlflow.datasets"
REQUIRED = ("name", "digest", "source_type", "source")


class RunDatasets:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def get(self, run: RunInfo) -> list[dict[str, Any]]:
        if COUNT_TAG not in run.tags:
            return []
        return json.loads(self.workspace.artifacts.get_bytes(f"{PREFIX}/{run.id}.json"))

    def add(self, run: RunInfo, given: list[Args]) -> None:
        """Append the inputs not recorded yet (the same dataset in the same context is one input)."""
        current = self.get(run)
        for item in given:
            entry = _checked(item)
            if entry not in current:
                current.append(entry)
        self.workspace.artifacts.put_bytes(f"{PREFIX}/{run.id}.json", json.dumps(current).encode())
        self.workspace.store.log_batch(run.id, tags={COUNT_TAG: str(len(current))})


def _checked(item: Args) -> dict[str, Any]:
    dataset = item.get("dataset")
    if not isinstance(dataset, dict) or any(not isinstance(dataset.get(k), str) for k in REQUIRED):
        raise InvalidInputError(f"each dataset input needs a 'dataset' object with {', '.join(REQUIRED)}")
    fields = (*REQUIRED, "schema", "profile")
    return {
        "tags": [{"key": k, "value": v} for k, v in sorted(item.pairs("tags").items())],
        "dataset": {k: dataset[k] for k in fields if isinstance(dataset.get(k), str)},
    }
