"""Open Inference Protocol conformance with a real client: tritonclient against a real scoring server."""

from __future__ import annotations

import numpy as np
import pytest

from tests.integration.scoring_helpers import COLUMNS, saved_iris
from trainyard import models
from trainyard.server.running import ThreadedServer
from trainyard.serving.app import create_app

httpclient = pytest.importorskip("tritonclient.http")
from tritonclient.utils import InferenceServerException  # noqa: E402

KEY = "k" * 32


def auth() -> dict[str, str]:
    """Fresh headers per call: tritonclient's ``infer`` adds its binary-data header to the dict it gets."""
    return {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def iris(tmp_path_factory):
    path, model, X = saved_iris(tmp_path_factory.mktemp("m"))
    with ThreadedServer(create_app(models.load(path), "iris", "1", keys=[KEY])) as server:
        yield httpclient.InferenceServerClient(server.url.removeprefix("http://")), model, X


@pytest.fixture(scope="module")
def echo(tmp_path_factory):
    """A model without a signature that returns its one input tensor: every datatype both ways."""

    class Echo:
        def predict(self, data):
            return data

    loaded = models.load(models.save(Echo(), tmp_path_factory.mktemp("echo") / "echo"), trust=True)
    with ThreadedServer(create_app(loaded, "echo", "3")) as server:
        yield httpclient.InferenceServerClient(server.url.removeprefix("http://"))


def column_inputs(rows, binary: bool) -> list:
    inputs = []
    for name in COLUMNS:
        tensor = httpclient.InferInput(name, [len(rows)], "FP64")
        tensor.set_data_from_numpy(rows[name].to_numpy(), binary_data=binary)
        inputs.append(tensor)
    return inputs


def test_health_and_readiness(iris):
    client, _, _ = iris
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("iris", headers=auth()) and client.is_model_ready(
        "iris", "1", headers=auth()
    )
    assert not client.is_model_ready("other", headers=auth())
    assert "binary_tensor_data" in client.get_server_metadata(headers=auth())["extensions"]


def test_model_metadata_follows_the_spec(iris):
    client, _, _ = iris
    assert client.get_model_metadata("iris", headers=auth()) == {
        "name": "iris",
        "versions": ["1"],
        "platform": "sklearn",
        "inputs": [{"name": c, "datatype": "FP64", "shape": [-1]} for c in COLUMNS],
        "outputs": [{"name": "predict", "datatype": "INT64", "shape": [-1]}],
    }
    assert client.get_model_metadata("iris", "1", headers=auth())["versions"] == ["1"]


def test_infer_with_the_clients_defaults_sends_and_gets_binary_tensors(iris):
    client, model, X = iris
    rows = X.sample(7, random_state=0)
    result = client.infer("iris", column_inputs(rows, binary=True), headers=auth(), request_id="r1")
    output = result.get_output("predict")
    assert output["datatype"] == "INT64" and "binary_data_size" in output["parameters"]
    assert result.get_response()["id"] == "r1"
    np.testing.assert_array_equal(result.as_numpy("predict"), model.predict(rows))
    table = httpclient.InferInput("x", [7, 4], "FP32")
    table.set_data_from_numpy(rows.to_numpy(np.float32))
    np.testing.assert_array_equal(
        client.infer("iris", [table], model_version="1", headers=auth()).as_numpy("predict"),
        model.predict(rows.astype(np.float32)),
    )


def test_infer_with_json_tensors_answers_json_unless_binary_is_asked(iris):
    client, model, X = iris
    rows = X.head(5)
    as_json = [httpclient.InferRequestedOutput("predict", binary_data=False)]
    result = client.infer("iris", column_inputs(rows, binary=False), outputs=as_json, headers=auth())
    assert result.get_output("predict")["data"] == model.predict(rows).tolist()
    np.testing.assert_array_equal(result.as_numpy("predict"), model.predict(rows))
    as_binary = [httpclient.InferRequestedOutput("predict", binary_data=True)]
    result = client.infer("iris", column_inputs(rows, binary=False), outputs=as_binary, headers=auth())
    assert "data" not in result.get_output("predict")
    np.testing.assert_array_equal(result.as_numpy("predict"), model.predict(rows))


@pytest.mark.parametrize(
    ("datatype", "values"),
    [
        ("BOOL", np.array([[True, False], [False, True]])),
        ("INT8", np.array([[-128, 127]], dtype=np.int8)),
        ("UINT16", np.array([[0, 65535]], dtype=np.uint16)),
        ("INT32", np.array([[-(2**31), 2**31 - 1]], dtype=np.int32)),
        ("INT64", np.array([[-(2**63), 2**63 - 1]], dtype=np.int64)),
        ("UINT64", np.array([[2**64 - 1]], dtype=np.uint64)),
        ("FP16", np.array([[0.5, -2.0]], dtype=np.float16)),
        ("FP32", np.array([[1.25, -0.0]], dtype=np.float32)),
        ("FP64", np.array([[np.pi, 1e300]], dtype=np.float64)),
        ("BYTES", np.array([[b"caf\xc3\xa9", b""], [b"x", b"\x00\xff"]], dtype=object)),
    ],
)
@pytest.mark.parametrize("binary", [True, False])
def test_every_datatype_round_trips(echo, datatype, values, binary):
    if datatype == "BYTES" and not binary:
        values = np.array([["café", ""], ["x", "y"]], dtype=object)  # JSON carries text, not raw bytes
    tensor = httpclient.InferInput("x", list(values.shape), datatype)
    tensor.set_data_from_numpy(values, binary_data=binary)
    outputs = [httpclient.InferRequestedOutput("predict", binary_data=binary)]
    result = echo.infer("echo", [tensor], outputs=outputs)
    assert result.get_output("predict")["datatype"] == datatype
    np.testing.assert_array_equal(result.as_numpy("predict"), values)


@pytest.mark.parametrize("compression", ["gzip", "deflate"])
def test_a_compressed_request_is_inflated(iris, compression):
    client, model, X = iris
    rows = X.tail(4)
    result = client.infer(
        "iris", column_inputs(rows, binary=True), headers=auth(), request_compression_algorithm=compression
    )
    np.testing.assert_array_equal(result.as_numpy("predict"), model.predict(rows))


def test_a_bad_request_is_an_oip_error_the_client_reports(iris):
    client, _, X = iris
    with pytest.raises(InferenceServerException, match="serves iris") as unknown:
        client.infer("other", column_inputs(X.head(2), binary=True), headers=auth())
    assert unknown.value.status() == "404"
    short = httpclient.InferInput("x", [2, 3], "FP64")
    short.set_data_from_numpy(X.head(2).to_numpy()[:, :3])
    with pytest.raises(InferenceServerException, match=r"one \[rows, 4\] tensor") as refused:
        client.infer("iris", [short], headers=auth())
    assert refused.value.status() == "400"
    with pytest.raises(InferenceServerException) as anonymous:
        client.infer("iris", column_inputs(X.head(2), binary=True))
    assert anonymous.value.status() == "401"
