"""Run a component as a tracked run: content hashes in, reuse key, outputs in the artifact store.

A component run records:

- params: the component's validated parameters;
- tags: ``component``, ``component.version``, ``component.input.<port>`` (the sha256 of the
  input's persisted bytes), ``component.source.<port>`` (where it came from),
  ``outputs.<port>.sha256`` (each output's hash, as a command step's) and ``component.reuse_key``;
- metrics, tables and images the component logs;
- outputs under ``outputs/<port>/`` (``data.parquet`` for tables, the model or report folder
  otherwise).

The reuse key is the sha256 of the component name, version, input hashes and parameters (files
and folders named by ``path`` parameters count by content, ``model_ref`` ones by the version
they resolve to), so a pipeline can find a completed run that did the same work (``find_reusable_run``).
Every output is serialised before the first byte is uploaded, and a run that fails has its
``outputs/`` removed: no half-written output is left behind.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainyard.artifacts import run_key
from trainyard.components.base import (
    Component,
    ComponentInputError,
    Context,
    Port,
    check_kind,
    get_component,
    value_class,
)
from trainyard.errors import InvalidInputError, TrainyardError
from trainyard.hashing import sha256_file
from trainyard.jobs.run_outputs import HASH_TAG, output_hashes
from trainyard.status import RunStatus

if TYPE_CHECKING:
    import pandas as pd

    from trainyard.tracking.run import TrackedRun
    from trainyard.workspace import Workspace

OUTPUTS = "outputs"
TABLE_FILE = "data.parquet"
REF_PREFIX = "runs:"
LAST_PREFIX = "last:"
TAG = "component"


@dataclass
class ComponentResult:
    """What ``run_component`` returns: the run, its outputs in memory and where they are stored."""

    run_id: str
    component: str
    reuse_key: str
    outputs: dict[str, Any]
    locations: dict[str, str]
    metrics: dict[str, float] = field(default_factory=dict)


class RunContext(Context):
    """A ``Context`` that also logs to the component's run."""

    def __init__(self, run: TrackedRun) -> None:
        super().__init__(run.workspace, run.id)
        self.run = run

    def log(self, name: str, value: float) -> None:
        super().log(name, value)
        self.run.log(name, value)

    def log_table(self, name: str, table: Any) -> None:
        super().log_table(name, table)
        self.run.log_table(name, self.tables[name])

    def log_image(self, name: str, figure: Any) -> None:
        super().log_image(name, figure)
        self.run.log_image(name, plot=figure)


