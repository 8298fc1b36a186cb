"""The routes the studio's artifact previews read: a Parquet file's first rows and an MLmodel's
signature, as columns, for a reader too; bounded, and a clear 4xx for a file of another kind."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tests.integration.scoring_helpers import COLUMNS, saved_iris
from tests.integration.server_helpers import token_for_app
from trainyard.server.app import create_app
from trainyard.server.routes import artifact_previews
from trainyard.server.routes.artifact_previews import MAX_PREVIEW_COLUMNS, MAX_PREVIEW_ROWS
from trainyard.workspace import Workspace

TABLE = "/api/v1/artifact-table"
MLMODEL = "/api/v1/artifact-mlmodel"


def _reader(ws: Workspace) -> TestClient:
    app = create_app(ws)
    token = token_for_app(app, "reader", user="reader")
    return TestClient(app, base_url="http://127.0.0.1", headers={"Authorization": f"Bearer {token}"})


def test_a_parquet_files_first_rows_come_back_as_columns_to_a_reader(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws")
    frame = pd.DataFrame(
        {
            "step": range(2500),
            "loss": [math.inf] + [1 / (i + 1) for i in range(1, 2500)],
            "split": ["train", "test"] * 1250,
            "when": pd.date_range("2026-01-01", periods=2500, freq="h"),
        }
    )
    frame.to_parquet(tmp_path / "t.parquet", row_group_size=100)
    ws.artifacts.put_file("runs/r1/outputs/t.parquet", tmp_path / "t.parquet")
    http = _reader(ws)

    first = http.get(TABLE, params={"key": "runs/r1/outputs/t.parquet", "rows": 3})
    assert first.status_code == 200
    assert first.json() == {
        "columns": {
            "step": [0, 1, 2],
            "loss": ["Infinity", 0.5, 1 / 3],
            "split": ["train", "test", "train"],
            "when": ["2026-01-01 00:00:00", "2026-01-01 01:00:00", "2026-01-01 02:00:00"],
        },
        "total_rows": 2500,
        "total_columns": 4,
    }
    default = http.get(TABLE, params={"key": "runs/r1/outputs/t.parquet"}).json()
    assert len(default["columns"]["step"]) == 100
    most = http.get(TABLE, params={"key": "runs/r1/outputs/t.parquet", "rows": MAX_PREVIEW_ROWS}).json()
    assert most["columns"]["step"] == list(range(MAX_PREVIEW_ROWS))  # across row groups
    crossing = http.get(TABLE, params={"key": "runs/r1/outputs/t.parquet", "rows": 250}).json()
    assert crossing["columns"]["split"] == ["train", "test"] * 125
    for rows in (0, MAX_PREVIEW_ROWS + 1):
        assert http.get(TABLE, params={"key": "runs/r1/outputs/t.parquet", "rows": rows}).status_code == 400
    ws.close()


def test_a_wide_table_shows_its_first_columns_and_a_large_first_group_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = Workspace.create(tmp_path / "ws")
    wide = pd.DataFrame({f"c{i}": [i] for i in range(MAX_PREVIEW_COLUMNS + 5)})
    wide.to_parquet(tmp_path / "wide.parquet")
    ws.artifacts.put_file("runs/r1/wide.parquet", tmp_path / "wide.parquet")
    http = _reader(ws)
    answer = http.get(TABLE, params={"key": "runs/r1/wide.parquet"}).json()
    assert list(answer["columns"]) == [f"c{i}" for i in range(MAX_PREVIEW_COLUMNS)]
    assert answer["total_columns"] == MAX_PREVIEW_COLUMNS + 5 and answer["total_rows"] == 1
    monkeypatch.setattr(artifact_previews, "MAX_ROW_GROUP_BYTES", 100)
    refused = http.get(TABLE, params={"key": "runs/r1/wide.parquet"})
    assert refused.status_code == 400 and "download it instead" in refused.json()["message"]
    ws.close()


def test_a_file_that_is_not_parquet_or_not_there_is_a_clear_4xx(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws")
    ws.artifacts.put_bytes("runs/r1/outputs/t.csv", b"a,b\n1,2\n")
    http = _reader(ws)
    wrong = http.get(TABLE, params={"key": "runs/r1/outputs/t.csv"})
    assert wrong.status_code == 400 and "is not a Parquet file" in wrong.json()["message"]
    missing = http.get(TABLE, params={"key": "runs/r1/outputs/none.parquet"})
    assert missing.status_code == 404 and "none.parquet" in missing.json()["message"]
    assert http.get(TABLE, params={"key": "runs/../etc"}).status_code == 400
    ws.close()


def test_an_mlmodels_signature_comes_back_as_columns(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws")
    folder = saved_iris(tmp_path)[0]
    ws.artifacts.put_file("runs/r1/model/MLmodel", folder / "MLmodel")
    http = _reader(ws)
    answer = http.get(MLMODEL, params={"key": "runs/r1/model/MLmodel"})
    assert answer.status_code == 200
    body = answer.json()
    assert "python_function" in body["flavors"] and "sklearn" in body["flavors"]
    assert body["inputs"]["name"] == COLUMNS
    assert set(body["inputs"]["type"]) == {"double"}
    assert body["outputs"]["type"] == ["tensor of int64"] and body["outputs"]["shape"] == ["[-1]"]
    ws.close()


def test_an_mlmodel_that_is_not_yaml_of_a_model_is_refused_with_what_is_wrong(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws")
    bodies = {
        "bad-yaml": (b"flavors: [unclosed\n", "is not an MLmodel file (YAML)"),
        "a-list": (b"- 1\n- 2\n", "is not an MLmodel file"),
        "bad-signature": (b"flavors: {}\nsignature:\n  inputs: '[{'\n", "signature that is not JSON"),
    }
    for name, (data, _) in bodies.items():
        ws.artifacts.put_bytes(f"runs/r1/{name}/MLmodel", data)
    ws.artifacts.put_bytes("runs/r1/none/MLmodel", b"flavors: {python_function: {}}\n")
    http = _reader(ws)
    for name, (_, message) in bodies.items():
        refused = http.get(MLMODEL, params={"key": f"runs/r1/{name}/MLmodel"})
        assert refused.status_code == 400 and message in refused.json()["message"], name
    unsigned = http.get(MLMODEL, params={"key": "runs/r1/none/MLmodel"}).json()
    assert unsigned["flavors"] == ["python_function"] and unsigned["inputs"] is None
    assert http.get(MLMODEL, params={"key": "runs/r1/gone/MLmodel"}).status_code == 404
    ws.close()
