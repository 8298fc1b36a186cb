"""Request and response codecs of the MLflow and Azure scoring protocols, and the JSON they share.

* MLflow ``/invocations``: JSON with exactly one of ``dataframe_split``, ``dataframe_records``,
  ``instances``, ``inputs`` (optional ``params``), or CSV.
* Azure ``/score``: ``{"data": …}`` or ``{"input_data": {"columns", "index", "data"}}``, or the
  designer's ``{"Inputs": {"WebServiceInput0": [{row}…]}, "GlobalParameters": {}}``, answered
  ``{"Results": {"WebServiceOutput0": [{row}…]}}``.
* The Open Inference Protocol's tensors are in ``oip.py``.

Every malformed body is an ``InvalidInputError`` that says what was expected: the JSON parser's
own limits (nesting, Python's digits-per-integer limit) and whatever pandas or numpy refuse
while building the table are caught here, so none of them reaches the client as a 500.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from trainyard.errors import InvalidInputError
from trainyard.models.signature import Signature

MLFLOW_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
MAX_DEPTH = 64  # JSON nesting levels; a scoring body needs four or five
T = TypeVar("T")


def parse_json(raw: bytes) -> Any:
    """The body as JSON, or an ``InvalidInputError`` that names what is wrong with it."""
    if not raw.strip():
        raise InvalidInputError("the body is empty; send a JSON object")
    try:
        body = json.loads(raw)
    except RecursionError:
        raise _too_deep() from None
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"the body is not valid JSON: {exc}") from None
    except UnicodeDecodeError:
        raise InvalidInputError("the body is not UTF-8 text; send JSON in UTF-8") from None
    except ValueError:  # what json.loads raises beyond Python's int_max_str_digits
        raise InvalidInputError(
            f"a number in the body has more than {sys.get_int_max_str_digits()} digits"
        ) from None
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _nests_deeper(body, MAX_DEPTH):
        raise _too_deep()
    return body


def _too_deep() -> InvalidInputError:
    return InvalidInputError(f"the JSON body nests more than {MAX_DEPTH} levels of lists and objects")


def _nests_deeper(value: Any, limit: int) -> bool:
    stack = [(value, 1)] if isinstance(value, list | dict) else []
    while stack:
        item, level = stack.pop()
        if level > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, level + 1) for child in children if isinstance(child, list | dict))
    return False


def _built(make: Callable[[], T], what: str) -> T:
    """What pandas or numpy make of the client's values; what they refuse is the client's error."""
    try:
        return make()
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise InvalidInputError(f"{what} does not form a table: {str(exc).splitlines()[0]}") from None


def _split(value: Any, what: str) -> pd.DataFrame:
    """``{"columns", "index"?, "data"}`` as a DataFrame; ragged rows and bad columns are named."""
    if not isinstance(value, dict) or not isinstance(value.get("data"), list):
        raise InvalidInputError(f"{what} needs {{'columns': [...], 'data': [[...]]}}")
    columns, rows, index = value.get("columns"), value["data"], value.get("index")
    if columns is not None:
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise InvalidInputError(f"{what}.columns must be a list of column names (strings)")
        if twice := sorted(c for c, n in Counter(columns).items() if n > 1):
            raise InvalidInputError(f"{what}.columns names {', '.join(map(repr, twice))} more than once")
    width = len(columns) if columns is not None else None
    for i, row in enumerate(rows):
        if not isinstance(row, list):
            raise InvalidInputError(f"{what}.data row {i} is not a list of values")
        width = len(row) if width is None else width
        if len(row) != width:
            raise InvalidInputError(
                f"{what}.data row {i} has {len(row)} values; "
                + (f"columns names {width}" if columns is not None else f"row 0 has {width}")
            )
    if index is not None and (not isinstance(index, list) or len(index) != len(rows)):
        raise InvalidInputError(f"{what}.index must be a list with one label per row ({len(rows)})")
    return _built(lambda: pd.DataFrame(rows, columns=columns, index=index), what)


def _frame(value: Any, signature: Signature | None, what: str) -> Any:
    """Rows (lists or dicts) as a DataFrame named by the signature, or an array for tensor models."""
    if isinstance(value, dict):
        return _built(lambda: pd.DataFrame(value), what)
    if not isinstance(value, list) or not value:
        raise InvalidInputError(f"{what} must be a non-empty list of rows")
    if any(isinstance(row, dict) for row in value):
        if not all(isinstance(row, dict) for row in value):
            raise InvalidInputError(f"{what}: rows must all be objects or all be lists")
        return _built(lambda: pd.DataFrame(value), what)
    if signature is not None and signature.inputs.names:
        names = signature.inputs.names
        for i, row in enumerate(value):
            if (len(row) if isinstance(row, list) else 1) != len(names):
                raise InvalidInputError(
                    f"{what}: each row needs {len(names)} values ({', '.join(names)}); row {i} differs"
                )
        return _built(lambda: pd.DataFrame(value, columns=names), what)
    return _built(lambda: np.asarray(value), what)


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
        return _split(value, key)
    if key == "dataframe_records":
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            raise InvalidInputError("dataframe_records must be a list of {column: value} objects")
        return _built(lambda: pd.DataFrame(value), key)
    return _frame(value, signature, key)


def decode_csv(raw: bytes) -> pd.DataFrame:
    """A CSV body: UTF-8 (a BOM is fine), a header, then rows exactly as wide as the header.

    Checked row by row first, because pandas fills a short row with NaN without a word.
    ``UnicodeDecodeError`` is left to the caller, which answers 415.
    """
    text = raw.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    try:
        header = next((row for row in reader if row), None)
        if header is None:
            raise InvalidInputError("the CSV body is empty; send a header line, then rows")
        rows = 0
        for row in reader:
            if row and len(row) != len(header):
                raise InvalidInputError(
                    f"CSV line {reader.line_num} has {len(row)} fields; the header has {len(header)}"
                )
            rows += bool(row)
    except csv.Error as exc:
        raise InvalidInputError(f"cannot read the CSV body at line {reader.line_num}: {exc}") from None
    if not rows:
        raise InvalidInputError("the CSV body has a header but no rows")
    try:
        return pd.read_csv(io.StringIO(text))
    except (ValueError, pd.errors.ParserError) as exc:
        raise InvalidInputError(f"cannot read the CSV body: {str(exc).splitlines()[0]}") from None


def decode_azure(body: Any, signature: Signature | None) -> Any:
    if not isinstance(body, dict) or not ({"data", "input_data"} & set(body)):
        raise InvalidInputError(
            'send {"data": [[...]]}, {"input_data": {"columns": [...], "data": [[...]]}} or '
            '{"Inputs": {"WebServiceInput0": [{...}]}}'
        )
    if "input_data" in body:
        value = body["input_data"]
        if isinstance(value, dict) and "data" in value:
            return _split(value, "input_data")
        return _frame(value, signature, "input_data")
    return _frame(body["data"], signature, "data")


DESIGNER_INPUT, DESIGNER_OUTPUT = "WebServiceInput0", "WebServiceOutput0"


def is_designer(body: Any) -> bool:
    """Whether a ``/score`` body is the designer's web service shape (``Inputs``)."""
    return isinstance(body, dict) and "Inputs" in body


