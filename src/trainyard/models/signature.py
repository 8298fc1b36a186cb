"""Model signatures: the columns (or tensor) a model takes and returns, inferred from examples.

Written into ``MLmodel`` as MLflow does (``inputs``/``outputs`` as JSON strings of column or
tensor specs) and used to check scoring input, so a request with a missing column or a wrong
type gets an error that names it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trainyard.errors import InvalidInputError

# numpy/pandas dtype kind -> MLflow column type
KINDS = {
    "b": "boolean",
    "i": "long",
    "u": "long",
    "f": "double",
    "O": "string",
    "U": "string",
    "S": "binary",
    "M": "datetime",
}
ACCEPTS = {  # what each column type accepts when scoring
    "boolean": {"b"},
    "long": {"i", "u", "b"},
    "integer": {"i", "u", "b"},
    "double": {"f", "i", "u", "b"},
    "float": {"f", "i", "u", "b"},
    "string": {"O", "U"},
    "binary": {"S", "O"},
    "datetime": {"M", "O"},
}


@dataclass(frozen=True)
class Schema:
    """Columns ``[{"name", "type"}]``, or one tensor ``{"type": "tensor", "dtype", "shape"}``."""

    columns: list[dict[str, Any]] = field(default_factory=list)
    tensor: dict[str, Any] | None = None

    def to_json(self) -> str:
        if self.tensor is not None:
            return json.dumps([{"type": "tensor", "tensor-spec": self.tensor}])
        return json.dumps(self.columns)

    @classmethod
    def from_json(cls, text: str) -> Schema:
        specs = json.loads(text)
        if specs and specs[0].get("type") == "tensor":
            return cls(tensor=specs[0]["tensor-spec"])
        return cls(columns=specs)

    @property
    def names(self) -> list[str]:
        return [c["name"] for c in self.columns if "name" in c]


@dataclass(frozen=True)
class Signature:
    inputs: Schema
    outputs: Schema | None = None

    def to_dict(self) -> dict[str, str]:
        out = {"inputs": self.inputs.to_json()}
        if self.outputs is not None:
            out["outputs"] = self.outputs.to_json()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Signature:
        outputs = data.get("outputs")
        return cls(Schema.from_json(data["inputs"]), Schema.from_json(outputs) if outputs else None)

    def conform(self, data: Any) -> Any:
        """``data`` checked (``check``), its columns in the signature's order as the model was fitted."""
        self.check(data)
        names = self.inputs.names
        if self.inputs.tensor is None and names and list(getattr(data, "columns", names)) != names:
            return data[names]
        return data

    def check(self, data: Any) -> None:
        """Raise ``InvalidInputError`` naming the missing, extra or mistyped columns."""
        import pandas as pd

        if self.inputs.tensor is not None or not isinstance(data, pd.DataFrame):
            return
        if len(data) == 0:
            raise InvalidInputError("the input has no rows; send at least one")
        expected = self.inputs.names
        missing = [c for c in expected if c not in data.columns]
        extra = [c for c in data.columns if c not in expected]
        if missing or extra:
            parts = ([f"missing column(s) {missing}"] if missing else []) + (
                [f"unknown column(s) {extra}"] if extra else []
            )
            raise InvalidInputError(
                f"input does not match the model's signature: {'; '.join(parts)}; expected {expected}"
            )
        for spec in self.inputs.columns:
            kind = data[spec["name"]].dtype.kind
            if kind not in ACCEPTS.get(spec["type"], {kind}):
                raise InvalidInputError(
                    f"column {spec['name']!r} must be {spec['type']}, got {data[spec['name']].dtype} values"
                )


def _schema(example: Any) -> Schema:
    import pandas as pd

    if isinstance(example, pd.DataFrame):
        return Schema(
            columns=[{"name": str(c), "type": KINDS.get(example[c].dtype.kind, "string")} for c in example]
        )
    if isinstance(example, pd.Series):
        return Schema(columns=[{"type": KINDS.get(example.dtype.kind, "string")}])
    array = np.asarray(example)
    return Schema(tensor={"dtype": str(array.dtype), "shape": [-1, *array.shape[1:]]})


def infer_signature(model_input: Any, model_output: Any = None) -> Signature:
    """From an input example (DataFrame or array) and, optionally, the model's output on it."""
    return Signature(_schema(model_input), _schema(model_output) if model_output is not None else None)
