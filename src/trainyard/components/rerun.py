"""Running a chain of component runs again with one data source replaced (retraining a model
that component runs produced).

A component run records its parameters and where each input came from
(``component.source.<port>``: a file, ``memory``, or ``runs:<id>/<port>``), so the runs behind an
output can be walked back to their data: a table input read from a file or passed in memory, or
Import Data's ``path``. ``Chain.rerun`` runs again every step that depends on the replaced
source, in order, with the parameters it had, and refers to the stored outputs of the steps
that do not (a learner's untrained model, say). What a rerun would need but nothing recorded (a
model passed in memory) is refused before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainyard.components.base import get_component
from trainyard.components.runner import REF_PREFIX, TAG, parse_ref, run_component
from trainyard.errors import InvalidInputError

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

IMPORT_DATA = "import-data"
MEMORY = "memory"


@dataclass(frozen=True)
class DataSource:
    """Where a chain reads data: a table input (``port``) or Import Data's ``path`` parameter."""

    run_id: str
    component: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.component}.{self.name}"


@dataclass
class _Step:
    """One recorded component run: what it was called with."""

    run_id: str
    component: str
    experiment: str
    params: dict[str, Any]
    inputs: dict[str, str]  # port -> recorded source
    upstream: dict[str, tuple[str, str]] = field(default_factory=dict)  # port -> (run id, port)


def _recorded_params(component: str, text: dict[str, str]) -> dict[str, Any]:
    """The parameters as the run was given them: logged as text (lists and dicts as JSON)."""
    comp = get_component(component)
    values: dict[str, Any] = {}
    for p in comp.params:
        if p.name not in text:
            continue
        raw = text[p.name]
        values[p.name] = None if raw == "None" and p.default is None else p.parse(raw)
    return values


class Chain:
    """The component runs behind one run's outputs, read back from the store."""

    def __init__(self, ws: Workspace, run_id: str) -> None:
        self.ws = ws
        self.root = run_id
        self.steps: dict[str, _Step] = {}
        self._read(run_id)

    def _read(self, run_id: str) -> None:
        if run_id in self.steps:
            return
        info = self.ws.store.get_run(run_id)
        if TAG not in info.tags:
            raise InvalidInputError(f"run {run_id} is not a component run")
        prefix = f"{TAG}.source."
        inputs = {k.removeprefix(prefix): v for k, v in info.tags.items() if k.startswith(prefix)}
        step = _Step(
            run_id,
            info.tags[TAG],
            self.ws.store.get_experiment(info.experiment_id).name,
            _recorded_params(info.tags[TAG], info.params),
            inputs,
        )
        self.steps[run_id] = step
        for port, source in inputs.items():
            if source.startswith(REF_PREFIX):  # a `last:` reference is recorded as the run it found
                upstream, out = parse_ref(source)
                step.upstream[port] = (upstream, out or "")
                self._read(upstream)

    def sources(self) -> list[DataSource]:
        """Every place the chain reads data from, upstream steps first."""
        found = []
        for step in reversed(self.steps.values()):
            comp = get_component(step.component)
            tables = {p.name for p in comp.inputs if p.kind == "table"}
            found += [
                DataSource(step.run_id, step.component, port)
                for port, source in step.inputs.items()
                if port in tables and port not in step.upstream
            ]
            if step.component == IMPORT_DATA:
                found.append(DataSource(step.run_id, step.component, "path"))
        return found

    def source(self, name: str) -> DataSource:
        """The data source the new data replaces: the only one, or the one ``name`` picks out
        (``COMPONENT.PORT``, or ``PORT`` when one source has it)."""
        sources = self.sources()
        if not sources:
            raise InvalidInputError(
                f"the component runs behind run {self.root} read no table from a file or memory, "
                "so there is no data to replace"
            )
        picked = [s for s in sources if name in (s.label, s.name)]
        if len(sources) == 1 and not picked and name == "data":  # the default: the chain's data
            picked = sources
        if len(picked) != 1:
            labels = ", ".join(s.label for s in sources)
            raise InvalidInputError(
                f"the component runs behind run {self.root} read data from {labels}; "
                "name the one the new data replaces with the input name (COMPONENT.PORT)"
            )
        self._check_recorded(picked[0])
        return picked[0]

    def _depends(self, run_id: str, source: DataSource) -> bool:
        """Whether the step reads ``source``, itself or through the steps before it."""
        step = self.steps[run_id]
        return run_id == source.run_id or any(self._depends(up, source) for up, _ in step.upstream.values())

    def _check_recorded(self, source: DataSource) -> None:
        """Refuse a rerun that needs an input nothing stored: a value passed in memory."""
        for step in self.steps.values():
            if not self._depends(step.run_id, source):
                continue
            for port, given in step.inputs.items():
                if given == MEMORY and (step.run_id, port) != (source.run_id, source.name):
                    raise InvalidInputError(
                        f"input {port!r} of the {step.component} run {step.run_id} was passed in "
                        "memory, so nothing recorded it and the chain cannot run again; give it as a "
                        f"file or as {REF_PREFIX}<run id>/<port> (the output of the run that made it)"
                    )

    def rerun(self, source: DataSource, data: Path) -> str:
        """Run the steps that depend on ``source`` again with ``data`` in its place; the new root run."""
        done: dict[str, str] = {}

        def again(run_id: str) -> str:
            if not self._depends(run_id, source):
                return run_id
            if run_id not in done:
                step = self.steps[run_id]
                inputs: dict[str, Any] = {}
                for port, given in step.inputs.items():
                    if (run_id, port) == (source.run_id, source.name):
                        inputs[port] = str(data)
                    elif port in step.upstream:
                        upstream, out = step.upstream[port]
                        inputs[port] = f"{REF_PREFIX}{again(upstream)}/{out}"
                    else:
                        inputs[port] = given
                params = dict(step.params)
                if (run_id, "path") == (source.run_id, source.name):
                    params["path"] = str(data)
                done[run_id] = run_component(self.ws, step.component, inputs, params, step.experiment).run_id
            return done[run_id]

        return again(self.root)
