"""A finished run's named output as another job's input: ``runs://<run id>/outputs/<name>``.

This is how a pipeline passes a step's output to the steps that need it: through the artifact
store, never through the submitter's disk. The run that writes an output tags its content hash
(``outputs.<name>.sha256``, the data-asset digest of the folder), which is what a later step's
reuse key is made of. The worker that runs the reading job gives the command a local path: the
stored folder itself when the artifact store is on this disk (read in place, as data assets
are), else a download into the job's folder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import JsonValue

from trainyard.artifacts import run_key
from trainyard.artifacts.paths import join
from trainyard.data.content import local_files, of_local
from trainyard.errors import InvalidInputError

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

SCHEME = "runs://"
HASH_TAG = "outputs.{}.sha256"


def output_uri(run_id: str, name: str) -> str:
    return f"{SCHEME}{run_id}/outputs/{name}"


def output_hashes(tags: Mapping[str, str]) -> dict[str, str]:
    """The content hash of each output a run tagged, by output name."""
    head, tail = HASH_TAG.split("{}")
    return {k[len(head) : -len(tail)]: v for k, v in tags.items() if k.startswith(head) and k.endswith(tail)}


def hash_tags(folders: Mapping[str, Path]) -> dict[str, str]:
    """The tags of outputs written to local folders, before they are uploaded."""
    return {HASH_TAG.format(name): of_local(local_files(path)).digest for name, path in folders.items()}


def materialize_run_outputs(
    inputs: Mapping[str, JsonValue], ws: Workspace, folder: Path, say: Callable[[str], None]
) -> dict[str, str]:
    """The local path of each ``runs://`` input, by URI (fetched into ``folder`` when not on this disk)."""
    local: dict[str, str] = {}
    for name, value in inputs.items():
        uri = value.get("path") if isinstance(value, dict) else None
        if not isinstance(uri, str) or not uri.startswith(SCHEME):
            continue
        run_id, _, rel = uri.removeprefix(SCHEME).partition("/")
        prefix = run_key(run_id, rel)
        names = ws.artifacts.list(prefix)
        if not names:
            raise InvalidInputError(f"input {name!r}: run {run_id} wrote nothing to {rel}")
        here = ws.artifacts.local_path(prefix)
        if here is None:
            here = folder / f"run-{run_id}-{Path(rel).name}"
            for file in names:
                ws.artifacts.download(join(prefix, file), here / file)
        local[uri] = str(here)
        say(f"input {name}: {len(names)} file(s) of run {run_id[:12]} {rel} in {local[uri]}")
    return local
