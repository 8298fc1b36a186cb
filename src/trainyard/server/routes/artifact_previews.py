"""Previews of artifacts the browser cannot read itself: a Parquet table's first rows and an
``MLmodel`` file's flavors and signature, as JSON for the studio's artifact list.

Both are reads (a reader may ask, as for every artifact download) and both are bounded: at most
``MAX_PREVIEW_ROWS`` rows and ``MAX_PREVIEW_COLUMNS`` columns of a Parquet file, read row group
by row group so a large file costs only its first groups (a first group over
``MAX_ROW_GROUP_BYTES`` is refused), and an ``MLmodel`` of at most ``MAX_MLMODEL_BYTES``. A file
that is not what the route reads is a 400 that says so; a missing one a 404.

Tables travel as columns, ``{"name": [values…]}``, the shape ``run.log_table`` stores, so the
studio draws a preview, a logged table and a signature with one component.
"""

from __future__ import annotations

import datetime
import decimal
import json
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Query

from trainyard.api import routes
from trainyard.api.schemas import encode_float
from trainyard.artifacts import ArtifactStore, safe_name
from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.server.routes.deps import ArtifactsDep
from trainyard.server.routing import serve

router = APIRouter(tags=["artifacts"])
MAX_PREVIEW_ROWS = 1000
MAX_PREVIEW_COLUMNS = 200
MAX_ROW_GROUP_BYTES = 256 * 1024 * 1024  # uncompressed: what reading the first group holds
MAX_MLMODEL_BYTES = 1024 * 1024
MAX_CELL_CHARS = 1000  # a long string or blob is cut, so one cell cannot fill the answer


def _file(artifacts: ArtifactStore, key: str) -> str:
    key = safe_name(key)
    if not artifacts.is_file(key):
        raise NotFoundError(f"no artifact file {key!r}")
    return key


@serve(router, routes.ARTIFACT_TABLE)
def table(
    key: str,
    artifacts: ArtifactsDep,
    rows: Annotated[int, Query(ge=1, le=MAX_PREVIEW_ROWS)] = 100,
) -> Any:
    """The first ``rows`` rows of the Parquet file ``key``: its columns, and how many it holds."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    key = _file(artifacts, key)
    with artifacts.open(key) as fh:
        try:
            parquet = pq.ParquetFile(fh)
        except (pa.ArrowInvalid, OSError) as error:
            raise InvalidInputError(f"{key!r} is not a Parquet file ({error}); download it instead") from None
        meta = parquet.metadata
        if meta.num_row_groups and meta.row_group(0).total_byte_size > MAX_ROW_GROUP_BYTES:
            raise InvalidInputError(
                f"{key!r} has a first row group of {meta.row_group(0).total_byte_size} bytes, over the "
                f"preview's {MAX_ROW_GROUP_BYTES}; download it instead"
            )
        names = parquet.schema_arrow.names
        shown = names[:MAX_PREVIEW_COLUMNS]
        batches: list[pa.RecordBatch] = []
        for batch in parquet.iter_batches(batch_size=rows, columns=shown):  # one may end with its group
            batches.append(batch)
            if sum(b.num_rows for b in batches) >= rows:
                break
    if batches:
        values = pa.Table.from_batches(batches).slice(0, rows).to_pydict()
    else:
        values = {name: [] for name in shown}
    return {
        "columns": {name: [_cell(v) for v in values[name]] for name in shown},
        "total_rows": meta.num_rows,
        "total_columns": len(names),
    }


def _cell(value: Any) -> Any:
    """A Parquet value as JSON: numbers and strings as they are, non-finite floats as MLflow's strings."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return encode_float(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, datetime.date | datetime.time | datetime.timedelta):
        return str(value)
    if isinstance(value, bytes):
        return value[:MAX_CELL_CHARS].hex()
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= MAX_CELL_CHARS else text[:MAX_CELL_CHARS] + "…"


@serve(router, routes.ARTIFACT_MLMODEL)
def mlmodel(key: str, artifacts: ArtifactsDep) -> Any:
    """The ``MLmodel`` file ``key``: its flavors, and its signature's inputs and outputs as columns."""
    key = _file(artifacts, key)
    size = artifacts.size(key)
    if size > MAX_MLMODEL_BYTES:
        raise InvalidInputError(f"{key!r} is {size} bytes, over an MLmodel's {MAX_MLMODEL_BYTES}")
    try:
        descriptor = yaml.safe_load(artifacts.get_bytes(key))
    except yaml.YAMLError as error:
        raise InvalidInputError(f"{key!r} is not an MLmodel file (YAML): {error}") from None
    if not isinstance(descriptor, dict):
        raise InvalidInputError(f"{key!r} is not an MLmodel file: YAML of keys such as flavors and signature")
    signature = descriptor.get("signature") or {}
    if not isinstance(signature, dict):
        raise InvalidInputError(f"{key!r} has a signature that is not a mapping of inputs and outputs")
    flavors = descriptor.get("flavors")
    return {
        "flavors": sorted(flavors) if isinstance(flavors, dict) else [],
        "run_id": descriptor.get("run_id"),
        "created": str(descriptor.get("utc_time_created") or "") or None,
        "inputs": _schema(key, signature.get("inputs")),
        "outputs": _schema(key, signature.get("outputs")),
    }


def _schema(key: str, spec: Any) -> dict[str, list[Any]] | None:
    """A signature's inputs or outputs (a JSON string of column or tensor specs) as columns."""
    if spec is None:
        return None
    try:
        specs = json.loads(spec) if isinstance(spec, str) else spec
    except json.JSONDecodeError as error:
        raise InvalidInputError(f"{key!r} has a signature that is not JSON: {error}") from None
    if not isinstance(specs, list) or not all(isinstance(s, dict) for s in specs):
        raise InvalidInputError(f"{key!r} has a signature that is not a list of column specs")
    columns: dict[str, list[Any]] = {"name": [], "type": [], "shape": [], "optional": []}
    for item in specs:
        tensor = item.get("tensor-spec") if isinstance(item.get("tensor-spec"), dict) else {}
        columns["name"].append(item.get("name", ""))
        columns["type"].append(f"tensor of {tensor.get('dtype')}" if tensor else item.get("type"))
        columns["shape"].append(json.dumps(tensor["shape"]) if "shape" in tensor else "")
        columns["optional"].append(not item.get("required", True))
    return columns
