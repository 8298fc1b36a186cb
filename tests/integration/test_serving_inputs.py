"""Malformed scoring bodies are the client's mistake: a 4xx JSON error that names it, never a 500."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.integration.scoring_helpers import COLUMNS, saved_iris
from trainyard import models
from trainyard.serving.app import create_app

ROUTES = ("/invocations", "/score", "/v2/models/m/infer")


@pytest.fixture(scope="module")
def iris(tmp_path_factory):
    path, model, X = saved_iris(tmp_path_factory.mktemp("m"))
    return TestClient(create_app(models.load(path), "m", "1"), raise_server_exceptions=False), model, X


@pytest.fixture(scope="module")
def unsigned(tmp_path_factory):
    """A model without a signature whose predict takes anything: one NaN per row."""

    class Fine:
        def predict(self, data):
            return np.full(np.shape(data)[:1], np.nan)

    loaded = models.load(models.save(Fine(), tmp_path_factory.mktemp("fine") / "fine"), trust=True)
    return TestClient(create_app(loaded, "m", "1"), raise_server_exceptions=False)


def split(*rows: list, columns: list | str = COLUMNS) -> dict:
    return {"columns": columns, "data": list(rows)}


@pytest.mark.parametrize(
    ("route", "body", "message"),
    [
        (
            "/invocations",
            json.dumps({"dataframe_split": split([1, 2, 3, 4], [1, 2])}),
            r"dataframe_split.data row 1 has 2 values; columns names 4",
        ),
        (
            "/invocations",
            json.dumps({"dataframe_split": split([1, 2, 3, 4], [1, 2, 3, 4, 5], columns=None)}),
            r"row 1 has 5 values; row 0 has 4",
        ),
        (
            "/invocations",
            json.dumps({"dataframe_split": split([5.1, 3.5, float("nan"), 0.2])}),
            r"NaN or infinite values \(nan in column 'pl', row 0\)",
        ),
        (
            "/invocations",
            json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2], [5.1, float("-inf"), 1.4, 0.2]]}),
            r"NaN or infinite values \(-inf in column 'sw', row 1\)",
        ),
        ("/invocations", '{"instances": [[5.1, 1e999, 1.4, 0.2]]}', r"inf in column 'sw', row 0"),
        ("/score", json.dumps({"input_data": split([1, 2, 3, 4], columns="sl")}), r"columns must be a list"),
        ("/score", json.dumps({"input_data": split([1, 2, 3, 4], columns=[1, 2, 3, 4])}), r"column names"),
        (
            "/score",
            json.dumps({"input_data": split([1, 2, 3, 4], columns=["sl", "sl", "pl", "pw"])}),
            r"names 'sl' more than once",
        ),
        (
            "/score",
            json.dumps({"input_data": {**split([1, 2, 3, 4]), "index": [0, 1]}}),
            r"one label per row \(1\)",
        ),
        ("/invocations", '{"instances": [[' + "7" * 5000 + ", 1, 1, 1]]}", r"more than 4300 digits"),
        ("/invocations", '{"instances": ' + "[" * 50_000 + "]" * 50_000 + "}", r"nests more than 64 levels"),
        ("/invocations", '{"instances": ' + "[" * 100 + "]" * 100 + "}", r"nests more than 64 levels"),
        ("/invocations", json.dumps({"dataframe_split": split()}), r"no rows"),
        (
            "/invocations",
            json.dumps({"inputs": {"sl": 1, "sw": 2, "pl": 3, "pw": 4}}),
            r"does not form a table",
        ),
        ("/invocations", json.dumps({"instances": [{"sl": 1}, [1, 2, 3, 4]]}), r"all be objects or all"),
        (
            "/v2/models/m/infer",
            json.dumps(
                {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP64", "data": [1, 2, 3, "NaN"]}]}
            ),
            r"NaN or infinite values",
        ),
        (
            "/v2/models/m/infer",
            json.dumps({"inputs": [{"name": "x", "shape": [4], "datatype": "FP64", "data": [1, 2, 3, 4]}]}),
            r"one tensor per column \(sl, sw, pl, pw\) or one \[rows, 4\] tensor",
        ),
        (
            "/v2/models/m/infer",
            json.dumps(
                {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "INT8", "data": [1, 2, 3, 999]}]}
            ),
            r"input 'x'",
        ),
    ],
)
def test_a_malformed_body_is_a_400_naming_the_problem(iris, route, body, message):
    client, _, X = iris
    reply = client.post(route, content=body, headers={"Content-Type": "application/json"})
    assert reply.status_code == 400 and reply.headers["content-type"] == "application/json", reply.text
    said = reply.json().get("message") or reply.json()["error"]
    assert re.search(message, said), said
    assert "Traceback" not in said
    assert client.post("/score", json={"data": X.head(1).values.tolist()}).status_code == 200


def test_a_compressed_body_is_inflated_no_further_than_the_limit(tmp_path):
    import gzip

    path, model, X = saved_iris(tmp_path)
    client = TestClient(create_app(models.load(path), "m", "1", max_body=10_000))
    body = json.dumps({"instances": X.head(2).values.tolist()}).encode()
    reply = client.post("/invocations", content=gzip.compress(body), headers={"Content-Encoding": "gzip"})
    assert reply.json() == {"predictions": model.predict(X.head(2)).tolist()}
    bomb = gzip.compress(b" " * 1_000_000)  # 1 KB on the wire, a megabyte inflated
    reply = client.post("/invocations", content=bomb, headers={"Content-Encoding": "gzip"})
    assert reply.status_code == 413 and "inflates past the limit of 10000 bytes" in reply.json()["message"]
    reply = client.post("/invocations", content=b"not gzip", headers={"Content-Encoding": "gzip"})
    assert reply.status_code == 400 and "not valid gzip" in reply.json()["message"]
    reply = client.post("/invocations", content=body, headers={"Content-Encoding": "br"})
    assert reply.status_code == 415


def test_columns_in_another_order_are_put_in_the_signatures_order(iris):
    client, model, X = iris
    rows = X.head(3)
    shuffled = rows[["pw", "sl", "pl", "sw"]]
    reply = client.post("/invocations", json={"dataframe_records": shuffled.to_dict(orient="records")})
    assert reply.status_code == 200 and reply.json()["predictions"] == model.predict(rows).tolist()


def test_nan_reaches_a_model_that_takes_missing_values(tmp_path):
    from sklearn.ensemble import HistGradientBoostingClassifier

    X = np.array([[0.0, 1.0], [1.0, 0.0], [np.nan, 1.0], [1.0, np.nan]] * 5)
    model = HistGradientBoostingClassifier(max_iter=5).fit(X, [0, 1, 0, 1] * 5)
    loaded = models.load(models.save(model, tmp_path / "hgb"), trust=True)
    client = TestClient(create_app(loaded, "hgb", "1"))
    reply = client.post("/invocations", json={"instances": [[None, 1.0], [1.0, None]]})
    assert reply.status_code == 200, reply.text
    assert reply.json()["predictions"] == model.predict(np.array([[np.nan, 1.0], [1.0, np.nan]])).tolist()


KEYS = st.sampled_from(
    [
        *("dataframe_split", "dataframe_records", "instances", "inputs", "input_data", "data", "params"),
        *("columns", "index", "name", "shape", "datatype", "parameters", "outputs", "id"),
        *("binary_data_size", "binary_data_output", "binary_data", *COLUMNS),
    ]
) | st.text(max_size=4)
LEAF = (
    st.floats()
    | st.integers(-3, 10)
    | st.integers()
    | st.none()
    | st.booleans()
    | st.text(max_size=3)
    | st.sampled_from([*COLUMNS, "FP64", "BYTES", "predict"])
)
JSON = st.recursive(
    LEAF, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(KEYS, inner, max_size=5), max_leaves=40
)
ROWS = st.lists(st.lists(LEAF, max_size=5) | LEAF, max_size=4)
TABLE = st.fixed_dictionaries(
    {"columns": st.lists(st.sampled_from(COLUMNS), max_size=5) | JSON, "data": ROWS | JSON},
    optional={"index": st.lists(LEAF, max_size=4) | JSON},
)
RECORDS = st.lists(
    st.dictionaries(st.sampled_from(COLUMNS) | st.text(max_size=2), LEAF, max_size=5), max_size=4
)
TENSOR = st.fixed_dictionaries(
    {
        "name": st.sampled_from([*COLUMNS, "x"]),
        "shape": st.lists(st.integers(-1, 5), max_size=3),
        "datatype": st.sampled_from(["FP64", "FP32", "INT64", "INT8", "UINT8", "BOOL", "BYTES", "FP99"]),
    },
    optional={
        "data": st.lists(LEAF, max_size=8) | ROWS | JSON,
        "parameters": st.fixed_dictionaries({}, optional={"binary_data_size": st.integers(-1, 40) | JSON}),
    },
)
OIP = st.fixed_dictionaries(
    {"inputs": st.lists(TENSOR, max_size=4) | JSON},
    optional={
        "outputs": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["predict", "x"])}), max_size=2)
        | JSON,
        "parameters": st.fixed_dictionaries({}, optional={"binary_data_output": st.booleans() | JSON}),
        "id": JSON,
    },
)
BODIES = (
    st.builds(
        lambda key, value: {key: value}, st.sampled_from(["dataframe_split", "input_data"]), TABLE | JSON
    )
    | st.builds(lambda value: {"dataframe_records": value}, RECORDS | JSON)
    | st.builds(
        lambda key, value: {key: value}, st.sampled_from(["instances", "inputs", "data"]), ROWS | JSON
    )
    | OIP
    | JSON
)


@settings(max_examples=200, deadline=None)
@given(route=st.sampled_from(ROUTES), body=BODIES, tail=st.none() | st.binary(max_size=40))
def test_random_json_never_gets_a_5xx(iris, unsigned, route, body, tail):
    """Protocol-shaped bodies with random parts, random JSON, and random binary tensor data after it."""
    header = json.dumps(body).encode()
    extra = {} if tail is None else {"Inference-Header-Content-Length": str(len(header))}
    for client in (iris[0], unsigned):
        reply = client.post(
            route, content=header + (tail or b""), headers={"Content-Type": "application/json", **extra}
        )
        assert reply.status_code < 500, (route, body, reply.text)
        assert reply.headers["content-type"].startswith(("application/json", "application/octet-stream"))


HEADER = ",".join(COLUMNS) + "\n"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (HEADER + "5.1,3.5,1.4\n", 400, r"CSV line 2 has 3 fields; the header has 4"),
        (HEADER + "5.1,3.5,1.4,0.2\n5.1,3.5,1.4,0.2,9\n", 400, r"CSV line 3 has 5 fields"),
        (b"", 400, r"the CSV body is empty"),
        (b"\n\n", 400, r"the CSV body is empty"),
        (HEADER, 400, r"a header but no rows"),
        ((HEADER + "5.1,3.5,1.4,0.2\n").replace(",", ";"), 400, r"'sl;sw;pl;pw'|missing|column"),
        ((HEADER + "caf\xe9,3.5,1.4,0.2\n").encode("latin-1"), 415, r"not UTF-8"),
        (HEADER + '"' + "x" * 200_000 + '",1,1,1\n', 400, r"line 2: field larger than field limit"),
        (HEADER + "=cmd(),3.5,1.4,0.2\n", 400, r"."),  # a formula is a string, not a number
    ],
)
def test_a_malformed_csv_body_is_a_4xx_naming_the_line(iris, body, status, message):
    client, _, X = iris
    content = body.encode() if isinstance(body, str) else body
    reply = client.post("/invocations", content=content, headers={"Content-Type": "text/csv"})
    assert reply.status_code == status and reply.headers["content-type"] == "application/json", reply.text
    assert re.search(message, reply.json()["message"]), reply.json()["message"]
    assert client.post("/score", json={"data": X.head(1).values.tolist()}).status_code == 200


def test_a_csv_with_a_byte_order_mark_scores(iris):
    client, model, X = iris
    body = "\ufeff" + X.head(3).to_csv(index=False)
    reply = client.post("/invocations", content=body.encode(), headers={"Content-Type": "text/csv"})
    assert reply.status_code == 200 and reply.json()["predictions"] == model.predict(X.head(3)).tolist()


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=200) | st.text(alphabet=st.sampled_from('ab1.,;"\n\r\ufeff='), max_size=80))
def test_random_csv_never_gets_a_5xx(iris, unsigned, body):
    content = body if isinstance(body, bytes) else (HEADER + body).encode()
    for client in (iris[0], unsigned):
        reply = client.post("/invocations", content=content, headers={"Content-Type": "text/csv"})
        assert reply.status_code < 500, (body, reply.text)
