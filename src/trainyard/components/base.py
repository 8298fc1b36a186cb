"""Components: typed, reusable steps (Studio's "modules") with ports, parameters and a function.

A component is a plain function ``fn(ctx, **inputs_and_params) -> {output port: value}`` with a
declared interface. The interface is data (``Port``, ``Param``), so the same component runs in
memory (``component(**kwargs)``), as a tracked run (``trainyard.components.runner``), and later
as a pipeline step or a box in the designer, all checked by the same validation.

Port kinds and their Python values:

- ``table``: a pandas DataFrame (persisted as Parquet; column marks such as the label live in
  ``df.attrs["trainyard"]``, see ``marks``/``with_marks``).
- ``untrained_model``: ``trainyard.components.learners.UntrainedModel``.
- ``model``: ``trainyard.components.model.TrainedModel``.
- ``report``: ``trainyard.components.report.Report``.

Parameters are ``trainyard.components.params.Param``; ``Param`` and ``ComponentInputError`` are
imported from here too.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trainyard.components.params import ComponentInputError, Param
from trainyard.errors import NotFoundError

if TYPE_CHECKING:
    import pandas as pd

    from trainyard.workspace import Workspace

PORT_KINDS = ("table", "untrained_model", "model", "report")
# Every module that defines components; ``catalogue()`` imports them all.
COMPONENT_MODULES: tuple[str, ...] = (
    "trainyard.components.data_io",
    "trainyard.components.data_split",
    "trainyard.components.data_metadata",
    "trainyard.components.data_clean",
    "trainyard.components.data_transform",
    "trainyard.components.data_smote",
    "trainyard.components.learners",
    "trainyard.components.training",
    "trainyard.components.tuning",
    "trainyard.components.crossval",
    "trainyard.components.scoring",
    "trainyard.components.evaluation",
    "trainyard.components.recommender",
    "trainyard.components.text",
    "trainyard.components.vowpal",
    "trainyard.components.persist",
    "trainyard.components.python_script",
)


@dataclass(frozen=True)
class Port:
    """A typed input or output of a component."""

    name: str
    kind: str
    description: str
    optional: bool = False

    def __post_init__(self) -> None:
        if self.kind not in PORT_KINDS:
            raise ValueError(f"port {self.name!r}: kind must be one of {', '.join(PORT_KINDS)}")

    def schema(self) -> dict[str, Any]:
        return {"kind": self.kind, "description": self.description, "optional": self.optional}


class Context:
    """What a component function logs to. In memory for direct calls; the runner forwards to a run.

    ``metrics``, ``tables`` and ``images`` keep what was logged, so a direct call can inspect it.
    ``workspace`` and ``run_id`` are set when the component runs as a tracked run (components that
    need a workspace, such as Save as Trained Model, call ``require_workspace``).
    """

    def __init__(self, workspace: Workspace | None = None, run_id: str | None = None) -> None:
        self.workspace = workspace
        self.run_id = run_id
        self.metrics: dict[str, float] = {}
        self.tables: dict[str, dict[str, list[Any]]] = {}
        self.images: dict[str, Any] = {}

    def log(self, name: str, value: float) -> None:
        self.metrics[name] = float(value)

    def log_table(self, name: str, table: pd.DataFrame | dict[str, list[Any]]) -> None:
        if hasattr(table, "to_dict"):
            table = {str(k): list(v) for k, v in table.to_dict(orient="list").items()}
        self.tables[name] = table

    def log_image(self, name: str, figure: Any) -> None:
        self.images[name] = figure

    def require_workspace(self, component: str) -> Workspace:
        """The workspace of the component's run; components that write to the registry need one."""
        if self.workspace is None or self.run_id is None:
            raise ComponentInputError(
                f"{component} needs a workspace: run it with `trainyard component run` or run_component"
            )
        return self.workspace


ComponentFn = Callable[..., dict[str, Any]]


