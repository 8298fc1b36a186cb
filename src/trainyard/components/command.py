"""Command components: Azure ML's component YAML (v2, ``type: command``), read with one-line errors.

::

    $schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
    type: command
    name: train_churn
    version: 1                      # left out: the next number when registered
    display_name: Train churn model
    inputs:
      data: {type: uri_folder}
      alpha: {type: number, default: 0.5, min: 0, max: 1}
      solver: {type: string, default: lbfgs, enum: [lbfgs, saga]}
      seed: {type: integer, optional: true}
    outputs:
      model: {type: mlflow_model}
    code: ./src                     # relative to this file
    command: >-
      python train.py --data ${{inputs.data}} --alpha ${{inputs.alpha}}
      $[[--seed ${{inputs.seed}}]] --out ${{outputs.model}}
    environment: azureml:sklearn:1  # or a spec, as on a command job
    is_deterministic: true

``$[[…]]`` is an optional block: kept when every input it uses is given, dropped otherwise. An
optional input without a default may only be used inside one. A component is the interface of a
command step: ``trainyard.pipelines.components`` turns a pipeline step naming one into that
command step; ``register_command_component`` versions it in the workspace with its code.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from trainyard.components.params import REQUIRED, ComponentInputError, Param
from trainyard.environments import Environment
from trainyard.errors import InvalidInputError
from trainyard.jobs.spec import OUTPUT_TYPES, REFERENCE, inline_requirements_file, problems
from trainyard.store.validation import COMPONENT_NAME, COMPONENT_VERSION
from trainyard.yamlfile import read_yaml_mapping

if TYPE_CHECKING:
    from trainyard.store.records import ComponentVersion
    from trainyard.workspace import Workspace

# an input's type -> the Param type of its values (scalars) ...
SCALAR_TYPES = {"string": "string", "integer": "int", "number": "float", "boolean": "bool"}
# ... or the port kind of the files it names (the same as a command output's)
PATH_TYPES = OUTPUT_TYPES
INPUT_TYPES = (*PATH_TYPES, *SCALAR_TYPES)
PORT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
OPTIONAL_BLOCK = re.compile(r"\$\[\[(.*?)\]\]", re.S)
CATEGORY = "Command"


class ComponentInput(BaseModel):
    """One entry of ``inputs:``. ``default``, ``min``/``max`` and ``enum`` are for scalars only."""

    model_config = ConfigDict(extra="forbid")
    type: str
    description: str = ""
    default: StrictBool | StrictInt | StrictFloat | StrictStr | None = None
    optional: bool = False
    min: StrictInt | StrictFloat | None = None
    max: StrictInt | StrictFloat | None = None
    enum: list[StrictStr] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ComponentInput:
        if self.type not in INPUT_TYPES:
            raise ValueError(f"type {self.type!r} is not one of {', '.join(INPUT_TYPES)}")
        scalar = self.type in SCALAR_TYPES
        for key in ("default", "enum") if not scalar else ():
            if getattr(self, key) is not None:
                raise ValueError(f"{key} is only for {', '.join(SCALAR_TYPES)} inputs, not {self.type}")
        if (self.min is not None or self.max is not None) and self.type not in ("integer", "number"):
            raise ValueError(f"min and max are only for integer and number inputs, not {self.type}")
        if self.enum is not None and self.type != "string":
            raise ValueError(f"enum is only for string inputs, not {self.type}")
        if self.enum is not None and not self.enum:
            raise ValueError("enum is empty; list the allowed values")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        if self.default is not None:
            try:
                self.param("default").validate(self.default)
            except ComponentInputError as exc:
                raise ValueError(f"{exc} ({self.type} input)") from None
        return self

    @property
    def is_scalar(self) -> bool:
        return self.type in SCALAR_TYPES

    @property
    def kind(self) -> str:
        """What the pipeline graph checks wires against: a port kind, or the scalar type."""
        return self.type if self.is_scalar else PATH_TYPES[self.type]

    @property
    def required(self) -> bool:
        return not self.optional and self.default is None

    def param(self, name: str) -> Param:
        """A scalar input as a ``Param``: the same checks (type, range, choices) and JSON schema."""
        default = self.default if self.default is not None else (None if self.optional else REQUIRED)
        return Param(
            name,
            SCALAR_TYPES[self.type],
            default=default,
            description=self.description,
            choices=self.enum,
            min=self.min,
            max=self.max,
            optional=self.optional,
        )


class ComponentOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(default="uri_folder", pattern="^(" + "|".join(OUTPUT_TYPES) + ")$")
    description: str = ""

    @property
    def kind(self) -> str:
        return OUTPUT_TYPES[self.type]


class CommandComponent(BaseModel):
    """A command component (see the module docstring); ``code`` is absolute once loaded."""

    model_config = ConfigDict(extra="forbid")
    type: str = Field(default="command", pattern="^command$")
    name: str
    version: str | None = None
    display_name: str | None = None
    description: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    inputs: dict[str, ComponentInput] = Field(default_factory=dict)
    outputs: dict[str, ComponentOutput] = Field(default_factory=dict)
    code: str = "."
    command: str = Field(min_length=1)
    environment: Environment | str = "default"
    is_deterministic: bool = True

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not COMPONENT_NAME.match(value):
            raise ValueError(
                f"{value!r}: start with a letter or digit; use only letters, digits, '.', '_', '-'"
            )
        return value

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)  # YAML reads `version: 1` as a number
        if isinstance(value, str) and (not COMPONENT_VERSION.match(value) or value == "latest"):
            raise ValueError("a version is 1 to 64 letters, digits, '.', '_' or '-' (and not 'latest')")
        return value

    @model_validator(mode="after")
    def _references(self) -> CommandComponent:
        for names in (self.inputs, self.outputs):
            bad = [n for n in names if not PORT_NAME.match(n)]
            if bad:
                raise ValueError(
                    f"port name {bad[0]!r}: use letters, digits and '_', not starting with a digit"
                )
        clash = sorted(set(self.inputs) & set(self.outputs))
        if clash:
            raise ValueError(f"{clash[0]!r} is both an input and an output")
        outside = OPTIONAL_BLOCK.sub("", self.command)
        if "$[[" in outside or any("$[[" in block for block in OPTIONAL_BLOCK.findall(self.command)):
            raise ValueError("command: an optional block $[[…]] is not closed with ]] (blocks cannot nest)")
        for ref in REFERENCE.findall(self.command):
            kind, _, port = ref.partition(".")
            ports: dict[str, set[str]] = {"inputs": set(self.inputs), "outputs": set(self.outputs)}
            declared = ports.get(kind)
            if declared is None or not port:
                raise ValueError(
                    f"command: unknown reference ${{{{{ref}}}}}; "
                    "use ${{inputs.NAME}} or ${{outputs.NAME}}"
                )
            if port not in declared:
                known = ", ".join(sorted(declared)) or "none"
                raise ValueError(
                    f"command: uses ${{{{{ref}}}}} but {kind} declare no {port!r} ({kind}: {known})"
                )
        for block in OPTIONAL_BLOCK.findall(self.command):
            if not _input_refs(block):
                raise ValueError(f"command: the optional block $[[{block}]] uses no input")
        for port in _input_refs(outside):
            if self.inputs[port].optional and self.inputs[port].default is None:
                raise ValueError(
                    f"command: optional input {port!r} is used outside $[[…]]; "
                    "put the part that needs it in an optional block"
                )
        return self

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}" if self.version else self.name

    def resolve_command(self, given: set[str]) -> str:
        """The command with each optional block kept (without its brackets) when every input it uses
        is in ``given``, else dropped."""

        def block(match: re.Match[str]) -> str:
            return match.group(1) if _input_refs(match.group(1)) <= given else ""

        return OPTIONAL_BLOCK.sub(block, self.command).strip()

    def spec(self) -> dict[str, Any]:
        """The spec as the store keeps it: everything but the version and the code (kept as a snapshot)."""
        return self.model_dump(mode="json", exclude={"version", "code"})

    def content_hash(self, snapshot_id: str | None) -> str:
        """What makes two registrations the same component: the spec and the code's snapshot."""
        body = json.dumps({"spec": self.spec(), "code": snapshot_id}, sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()

    def schema(self) -> dict[str, Any]:  # type: ignore[override]  # pydantic's is deprecated
        """The interface in ``Component.schema()``'s shape (files are inputs, scalars params), so the
        designer reads both alike; ``kind`` says it is a command component."""
        scalars = {n: i for n, i in self.inputs.items() if i.is_scalar}
        return {
            "name": self.name,
            "display_name": self.display_name or self.name,
            "category": CATEGORY,
            "version": self.version,
            "description": self.description,
            "kind": "command",
            "is_deterministic": self.is_deterministic,
            "inputs": {
                n: {"kind": i.kind, "type": i.type, "description": i.description, "optional": i.optional}
                for n, i in self.inputs.items()
                if not i.is_scalar
            },
            "outputs": {
                n: {"kind": o.kind, "type": o.type, "description": o.description, "optional": False}
                for n, o in self.outputs.items()
            },
            "params": {
                "type": "object",
                "properties": {n: i.param(n).schema() for n, i in scalars.items()},
                "required": [n for n, i in scalars.items() if i.required],
                "additionalProperties": False,
            },
        }


def _input_refs(text: str) -> set[str]:
    return {ref.partition(".")[2] for ref in REFERENCE.findall(text) if ref.partition(".")[0] == "inputs"}


def component_from_dict(raw: dict[str, Any], where: str) -> CommandComponent:
    """A component from its mapping; every problem is one ``InvalidInputError`` naming the field."""
    try:
        return CommandComponent.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInputError(f"{where} is not a valid command component: {problems(exc)}") from None


def load_command_component(path: str | Path) -> CommandComponent:
    """Read a component YAML; ``code`` (and an environment's ``requirements_file``) follow the file."""
    path = Path(path)
    raw = read_yaml_mapping(path, "component")
    base = path.parent.resolve()
    inline_requirements_file(raw, base)
    comp = component_from_dict(raw, str(path))
    code = (base / comp.code).resolve()
    if not code.is_dir():
        raise InvalidInputError(f"{path}: code: the folder {code} does not exist")
    comp.code = str(code)
    return comp


def register_command_component(ws: Workspace, path: str | Path) -> ComponentVersion:
    """Version the component in the workspace with a snapshot of its code, so every later run of
    this version runs the code as it is now. The same content again is the version that has it."""
    from trainyard.components.base import catalogue
    from trainyard.jobs.snapshot import take_snapshot

    comp = load_command_component(path)
    if comp.name in catalogue():
        raise InvalidInputError(
            f"{path}: name: {comp.name!r} is a catalogue module (`trainyard component list`); choose another"
        )
    if isinstance(comp.environment, str):  # a name it will run in must exist now, not at submit
        Environment.named(ws.store, comp.environment)
    snapshot = take_snapshot(comp.code, ws.artifacts, int(ws.config.snapshot_max_mb * 1e6))
    return ws.store.create_component_version(
        comp.name,
        version=comp.version,
        spec=comp.spec(),
        content_hash=comp.content_hash(snapshot.id),
        snapshot_id=snapshot.id,
    )


def registered_component(record: ComponentVersion) -> CommandComponent:
    """The component a store record holds (its code is the record's snapshot, not a folder)."""
    return component_from_dict(
        {**record.spec, "version": record.version}, f"component {record.name}:{record.version}"
    )


__all__ = [
    "INPUT_TYPES",
    "SCALAR_TYPES",
    "CommandComponent",
    "ComponentInput",
    "ComponentOutput",
    "component_from_dict",
    "load_command_component",
    "register_command_component",
    "registered_component",
]