# hashing -----------------------------------------------------------------------------------------
def table_bytes(df: pd.DataFrame) -> bytes:
    """A table as the Parquet bytes it is stored as (column marks kept in the file's metadata)."""
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def sha256_folder(folder: Path) -> str:
    """One hash of every file's relative path and content."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(folder).as_posix()}\0{sha256_file(path)}\n".encode())
    return digest.hexdigest()


def reuse_key(comp: Component, input_hashes: dict[str, str], params: dict[str, Any]) -> str:
    """Same component, version, input contents and parameters give the same key."""
    doc = {"component": comp.name, "version": comp.version, "inputs": input_hashes, "params": params}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


# inputs ------------------------------------------------------------------------------------------
@dataclass
class _Input:
    value: Any
    sha256: str
    source: str


def parse_ref(ref: str) -> tuple[str, str | None]:
    """``(run id or component name, port)`` of ``runs:<run id>[/<port>]`` or ``last:<component>[/<port>]``."""
    body = ref.split(":", 1)[1]
    head, _, port = body.partition("/")
    if not head:
        raise InvalidInputError(f"cannot read {ref!r}; write runs:<run id>/<port> or last:<component>/<port>")
    return head, port or None


def _ref_run(ws: Workspace, ref: str, port: Port) -> tuple[str, str | None]:
    """The run a reference names and the port (None: the run's only output)."""
    head, name = parse_ref(ref)
    if ref.startswith(LAST_PREFIX):
        run_id = _newest_completed(ws, TAG, get_component(head).name)
        if run_id is None:
            raise ComponentInputError(f"input {port.name!r}: no completed run of the component {head!r}")
        return run_id, name
    ids = ws.store.find_run_ids(head)
    if len(ids) != 1:
        raise ComponentInputError(
            f"input {port.name!r}: {'no run' if not ids else 'several runs'} with an id starting {head!r}"
        )
    return ids[0], name


def _run_output(ws: Workspace, ref: str, port: Port) -> _Input:
    run_id, name = _ref_run(ws, ref, port)
    info = ws.store.get_run(run_id)
    produced = output_hashes(info.tags)
    if name is None and len(produced) == 1:
        name = next(iter(produced))
    if name not in produced:
        have = ", ".join(produced) or "none"
        raise ComponentInputError(f"input {port.name!r}: run {run_id} has no output {name!r}; it has: {have}")
    prefix = run_key(run_id, f"{OUTPUTS}/{name}")
    return _Input(_load_stored(ws, prefix, port), produced[name], f"{REF_PREFIX}{run_id}/{name}")


_KIND_FILES = {
    TABLE_FILE: "table",
    "untrained_model.json": "untrained model",
    "trainyard_model.json": "trained model",
    "report.json": "report",
}


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def _check_stored_kind(names: list[str], port: Port) -> None:
    """Refuse a stored output (its files ``names``) of another kind than the port's, naming both kinds."""
    found = next((kind for file, kind in _KIND_FILES.items() if file in names), "something unknown")
    wanted = {"untrained_model": "untrained model", "model": "trained model"}.get(port.kind, port.kind)
    if found != wanted:
        raise ComponentInputError(
            f"input {port.name!r} wants {_a(wanted)}; the referenced output is {_a(found)}"
        )


def _load_stored(ws: Workspace, prefix: str, port: Port) -> Any:
    import pandas as pd

    names = ws.artifacts.list(prefix)  # listed once: for the kind check and the download
    _check_stored_kind(names, port)
    local = ws.artifacts.local_path(prefix)
    if port.kind == "table":
        source = local / TABLE_FILE if local else io.BytesIO(ws.artifacts.get_bytes(f"{prefix}/{TABLE_FILE}"))
        value = pd.read_parquet(source)
    elif local is not None:
        value = value_class(port.kind).load(local)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            for rel in names:
                ws.artifacts.download(f"{prefix}/{rel}", Path(tmp) / rel)
            value = value_class(port.kind).load(Path(tmp))
    check_kind(port, value)
    return value


def _file_input(path_text: str, port: Port) -> _Input:
    path = Path(path_text)
    if not path.exists():
        raise ComponentInputError(f"input {port.name!r}: no such file or folder {path_text!r}")
    if port.kind == "table":
        from trainyard.components.data_io import read_table

        if not path.is_file():
            raise ComponentInputError(f"input {port.name!r}: {path_text!r} is a folder, not a table file")
        return _Input(read_table(path), sha256_file(path), str(path.resolve()))
    if not path.is_dir():
        raise ComponentInputError(f"input {port.name!r}: a {port.kind} is a folder; {path_text!r} is a file")
    value = value_class(port.kind).load(path)
    return _Input(value, sha256_folder(path), str(path.resolve()))


def _memory_input(value: Any, port: Port) -> _Input:
    check_kind(port, value)
    if port.kind == "table":
        return _Input(value, hashlib.sha256(table_bytes(value)).hexdigest(), "memory")
    with tempfile.TemporaryDirectory() as tmp:
        value.save(Path(tmp) / "v")
        return _Input(value, sha256_folder(Path(tmp) / "v"), "memory")


def resolve_input(ws: Workspace, port: Port, given: Any) -> _Input:
    """An input given as a value, a file or folder path, ``runs:<id>/<port>`` or ``last:<component>``."""
    if isinstance(given, str | Path):
        text = str(given)
        if text.startswith((REF_PREFIX, LAST_PREFIX)):
            return _run_output(ws, text, port)
        return _file_input(text, port)
    return _memory_input(given, port)


# outputs -----------------------------------------------------------------------------------------
def _serialise(port: Port, value: Any, tmp: Path) -> tuple[dict[str, bytes | Path], str]:
    """``({relative name: bytes or a local folder}, sha256)`` of one output, before any upload."""
    if port.kind == "table":
        data = table_bytes(value)
        return {TABLE_FILE: data}, hashlib.sha256(data).hexdigest()
    folder = tmp / port.name
    value.save(folder)
    return {"": folder}, sha256_folder(folder)


def _persist(ws: Workspace, run_id: str, comp: Component, outputs: dict[str, Any]) -> tuple[dict, dict]:
    locations: dict[str, str] = {}
    hashes: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        staged = {}
        for port in comp.outputs:
            if outputs.get(port.name) is not None:
                staged[port.name], hashes[port.name] = _serialise(port, outputs[port.name], Path(tmp))
        for name, files in staged.items():
            prefix = run_key(run_id, f"{OUTPUTS}/{name}")
            for rel, content in files.items():
                if isinstance(content, Path):
                    ws.artifacts.copy_tree_in(prefix, content)
                else:
                    ws.artifacts.put_bytes(f"{prefix}/{rel}", content)
            locations[name] = f"{REF_PREFIX}{run_id}/{name}"
    return locations, hashes


# running -----------------------------------------------------------------------------------------
def _param_content(ws: Workspace, comp: Component, params: dict[str, Any]) -> dict[str, str]:
    """What ``path`` and ``model_ref`` parameters point at, for the reuse key: a file's or a
    folder's content, the registered version an alias resolves to now."""
    from trainyard.registry import Model

    found = {}
    for p in comp.params:
        value = params.get(p.name)
        if p.type == "path" and value and Path(value).is_file():
            found[f"param:{p.name}"] = sha256_file(Path(value))
        elif p.type == "path" and value and Path(value).is_dir():  # a script bundle's folder
            found[f"param:{p.name}"] = sha256_folder(Path(value))
        elif p.type == "model_ref" and value:
            found[f"param:{p.name}"] = Model(ws, value).id
    return found


def _start(
    workspace: Workspace, name: str | Component, inputs: dict[str, Any] | None, params: dict[str, Any] | None
) -> tuple[Component, dict[str, Any], dict[str, _Input], str, dict[str, str]]:
    """Everything checked and resolved before the component runs: ``(comp, params, inputs, key, tags)``."""
    comp = get_component(name) if isinstance(name, str) else name
    checked = comp.validate_params(params or {})
    given = inputs or {}
    comp.validate_inputs(given, kinds=False)  # names and presence first; kinds once loaded
    resolved = {
        p.name: resolve_input(workspace, p, given[p.name])
        for p in comp.inputs
        if given.get(p.name) is not None
    }
    hashes = {k: v.sha256 for k, v in resolved.items()}
    key = reuse_key(comp, {**hashes, **_param_content(workspace, comp, checked)}, checked)
    tags = {TAG: comp.name, f"{TAG}.version": comp.version, f"{TAG}.reuse_key": key}
    tags.update({f"{TAG}.input.{k}": v.sha256 for k, v in resolved.items()})
    tags.update({f"{TAG}.source.{k}": v.source for k, v in resolved.items()})
    return comp, checked, resolved, key, tags


def _execute(
    run: TrackedRun,
    comp: Component,
    params: dict[str, Any],
    resolved: dict[str, _Input],
    key: str,
    logged: frozenset[str] = frozenset(),
) -> ComponentResult:
    """Run ``comp`` in ``run`` and store its outputs; on any error they are removed and it is
    raised. ``logged``: params the run has already, left as they are."""
    workspace = run.workspace
    try:
        shown = {k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in params.items()}
        run.log_params({k: v for k, v in shown.items() if k not in logged})
        ctx = RunContext(run)
        outputs = comp.execute(ctx, {k: v.value for k, v in resolved.items()}, params)
        locations, out_hashes = _persist(workspace, run.id, comp, outputs)
        run.set_tags({HASH_TAG.format(k): v for k, v in out_hashes.items()})
    except BaseException:
        workspace.artifacts.delete(run_key(run.id, OUTPUTS))  # no half-written outputs
        raise
    return ComponentResult(run.id, comp.name, key, outputs, locations, dict(ctx.metrics))


def run_component(
    workspace: Workspace,
    name: str | Component,
    inputs: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    experiment: str = "components",
) -> ComponentResult:
    """Run a component as a completed (or failed) run of ``experiment`` and return its outputs.

    Inputs are values, file/folder paths, or ``runs:<run id>/<port>`` / ``last:<component>/<port>``
    references. Parameters and inputs are checked before a run exists; a mistake found later
    fails the run with its message and raises the ``TrainyardError``.
    """
    from trainyard.tracking.run import TrackedRun

    comp, checked, resolved, key, tags = _start(workspace, name, inputs, params)
    exp = workspace.store.get_or_create_experiment(experiment)
    run = TrackedRun.start(workspace, exp.id, name=comp.name, compute="local", tags=tags)
    try:
        result = _execute(run, comp, checked, resolved, key)
    except BaseException as exc:
        run.fail(str(exc) if isinstance(exc, TrainyardError) else f"{type(exc).__name__}: {exc}")
        raise
    run.complete()
    return result


def run_component_in(
    run: TrackedRun, name: str, inputs: dict[str, Any], params: dict[str, Any]
) -> ComponentResult:
    """Run a component inside a job's own run (a pipeline step): its worker finishes the run."""
    comp, checked, resolved, key, tags = _start(run.workspace, name, inputs, params)
    run.set_tags(tags)
    # the job's inputs are the run's params already (a data asset as ``azureml:rows:1``, not the
    # local path the worker made of it), and params cannot change
    logged = frozenset(run.workspace.store.get_run(run.id).params)
    return _execute(run, comp, checked, resolved, key, logged)


def find_reusable_run(workspace: Workspace, key: str) -> str | None:
    """The newest completed component run with this reuse key, if any."""
    return _newest_completed(workspace, f"{TAG}.reuse_key", key)


def _newest_completed(ws: Workspace, tag: str, value: str) -> str | None:
    """One indexed query: the newest completed run whose tag ``tag`` is ``value`` (a name or a hash)."""
    runs = ws.store.search_runs(
        statuses=[RunStatus.COMPLETED], filter_string=f"tags.`{tag}` = '{value}'", max_results=1
    )
    return runs[0].id if runs else None