@dataclass
class Component:
    """A catalogue entry: interface + function. ``component(**kwargs)`` runs it in memory."""

    name: str
    display_name: str
    category: str
    description: str
    inputs: list[Port]
    outputs: list[Port]
    params: list[Param]
    fn: ComponentFn
    version: str = "1"
    _by_name: dict[str, Param | Port] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name = {}
        declared: list[Param | Port] = [*self.inputs, *self.params]
        for item in declared:
            if item.name in self._by_name:
                raise ValueError(f"component {self.name!r}: {item.name!r} declared twice")
            self._by_name[item.name] = item

    def param(self, name: str) -> Param:
        item = self._by_name.get(name)
        if not isinstance(item, Param):
            raise ComponentInputError(
                f"{self.name} has no parameter {name!r}; parameters: {self._names(self.params)}"
            )
        return item

    @staticmethod
    def _names(items: Sequence[Port | Param]) -> str:
        return ", ".join(i.name for i in items) or "none"

    def validate_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """Every parameter checked and filled with its default; unknown names are refused."""
        for name in params:
            self.param(name)
        out: dict[str, Any] = {}
        for p in self.params:
            if p.name in params:
                out[p.name] = p.validate(params[p.name])
            elif p.required:
                raise ComponentInputError(f"{self.name}: parameter {p.name!r} is required ({p.description})")
            else:
                out[p.name] = p.default
        return out

    def validate_inputs(self, inputs: dict[str, Any], kinds: bool = True) -> dict[str, Any]:
        """Every input present (unless optional) and (with ``kinds``) of its port's kind."""
        declared = {p.name for p in self.inputs}
        unknown = sorted(set(inputs) - declared)
        if unknown:
            raise ComponentInputError(
                f"{self.name} has no input {unknown[0]!r}; inputs: {self._names(self.inputs)}"
            )
        out: dict[str, Any] = {}
        for port in self.inputs:
            value = inputs.get(port.name)
            if value is None:
                if not port.optional:
                    raise ComponentInputError(f"{self.name}: input {port.name!r} ({port.kind}) is required")
                out[port.name] = None
                continue
            if kinds:
                check_kind(port, value)
            out[port.name] = value
        return out

    def split_kwargs(self, kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(inputs, params)`` from one mapping of names."""
        ports = {p.name for p in self.inputs}
        inputs = {k: v for k, v in kwargs.items() if k in ports}
        params = {k: v for k, v in kwargs.items() if k not in inputs}
        return inputs, params

    def execute(self, ctx: Context, inputs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        """Validate, run ``fn`` and check that it returned every declared output."""
        values = {**self.validate_inputs(inputs), **self.validate_params(params)}
        result = self.fn(ctx, **values)
        missing = [p.name for p in self.outputs if not p.optional and result.get(p.name) is None]
        if missing:
            raise RuntimeError(f"component {self.name!r} returned no value for output {missing[0]!r}")
        for port in self.outputs:
            if result.get(port.name) is not None:
                check_kind(port, result[port.name])
        return result

    def __call__(self, ctx: Context | None = None, **kwargs: Any) -> dict[str, Any]:
        inputs, params = self.split_kwargs(kwargs)
        return self.execute(ctx or Context(), inputs, params)

    def schema(self) -> dict[str, Any]:
        """A JSON-schema-style description of the interface (for ``component show`` and the designer)."""
        required = [p.name for p in self.params if p.required]
        return {
            "name": self.name,
            "display_name": self.display_name,
            "category": self.category,
            "version": self.version,
            "description": self.description,
            "inputs": {p.name: p.schema() for p in self.inputs},
            "outputs": {p.name: p.schema() for p in self.outputs},
            "params": {
                "type": "object",
                "properties": {p.name: p.schema() for p in self.params},
                "required": required,
                "additionalProperties": False,
            },
        }


def check_kind(port: Port, value: Any) -> None:
    """Refuse a value that is not of the port's kind, naming the port."""
    if not isinstance(value, value_class(port.kind)):
        raise ComponentInputError(f"input {port.name!r} must be a {port.kind}, got a {type(value).__name__}")


_KIND_CLASSES = {
    "table": ("pandas", "DataFrame"),
    "untrained_model": ("trainyard.components.learners", "UntrainedModel"),
    "model": ("trainyard.components.model", "TrainedModel"),
    "report": ("trainyard.components.report", "Report"),
}


def value_class(kind: str) -> type[Any]:
    """The Python class of a port kind's values (it has ``save(dir)`` / ``load(dir)`` unless a table)."""
    module, name = _KIND_CLASSES[kind]
    return getattr(importlib.import_module(module), name)


_REGISTRY: dict[str, Component] = {}


def component(
    *,
    name: str,
    display_name: str,
    category: str,
    description: str,
    inputs: list[Port],
    outputs: list[Port],
    params: list[Param] | None = None,
    version: str = "1",
) -> Callable[[ComponentFn], Component]:
    """Declare ``fn(ctx, **kwargs)`` as a component and register it in the catalogue."""

    def register(fn: ComponentFn) -> Component:
        if name in _REGISTRY and _REGISTRY[name].fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"two components are named {name!r}")
        comp = Component(
            name, display_name, category, description, inputs, outputs, params or [], fn, version
        )
        comp.__doc__ = description
        _REGISTRY[name] = comp
        return comp

    return register