def decode_designer(body: dict[str, Any]) -> pd.DataFrame:
    """The rows of the designer's one web service input."""
    inputs, extra = body["Inputs"], sorted(set(body) - {"Inputs", "GlobalParameters"})
    if extra:
        raise InvalidInputError(f"the designer's body has Inputs and GlobalParameters, not {extra[0]!r}")
    if not isinstance(body.get("GlobalParameters", {}), dict):
        raise InvalidInputError("GlobalParameters must be an object")
    if not isinstance(inputs, dict) or len(inputs) != 1:
        raise InvalidInputError(f'Inputs must hold one web service input: {{"{DESIGNER_INPUT}": [{{...}}]}}')
    ((name, rows),) = inputs.items()
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise InvalidInputError(f"Inputs.{name} must be a non-empty list of {{column: value}} rows")
    return _built(lambda: pd.DataFrame(rows), f"Inputs.{name}")


def designer_reply(rows: pd.DataFrame, predictions: Any) -> dict[str, Any]:
    """The scored rows as the designer's web service output: a model that scores a table (an
    inference pipeline) gives its rows; any other model's predictions become ``Scored Labels``."""
    if not isinstance(predictions, pd.DataFrame):
        predictions = rows.assign(**{"Scored Labels": as_list(predictions)})
    return {"Results": {DESIGNER_OUTPUT: json.loads(predictions.to_json(orient="records"))}}


def non_finite(data: Any) -> str:
    """Where the input holds NaN or ±Infinity (``""`` if nowhere): why a model may refuse it."""
    if isinstance(data, pd.DataFrame):
        for column in data.columns:
            values = data[column].to_numpy()
            if values.dtype.kind == "f" and (bad := ~np.isfinite(values)).any():
                row = int(np.argmax(bad))
                return f"{values[row]} in column {column!r}, row {row}"
        return ""
    if isinstance(data, np.ndarray) and data.dtype.kind == "f" and (bad := ~np.isfinite(data)).any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        return f"{data[where]} at index {list(where)}"
    return ""


def as_list(predictions: Any) -> list[Any]:
    if isinstance(predictions, pd.DataFrame | pd.Series):
        predictions = predictions.to_numpy()
    return np.asarray(predictions).tolist()
