"""Request schemas for the OpenAPI document, made from the model's signature and input example."""

from __future__ import annotations

import json
from typing import Any

from trainyard.models.format import EXAMPLE, LoadedModel
from trainyard.serving.oip import DATATYPES, OUTPUT

JSON_TYPES = {
    "double": "number",
    "float": "number",
    "long": "integer",
    "integer": "integer",
    "boolean": "boolean",
    "string": "string",
    "binary": "string",
    "datetime": "string",
}


def _columns(model: LoadedModel) -> list[dict[str, Any]]:
    if model.signature is None or model.signature.inputs.tensor is not None:
        return []
    return [c for c in model.signature.inputs.columns if "name" in c]


def _row_schemas(model: LoadedModel) -> tuple[dict[str, Any], dict[str, Any]]:
    columns = _columns(model)
    if not columns:
        return {"type": "array"}, {"type": "object"}
    as_list = {
        "type": "array",
        "prefixItems": [{"type": JSON_TYPES.get(c["type"], "string"), "title": c["name"]} for c in columns],
        "minItems": len(columns),
        "maxItems": len(columns),
    }
    as_record = {
        "type": "object",
        "required": [c["name"] for c in columns],
        "properties": {c["name"]: {"type": JSON_TYPES.get(c["type"], "string")} for c in columns},
    }
    return as_list, as_record


def _example(model: LoadedModel) -> dict[str, Any] | None:
    path = model.path / EXAMPLE
    return json.loads(path.read_text()) if path.is_file() else None


def request_bodies(model: LoadedModel) -> dict[str, dict[str, Any]]:
    """``openapi_extra`` per route: what each protocol expects for this model."""
    row, record = _row_schemas(model)
    names = [c["name"] for c in _columns(model)]
    split = {
        "type": "object",
        "required": ["data"],
        "properties": {
            "columns": {"type": "array", "items": {"enum": names} if names else {}},
            "data": {"type": "array", "items": row},
        },
    }
    invocations = {
        "type": "object",
        "description": "exactly one of the keys",
        "properties": {
            "dataframe_split": split,
            "dataframe_records": {"type": "array", "items": record},
            "instances": {"type": "array", "items": row},
            "inputs": {"type": "array", "items": row},
            "params": {"type": "object"},
        },
    }
    score = {"type": "object", "properties": {"data": {"type": "array", "items": row}, "input_data": split}}
    example = _example(model)
    invocation_content: dict[str, Any] = {"schema": invocations}
    if example is not None:
        invocation_content["example"] = example
    tensor = {
        "type": "object",
        "required": ["name", "shape", "datatype"],
        "properties": {
            "name": {"type": "string", **({"enum": names} if names else {})},
            "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            "datatype": {"enum": list(DATATYPES)},
            "parameters": {"type": "object", "properties": {"binary_data_size": {"type": "integer"}}},
            "data": {"type": "array"},
        },
    }
    infer = {
        "type": "object",
        "required": ["inputs"],
        "properties": {
            "id": {"type": "string"},
            "parameters": {"type": "object", "properties": {"binary_data_output": {"type": "boolean"}}},
            "inputs": {"type": "array", "minItems": 1, "items": tensor},
            "outputs": {
                "type": "array",
                "items": {"type": "object", "properties": {"name": {"enum": [OUTPUT]}}},
            },
        },
    }
    binary = {
        "schema": {"type": "string", "format": "binary"},
        "description": "binary tensor data: the JSON request, Inference-Header-Content-Length bytes long, "
        "then each input's parameters.binary_data_size bytes",
    }
    return {
        "infer": {
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": infer}, "application/octet-stream": binary},
            }
        },
        "invocations": {
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": invocation_content,
                    "text/csv": {"schema": {"type": "string"}},
                },
            }
        },
        "score": {"requestBody": {"required": True, "content": {"application/json": {"schema": score}}}},
    }