def catalogue() -> dict[str, Component]:
    """Every component, by name (imports every component module)."""
    for module in COMPONENT_MODULES:
        importlib.import_module(module)
    return dict(sorted(_REGISTRY.items()))


def get_component(name: str) -> Component:
    """The component ``name``; a ``NotFoundError`` suggesting close names otherwise."""
    comps = catalogue()
    if name in comps:
        return comps[name]
    containing = sorted((n for n in comps if name in n), key=lambda n: (not n.startswith(name), n))
    close = difflib.get_close_matches(name, list(comps), n=3, cutoff=0.75) or containing[:3]
    hint = f"did you mean {', '.join(close)}?" if close else "see `trainyard component list`"
    raise NotFoundError(f"no component named {name!r}; {hint}")


# column helpers shared by components -------------------------------------------------------
MARKS_KEY = "trainyard"


def require_columns(df: pd.DataFrame, columns: Sequence[str], param: str) -> list[str]:
    """``columns`` if they are all in ``df``; otherwise an error naming the parameter and the column."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        shown = ", ".join(map(str, list(df.columns)[:20]))
        raise ComponentInputError(f"{param}: no column {missing[0]!r} in the table; columns: {shown}")
    return list(columns)


def is_numeric(series: pd.Series) -> bool:
    """Numbers a mean or a scale applies to (booleans are numeric to pandas, not here)."""
    import pandas as pd

    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def marks(df: pd.DataFrame) -> dict[str, Any]:
    """Column marks set by Edit Metadata: ``{"label": str|None, "features": [...], "categorical": [...]}``."""
    stored = df.attrs.get(MARKS_KEY) or {}
    return {
        "label": stored.get("label"),
        "features": list(stored.get("features") or []),
        "categorical": list(stored.get("categorical") or []),
    }


def with_marks(df: pd.DataFrame, **changes: Any) -> pd.DataFrame:
    """``df`` with its marks updated (in place; returns it). Marks naming dropped columns are pruned."""
    current = marks(df)
    current.update(changes)
    present = set(df.columns)
    if current["label"] not in present:
        current["label"] = None
    current["features"] = [c for c in current["features"] if c in present]
    current["categorical"] = [c for c in current["categorical"] if c in present]
    df.attrs[MARKS_KEY] = current
    return df


def label_column(df: pd.DataFrame, given: str | None, param: str = "label_column") -> str:
    """The label: the parameter if given, else the column Edit Metadata marked; else an error."""
    name = given or marks(df)["label"]
    if not name:
        raise ComponentInputError(
            f"{param} is required: name the label column (or mark it with edit-metadata)"
        )
    require_columns(df, [name], param)
    return name
