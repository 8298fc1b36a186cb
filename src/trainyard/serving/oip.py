"""Open Inference Protocol (KServe v2) tensors: model metadata, JSON and binary tensor data.

Binary tensor data is the extension tritonclient uses by default: the body is a JSON header of
``Inference-Header-Content-Length`` bytes followed by raw little-endian tensors, each input's
size in its ``parameters.binary_data_size`` (``BYTES`` elements as a 4-byte length and the
bytes). Outputs come back the same way when the request asks, with ``parameters.binary_data_output``
for all of them or ``binary_data`` per requested output; otherwise as JSON ``data``.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any

import numpy as np
import pandas as pd

from trainyard.errors import InvalidInputError
from trainyard.models.format import LoadedModel
from trainyard.models.signature import Schema, Signature
from trainyard.serving.codecs import as_list, parse_json

HEADER_LENGTH = "inference-header-content-length"
OUTPUT = "predict"  # the one output tensor: what the model's predict returns
EXTENSIONS = ["binary_tensor_data"]
DATATYPES = {
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
NUMPY_TO_OIP = {v: k for k, v in DATATYPES.items()}
COLUMN_TYPES = {  # MLflow column types as OIP datatypes
    "double": "FP64",
    "float": "FP32",
    "long": "INT64",
    "integer": "INT32",
    "boolean": "BOOL",
    "string": "BYTES",
    "binary": "BYTES",
    "datetime": "BYTES",
}


def datatype_of(dtype: Any) -> str:
    """The OIP datatype of a numpy dtype; text, objects and anything unlisted are ``BYTES``."""
    return NUMPY_TO_OIP.get(np.dtype(dtype).name, "BYTES")


def _inputs(schema: Schema | None) -> list[dict[str, Any]]:
    """One tensor per named column (how ``decode`` takes them), or the signature's one tensor."""
    if schema is None:
        return []
    if schema.tensor is not None or len(schema.names) != len(schema.columns):
        return _one_tensor(schema, "input")
    return [
        {"name": c["name"], "datatype": COLUMN_TYPES.get(c["type"], "BYTES"), "shape": [-1]}
        for c in schema.columns
    ]


def _one_tensor(schema: Schema | None, name: str) -> list[dict[str, Any]]:
    if schema is None:
        return []
    if schema.tensor is not None:
        return [
            {"name": name, "datatype": datatype_of(schema.tensor["dtype"]), "shape": schema.tensor["shape"]}
        ]
    types = {COLUMN_TYPES.get(c["type"], "BYTES") for c in schema.columns}
    width = len(schema.columns)
    datatype = types.pop() if len(types) == 1 else "BYTES"
    return [{"name": name, "datatype": datatype, "shape": [-1] if width == 1 else [-1, width]}]


def metadata(model: LoadedModel, name: str, version: str) -> dict[str, Any]:
    """``GET /v2/models/{name}``: inputs from the signature, the ``predict`` output from its outputs."""
    signature = model.signature
    return {
        "name": name,
        "versions": [version],
        "platform": model.flavor,
        "inputs": _inputs(signature.inputs if signature else None),
        "outputs": _one_tensor(signature.outputs if signature else None, OUTPUT),
    }


def split_body(raw: bytes, header_length: str | None) -> tuple[Any, bytes]:
    """The JSON header and the binary tensor data after it (empty for a JSON-only body)."""
    if header_length is None:
        return parse_json(raw), b""
    if not header_length.strip().isdigit() or int(header_length) > len(raw):
        raise InvalidInputError(
            f"Inference-Header-Content-Length is {header_length!r}; it must be the JSON header's "
            f"length in bytes, at most the body's {len(raw)}"
        )
    cut = int(header_length)
    return parse_json(raw[:cut]), raw[cut:]


def _parameters(item: dict[str, Any], what: str) -> dict[str, Any]:
    parameters = item.get("parameters", {})
    if not isinstance(parameters, dict):
        raise InvalidInputError(f"{what}: parameters must be an object")
    if any(key.startswith("shared_memory") for key in parameters):
        raise InvalidInputError(f"{what}: the shared memory extension is not supported; send the data")
    return parameters


def _shape(tensor: dict[str, Any], what: str) -> list[int]:
    shape = tensor.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise InvalidInputError(f"{what}: shape must be a list of non-negative integers, not {shape!r}")
    return shape


