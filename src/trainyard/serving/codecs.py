"""Request and response codecs of the three scoring protocols, over one prediction core.

* MLflow ``/invocations``: JSON with exactly one of ``dataframe_split``, ``dataframe_records``,
  ``instances``, ``inputs`` (optional ``params``), or CSV.
* Azure ``/score``: ``{"data": …}`` or ``{"input_data": {"columns", "index", "data"}}``.
* Open Inference Protocol v2 ``/v2/models/{name}/infer``: named, shaped, typed tensors.

Every malformed body is an ``InvalidInputError`` that says what was expected.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

from trainyard.errors import InvalidInputError
from trainyard.models.signature import Signature

MLFLOW_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
OIP_TYPES = {
    "BOOL": "bool",
    "UINT8": "uint8",
    "UINT16": "uint16",
    "UINT32": "uint32",
    "UINT64": "uint64",
    "INT8": "int8",
    "INT16": "int16",
    "INT32": "int32",
    "INT64": "int64",
    "FP16": "float16",
    "FP32": "float32",
    "FP64": "float64",
    "BYTES": "object",
}
NUMPY_TO_OIP = {v: k for k, v in OIP_TYPES.items()}


def _frame(value: Any, signature: Signature | None, what: str) -> Any:
    """Rows (lists or dicts) as a DataFrame named by the signature, or an array for tensor models."""
    if isinstance(value, dict):
        return pd.DataFrame(value)
    if not isinstance(value, list) or not value:
        raise InvalidInputError(f"{what} must be a non-empty list of rows")
    if isinstance(value[0], dict):
        return pd.DataFrame(value)
    if signature is not None and signature.inputs.names:
        names = signature.inputs.names
        widths = {len(row) if isinstance(row, list) else 1 for row in value}
        if widths != {len(names)}:
            raise InvalidInputError(f"{what}: each row needs {len(names)} values ({', '.join(names)})")
        return pd.DataFrame(value, columns=names)
    return np.asarray(value)


def decode_mlflow(body: Any, signature: Signature | None) -> Any:
    if not isinstance(body, dict):
        raise InvalidInputError(
            f"the JSON body must be an object with one of the keys {', '.join(MLFLOW_KEYS)}"
        )
    present = [k for k in MLFLOW_KEYS if k in body]
    if len(present) != 1:
        raise InvalidInputError(
            f"give exactly one of {', '.join(MLFLOW_KEYS)}; got {', '.join(present) or 'none of them'}"
        )
    key = present[0]
    value = body[key]
    if key == "dataframe_split":
        if not isinstance(value, dict) or "data" not in value:
            raise InvalidInputError("dataframe_split needs {'columns': [...], 'data': [[...]]}")
        try:
            return pd.DataFrame(value["data"], columns=value.get("columns"), index=value.get("index"))
        except (ValueError, TypeError) as exc:
            raise InvalidInputError(f"dataframe_split does not form a table: {exc}") from None
    if key == "dataframe_records":
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            raise InvalidInputError("dataframe_records must be a list of {column: value} objects")
        return pd.DataFrame(value)
    return _frame(value, signature, key)


def decode_csv(text: bytes) -> pd.DataFrame:
    try:
        return pd.read_csv(io.BytesIO(text))
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read the CSV body: {str(exc).splitlines()[0]}") from None


def decode_azure(body: Any, signature: Signature | None) -> Any:
    if not isinstance(body, dict) or not ({"data", "input_data"} & set(body)):
        raise InvalidInputError(
            'send {"data": [[...]]} or {"input_data": {"columns": [...], "data": [[...]]}}'
        )
    if "input_data" in body:
        value = body["input_data"]
        if isinstance(value, dict) and "data" in value:
            return pd.DataFrame(value["data"], columns=value.get("columns"), index=value.get("index"))
        return _frame(value, signature, "input_data")
    return _frame(body["data"], signature, "data")


def decode_oip(body: Any, signature: Signature | None) -> Any:
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list) or not body["inputs"]:
        raise InvalidInputError('send {"inputs": [{"name", "shape", "datatype", "data"}, ...]}')
    arrays = {}
    for tensor in body["inputs"]:
        if not isinstance(tensor, dict) or not {"name", "shape", "datatype", "data"} <= set(tensor):
            raise InvalidInputError("each input needs name, shape, datatype and data")
        dtype = OIP_TYPES.get(tensor["datatype"])
        if dtype is None:
            raise InvalidInputError(
                f"unknown datatype {tensor['datatype']!r}; use one of {', '.join(OIP_TYPES)}"
            )
        try:
            arrays[tensor["name"]] = np.asarray(tensor["data"], dtype=dtype).reshape(tensor["shape"])
        except (ValueError, TypeError) as exc:
            raise InvalidInputError(f"input {tensor['name']!r}: {exc}") from None
    names = signature.inputs.names if signature is not None else []
    if names and set(arrays) == set(names):
        return pd.DataFrame({n: arrays[n].reshape(-1) for n in names})
    if len(arrays) == 1:
        array = next(iter(arrays.values()))
        return pd.DataFrame(array, columns=names) if names and array.ndim == 2 else array
    raise InvalidInputError(f"send one tensor, or one per column: {', '.join(names) or 'none declared'}")


def as_list(predictions: Any) -> list[Any]:
    if isinstance(predictions, pd.DataFrame | pd.Series):
        predictions = predictions.to_numpy()
    return np.asarray(predictions).tolist()


def encode_oip(predictions: Any, name: str, version: str) -> dict[str, Any]:
    array = np.asarray(
        as_list(predictions) if isinstance(predictions, pd.DataFrame | pd.Series) else predictions
    )
    datatype = NUMPY_TO_OIP.get(str(array.dtype), "BYTES")
    return {
        "model_name": name,
        "model_version": version,
        "outputs": [
            {
                "name": "predict",
                "shape": list(array.shape),
                "datatype": datatype,
                "data": array.reshape(-1).tolist(),
            }
        ],
    }
