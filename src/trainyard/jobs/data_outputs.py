"""Named outputs that name a data asset become its next version when their run succeeds.

``outputs: {features: {type: uri_folder, name: features}}`` in a job (or a pipeline step): after
the command exits 0 and ``./outputs/features`` is uploaded, the folder is registered as the next
version of ``features``, written by the run (lineage). A failed or canceled run registers
nothing, so no data version points at half-written files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from pydantic import JsonValue

from trainyard.artifacts import run_key
from trainyard.data.lineage import register_output

if TYPE_CHECKING:
    from trainyard.workspace import Workspace


def register_data_outputs(
    outputs: Mapping[str, JsonValue], ws: Workspace, run_id: str, say: Callable[[str], None]
) -> None:
    """Register each output with a ``name``; raises the first ``TrainyardError`` (the run fails)."""
    for port, spec in outputs.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            continue
        name, type = str(spec["name"]), str(spec.get("type") or "uri_folder")
        version = register_output(ws, run_id, run_key(run_id, f"outputs/{port}"), name, type)
        asked = spec.get("version")
        note = f" (not {asked}: versions are numbered per name)" if asked not in (None, str(version)) else ""
        say(f"output {port!r} registered as data asset {name}:{version}{note}")