def _from_bytes(raw: bytes, datatype: str, shape: list[int], what: str) -> np.ndarray:
    count = math.prod(shape)
    if datatype == "BYTES":
        items, offset = [], 0
        while offset < len(raw):
            if offset + 4 > len(raw):
                raise InvalidInputError(f"{what}: a BYTES element's 4-byte length is cut short")
            (size,) = struct.unpack_from("<I", raw, offset)
            if offset + 4 + size > len(raw):
                raise InvalidInputError(f"{what}: a BYTES element is longer than the data sent")
            items.append(raw[offset + 4 : offset + 4 + size])
            offset += 4 + size
        if len(items) != count:
            raise InvalidInputError(f"{what}: {len(items)} BYTES elements for shape {shape}")
        return np.array([_text(b) for b in items] or [], dtype=object).reshape(shape)
    dtype = np.dtype(DATATYPES[datatype]).newbyteorder("<")
    if len(raw) != count * dtype.itemsize:
        raise InvalidInputError(
            f"{what}: {len(raw)} bytes of {datatype} for shape {shape}; expected {count * dtype.itemsize}"
        )
    return np.frombuffer(raw, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def _text(item: bytes) -> str | bytes:
    try:
        return item.decode("utf-8")
    except UnicodeDecodeError:
        return item


def _from_json(data: Any, datatype: str, shape: list[int], what: str) -> np.ndarray:
    try:
        return np.asarray(data, dtype=DATATYPES[datatype]).reshape(shape)
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise InvalidInputError(f"{what}: {str(exc).splitlines()[0]}") from None


def _input(tensor: Any, tail: bytes, offset: int) -> tuple[str, np.ndarray, int]:
    """One input tensor and where the next one's binary data starts."""
    if not isinstance(tensor, dict) or not {"name", "shape", "datatype"} <= set(tensor):
        raise InvalidInputError("each input needs name, shape, datatype and data (or binary data)")
    name, datatype = tensor["name"], tensor["datatype"]
    what = f"input {name!r}"
    if not isinstance(name, str) or not isinstance(datatype, str) or datatype not in DATATYPES:
        raise InvalidInputError(f"{what}: unknown datatype {datatype!r}; use one of {', '.join(DATATYPES)}")
    shape, parameters = _shape(tensor, what), _parameters(tensor, what)
    size = parameters.get("binary_data_size")
    if size is None:
        if "data" not in tensor:
            raise InvalidInputError(f"{what} needs data, or parameters.binary_data_size and binary data")
        return name, _from_json(tensor["data"], datatype, shape, what), offset
    if not isinstance(size, int) or isinstance(size, bool) or size < 0 or offset + size > len(tail):
        raise InvalidInputError(
            f"{what}: binary_data_size {size!r} does not fit the {len(tail) - offset} bytes left"
        )
    return name, _from_bytes(tail[offset : offset + size], datatype, shape, what), offset + size


def decode(body: Any, tail: bytes, signature: Signature | None) -> Any:
    """The request's input tensors as what the model takes: one column each, or one table."""
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list) or not body["inputs"]:
        raise InvalidInputError('send {"inputs": [{"name", "shape", "datatype", "data"}, ...]}')
    _parameters(body, "the request")
    arrays, offset = {}, 0
    for tensor in body["inputs"]:
        name, array, offset = _input(tensor, tail, offset)
        arrays[name] = array
    if offset != len(tail):
        raise InvalidInputError(
            f"{len(tail) - offset} bytes of binary data after the inputs' binary_data_size"
        )
    names = signature.inputs.names if signature is not None else []
    if names and set(arrays) == set(names):
        if len({a.size for a in arrays.values()}) != 1:
            sizes = ", ".join(f"{n}: {a.size}" for n, a in arrays.items())
            raise InvalidInputError(f"the column tensors differ in length ({sizes}); send one value per row")
        return pd.DataFrame({n: arrays[n].reshape(-1) for n in names})
    if len(arrays) == 1 and not names:
        return next(iter(arrays.values()))
    array = next(iter(arrays.values()))
    if len(arrays) == 1 and array.ndim == 2 and array.shape[1] == len(names):
        return pd.DataFrame(array, columns=names)
    raise InvalidInputError(
        f"send one tensor per column ({', '.join(names)}) or one [rows, {len(names)}] tensor"
        if names
        else "send one tensor: the model's signature names no columns"
    )


def wants_binary(body: dict[str, Any]) -> bool:
    """Whether the ``predict`` output goes back as binary data; refuses outputs the model lacks."""
    binary = _parameters(body, "the request").get("binary_data_output", False) is True
    requested = body.get("outputs")
    if requested is None:
        return binary
    if not isinstance(requested, list) or not all(isinstance(o, dict) for o in requested):
        raise InvalidInputError('outputs must be a list of {"name": ..., "parameters"?: {...}}')
    for output in requested:
        if output.get("name") != OUTPUT:
            raise InvalidInputError(f"unknown output {output.get('name')!r}; this model has one: {OUTPUT!r}")
        binary = _parameters(output, f"output {OUTPUT!r}").get("binary_data", binary) is True
    return binary


def _jsonable(item: Any) -> Any:
    """NaN and ±Infinity as null, as on the other routes: JSON has no such numbers."""
    if isinstance(item, float):
        return item if math.isfinite(item) else None
    if isinstance(item, bytes):
        item = _text(item)
    return item if isinstance(item, str | int | bool) or item is None else str(item)


def _as_bytes(array: np.ndarray, datatype: str) -> bytes:
    if datatype != "BYTES":
        return array.astype(array.dtype.newbyteorder("<")).tobytes()
    parts = []
    for item in array.reshape(-1):
        data = item if isinstance(item, bytes) else str(item).encode("utf-8")
        parts += [struct.pack("<I", len(data)), data]
    return b"".join(parts)


def encode(
    predictions: Any, name: str, version: str, binary: bool, request_id: Any = None
) -> tuple[bytes, int | None]:
    """The response body and, for binary output, the JSON header's length (the header to send)."""
    array = np.asarray(
        as_list(predictions) if isinstance(predictions, pd.DataFrame | pd.Series) else predictions
    )
    datatype = datatype_of(array.dtype)
    output: dict[str, Any] = {"name": OUTPUT, "shape": list(array.shape), "datatype": datatype}
    raw = _as_bytes(array, datatype) if binary else b""
    if binary:
        output["parameters"] = {"binary_data_size": len(raw)}
    else:
        output["data"] = [_jsonable(x) for x in array.reshape(-1).tolist()]
    reply: dict[str, Any] = {"model_name": name, "model_version": version, "outputs": [output]}
    if request_id is not None:
        reply["id"] = request_id
    header = json.dumps(reply, separators=(",", ":"), default=str).encode()
    return header + raw, len(header) if binary else None
