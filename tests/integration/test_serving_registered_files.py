"""Registered files without MLmodel (Azure's ``outputs/model.pkl``): served through the flavour
their file is, or by an entry script whose ``init()`` reads them from ``AZUREML_MODEL_DIR``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import joblib
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import trainyard as ty
from tests.integration.scoring_helpers import COLUMNS, cli, model_server
from trainyard import models
from trainyard.errors import InvalidInputError, NotFoundError, TrainyardError
from trainyard.serving import endpoints
from trainyard.serving.app import create_app

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
SCORE_PY = re.search(r"```python\n# score.py\n(.*?)```", README, flags=re.S).group(1)  # the README's own


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True, as_frame=True)
    X.columns = COLUMNS
    return X, y, LogisticRegression(max_iter=500).fit(X, y)


def test_a_runs_model_pkl_registers_serves_with_and_without_a_script_and_batch_scores(ws, tmp_path, iris):
    """The README's path: a run's outputs/model.pkl (joblib), `model register -r RUN -p ...`."""
    X, _, model = iris
    joblib.dump(model, tmp_path / "model.pkl")
    run = ty.Experiment(ws, "train").start_logging()
    run.upload_file("outputs/model.pkl", tmp_path / "model.pkl")
    run.complete()
    registered = cli(ws, "model", "register", "-n", "iris", "-r", run.id, "-p", "outputs/model.pkl")
    assert registered.returncode == 0, registered.stderr
    rows, expected = X.head(3), model.predict(X.head(3)).tolist()
    table = {"input_data": {"columns": COLUMNS, "data": rows.values.tolist()}}
    with model_server(ws, "iris") as base:  # the scikit-learn flavour, from the registry: trusted
        assert httpx.post(f"{base}/score", json=table).json() == expected
        assert httpx.get(f"{base}/version").json()["flavor"] == "sklearn"
    (tmp_path / "score.py").write_text(SCORE_PY)
    with model_server(ws, "iris", "--entry-script", str(tmp_path / "score.py")) as base:
        assert httpx.post(f"{base}/score", json={"data": rows.values.tolist()}).json() == expected
        mlflow_style = httpx.post(f"{base}/invocations", json={"instances": rows.values.tolist()})
        assert mlflow_style.status_code == 404 and "POST /score" in mlflow_style.json()["message"]
    data, scored = tmp_path / "data.csv", tmp_path / "scored.csv"
    X.to_csv(data, index=False)
    batch = cli(ws, "batch", "score", "-m", "iris", "-i", str(data), "-o", str(scored), "--stream")
    assert batch.returncode == 0, batch.stdout + batch.stderr
    np.testing.assert_array_equal(pd.read_csv(scored)["prediction"], model.predict(X))
    np.testing.assert_array_equal(models.load("models:/iris/1", workspace=ws).predict(X), model.predict(X))


def test_a_pickle_from_outside_the_registry_is_refused(ws, tmp_path, iris):
    X, _, model = iris
    folder = tmp_path / "exported"
    folder.mkdir()
    joblib.dump(model, folder / "model.joblib")
    with pytest.raises(TrainyardError, match="trust=True"):
        models.load(folder)
    np.testing.assert_array_equal(models.load(folder, trust=True).predict(X), model.predict(X))
    served = cli(ws, "model", "serve", str(folder))
    assert served.returncode == 1 and "pickle" in served.stderr and "Traceback" not in served.stderr


def _onnx(X, y, folder):
    from skl2onnx import to_onnx

    model = LogisticRegression(max_iter=500).fit(X, y)
    (folder / "model.onnx").write_bytes(to_onnx(model, X.to_numpy(np.float32)[:1]).SerializeToString())
    return model.predict(X)


def _lightgbm(X, y, folder):
    import lightgbm

    params = {"objective": "binary", "num_iterations": 5, "verbose": -1}
    booster = lightgbm.train(params, lightgbm.Dataset(X.to_numpy(), (y == 0).astype(int)))
    booster.save_model(str(folder / "model.txt"))
    return booster.predict(X.to_numpy())


def _xgboost(suffix):
    def write(X, y, folder):
        import xgboost

        model = xgboost.XGBRegressor(n_estimators=5, max_depth=2).fit(X.to_numpy(), y)
        model.save_model(str(folder / f"model.{suffix}"))
        return model.predict(X.to_numpy())

    return write


def _torchscript(X, y, folder):
    import torch

    torch.manual_seed(0)
    net = torch.nn.Linear(4, 3)
    torch.jit.save(torch.jit.script(net), str(folder / "model.pt"))
    with torch.no_grad():
        return net(torch.tensor(X.to_numpy(), dtype=torch.float32)).numpy()


@pytest.mark.parametrize(
    ("flavor", "write"),
    [
        ("onnx", _onnx),
        ("lightgbm", _lightgbm),
        ("xgboost", _xgboost("json")),
        ("xgboost", _xgboost("ubj")),
        ("pytorch", _torchscript),
    ],
    ids=["onnx", "lightgbm", "xgboost-json", "xgboost-ubj", "torchscript"],
)
def test_a_registered_native_model_file_is_served_through_its_flavour(ws, tmp_path, iris, flavor, write):
    X, y, _ = iris
    (tmp_path / "files").mkdir()
    expected = write(X, y, tmp_path / "files")
    (file,) = (tmp_path / "files").iterdir()
    ty.Model.register(ws, file, "native")
    loaded = models.load("models:/native/1", workspace=ws)
    assert loaded.flavor == flavor and loaded.descriptor["uses_pickle"] is False
    client = TestClient(create_app(loaded, "native", "1"))
    reply = client.post("/invocations", json={"instances": X.values.tolist()})
    assert reply.status_code == 200, reply.text
    np.testing.assert_allclose(np.asarray(reply.json()["predictions"]), expected, rtol=1e-5)
    oip = client.post(
        "/v2/models/native/infer",
        json={
            "inputs": [
                {"name": "x", "shape": [150, 4], "datatype": "FP64", "data": X.values.ravel().tolist()}
            ]
        },
    )
    np.testing.assert_allclose(
        np.asarray(oip.json()["outputs"][0]["data"]).reshape(expected.shape), expected, rtol=1e-5
    )


def test_files_no_flavour_reads_ask_for_an_entry_script(tmp_path, iris):
    import torch

    X, _, model = iris
    for name, files in {
        "unknown": {"weights.bin": b"W"},
        "module": {},  # torch.save pickles the module's class: only an entry script knows it
        "several": {"a.onnx": b"", "b.pkl": b""},
        "no-predict": {},
    }.items():
        (tmp_path / name).mkdir()
        for file, content in files.items():
            (tmp_path / name / file).write_bytes(content)
    torch.save(torch.nn.Linear(4, 3), tmp_path / "module" / "model.pt")
    joblib.dump({"coef": [1.0]}, tmp_path / "no-predict" / "model.pkl")
    with pytest.raises(NotFoundError, match=r"weights\.bin.*--entry-script score\.py"):
        models.load(tmp_path / "unknown")
    with pytest.raises(NotFoundError, match=r"model\.pt.*entry script"):
        models.load(tmp_path / "module")
    with pytest.raises(InvalidInputError, match=r"several model files \(a\.onnx, b\.pkl\).*entry script"):
        models.load(tmp_path / "several")
    with pytest.raises(TrainyardError, match=r"holds a dict, which has no predict\(\).*entry script"):
        models.load(tmp_path / "no-predict", trust=True)


def test_any_registered_files_deploy_with_an_entry_script(ws, tmp_path):
    (tmp_path / "scaler").mkdir()
    (tmp_path / "scaler" / "factor.json").write_text(json.dumps({"factor": 3}))
    ty.Model.register(ws, tmp_path / "scaler", "scaler")
    script = tmp_path / "score.py"
    script.write_text(
        "import json, os\n"
        "def init():\n"
        "    global factor\n"
        "    path = os.path.join(os.environ['AZUREML_MODEL_DIR'], 'factor.json')\n"
        "    factor = json.load(open(path))['factor']\n"
        "def run(raw_data):\n"
        "    return [v * factor for v in json.loads(raw_data)['data']]\n"
    )
    endpoints.create_endpoint(ws, "files-ep")
    try:
        with pytest.raises(TrainyardError, match=r"factor\.json.*--entry-script"):
            endpoints.create_deployment(ws, "files-ep", "bare", "scaler:1")
        endpoints.create_deployment(ws, "files-ep", "scripted", "scaler:1", entry_script=str(script))
        assert endpoints.invoke(ws, "files-ep", b'{"data": [1, 2]}', deployment="scripted") == (200, [3, 6])
    finally:
        endpoints.delete_endpoint(ws, "files-ep")
