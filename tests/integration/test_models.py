"""Model directories: every flavour saves, loads and predicts as the original; trust and integrity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import trainyard as ty
from trainyard import models
from trainyard.errors import InvalidInputError, TrainyardError


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True, as_frame=True)
    X.columns = [c.replace(" (cm)", "").replace(" ", "_") for c in X.columns]
    return X, y


class Doubler:
    def predict(self, model_input):
        return np.asarray(model_input) * 2


def test_sklearn_pipeline_round_trip_with_skops_and_signature(tmp_path, iris):
    X, y = iris
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    path = models.save(model, tmp_path / "m", input_example=X.head(3))
    descriptor = yaml.safe_load((path / "MLmodel").read_text())
    assert descriptor["flavors"]["sklearn"]["serialization_format"] == "skops"
    assert descriptor["flavors"]["python_function"]["loader_module"] == "trainyard.models"
    assert descriptor["uses_pickle"] is False and "model.skops" in descriptor["files"]
    assert '"name": "sepal_length", "type": "double"' in descriptor["signature"]["inputs"]
    assert "scikit-learn==" in (path / "requirements.txt").read_text()
    loaded = models.load(path)
    assert loaded.flavor == "sklearn"
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (lambda X: X.drop(columns=["petal_width"]), "missing column.*petal_width"),
        (lambda X: X.assign(extra=1.0), "unknown column.*extra"),
        (lambda X: X.assign(sepal_length="tall"), "'sepal_length' must be double"),
    ],
)
def test_the_signature_names_what_is_wrong(tmp_path, iris, frame, message):
    X, y = iris
    loaded = models.load(
        models.save(LogisticRegression(max_iter=500).fit(X, y), tmp_path / "m", input_example=X)
    )
    with pytest.raises(InvalidInputError, match=message):
        loaded.predict(frame(X))


def test_pickles_need_trust_outside_the_workspace(tmp_path, iris):
    X, y = iris
    model = LogisticRegression(max_iter=500).fit(X, y)
    pickled = models.save(model, tmp_path / "p", serialization="pickle")
    with pytest.raises(TrainyardError, match="trust=True"):
        models.load(pickled)
    np.testing.assert_array_equal(models.load(pickled, trust=True).predict(X), model.predict(X))
    custom = models.save(Doubler(), tmp_path / "c")
    with pytest.raises(TrainyardError, match="pickled"):
        models.load(custom)
    assert models.load(custom, trust=True).predict([[1, 2]]).tolist() == [[2, 4]]


@pytest.mark.parametrize("kind", ["lgb-classifier", "lgb-regressor", "xgb-classifier", "xgb-regressor"])
def test_boosters_save_natively_and_predict_the_same(tmp_path, iris, kind):
    import lightgbm
    import xgboost

    X, y = iris
    make = {
        "lgb-classifier": lambda: lightgbm.LGBMClassifier(n_estimators=20, verbose=-1),
        "lgb-regressor": lambda: lightgbm.LGBMRegressor(n_estimators=20, verbose=-1),
        "xgb-classifier": lambda: xgboost.XGBClassifier(n_estimators=20),
        "xgb-regressor": lambda: xgboost.XGBRegressor(n_estimators=20),
    }[kind]
    model = make().fit(X, y)
    loaded = models.load(models.save(model, tmp_path / kind))
    assert loaded.descriptor["uses_pickle"] is False
    np.testing.assert_allclose(np.asarray(loaded.predict(X), dtype=float), model.predict(X), rtol=1e-5)


def test_a_changed_file_is_refused_before_loading(tmp_path, iris):
    X, y = iris
    path = models.save(LogisticRegression(max_iter=500).fit(X, y), tmp_path / "m")
    (path / "model.skops").write_bytes(b"tampered")
    with pytest.raises(TrainyardError, match="sha256"):
        models.load(path)
    with pytest.raises(InvalidInputError, match="already holds files"):
        models.save(Doubler(), path)
    with pytest.raises(TrainyardError, match="not a model directory"):
        models.load(tmp_path)


def test_an_mlmodel_with_python_tags_is_refused_unrun(tmp_path, iris):
    """RELIABILITY row 6: MLmodel is read with ``safe_load``, so a ``!!python`` tag runs nothing."""
    X, y = iris
    path = models.save(LogisticRegression(max_iter=500).fit(X, y), tmp_path / "m")
    marker = tmp_path / "ran"
    descriptor = (path / "MLmodel").read_text()
    evil = f'!!python/object/apply:os.system ["touch {marker}"]'
    (path / "MLmodel").write_text(descriptor + f"\nrun_id: {evil}\n")
    with pytest.raises(TrainyardError, match="not valid YAML"):
        models.load(path)
    assert not marker.exists()


def test_registered_models_load_by_name_version_and_alias(ws, tmp_path, iris):
    X, y = iris
    first = LogisticRegression(max_iter=500, C=0.01).fit(X, y)
    second = LogisticRegression(max_iter=500).fit(X, y)
    ty.Model.register(ws, models.save(first, tmp_path / "v1", serialization="pickle"), "iris")
    ty.Model.register(ws, models.save(second, tmp_path / "v2", input_example=X.head()), "iris").set_alias(
        "production"
    )
    from_registry = models.load("models:/iris/1", workspace=ws)  # a pickle, but from this workspace
    np.testing.assert_array_equal(from_registry.predict(X), first.predict(X))
    np.testing.assert_array_equal(
        models.load("models:/iris@production", workspace=ws).predict(X), second.predict(X)
    )
    assert isinstance(X, pd.DataFrame)


def test_a_registered_version_missing_a_cached_file_is_fetched_again(ws, tmp_path, iris):
    X, y = iris
    model = LogisticRegression(max_iter=500).fit(X, y)
    ty.Model.register(ws, models.save(model, tmp_path / "m"), "iris")
    folder = models.load("models:/iris/1", workspace=ws).path
    (folder / "model.skops").unlink()  # a download cut short after MLmodel was written
    np.testing.assert_array_equal(models.load("models:/iris/1", workspace=ws).predict(X), model.predict(X))


def test_runs_uris_load_a_model_from_a_nested_artifact_folder(ws, tmp_path, iris):
    X, y = iris
    model = LogisticRegression(max_iter=500).fit(X, y)
    run = ty.Experiment(ws, "train").start_logging()
    run.upload_folder("outputs/model", models.save(model, tmp_path / "m"))
    loaded = models.load(f"runs:/{run.id}/outputs/model", workspace=ws)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    run.complete()


def test_pytorch_modules_save_as_torchscript(tmp_path, iris):
    import torch

    X, y = iris
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    inputs = torch.as_tensor(X.to_numpy(), dtype=torch.float32)
    with torch.no_grad():
        expected = net(inputs).numpy()
    traced = models.load(models.save(net, tmp_path / "traced", input_example=X.head()))
    scripted = models.load(models.save(net, tmp_path / "scripted"))
    assert traced.descriptor["flavors"]["pytorch"]["format"] == "torchscript"
    assert traced.descriptor["uses_pickle"] is False
    np.testing.assert_allclose(traced.predict(X), expected, rtol=1e-5)
    np.testing.assert_allclose(scripted.predict(X.to_numpy()), expected, rtol=1e-5)

    class Unscriptable(torch.nn.Module):
        def forward(self, x):
            return torch.as_tensor(np.asarray(x) * 1)  # numpy inside: TorchScript cannot compile it

    pickled = models.save(Unscriptable(), tmp_path / "pickled")
    with pytest.raises(TrainyardError, match="trust=True"):
        models.load(pickled)
    assert models.load(pickled, trust=True).predict(np.ones((1, 2))).tolist() == [[1.0, 1.0]]


def test_scikit_learn_to_onnx_agrees_with_the_native_model(tmp_path, iris):
    X, y = iris
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    path = models.save(model, tmp_path / "onnx", flavor="onnx", input_example=X.head())
    loaded = models.load(path)
    assert loaded.flavor == "onnx" and (path / "model.onnx").exists()
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    with pytest.raises(InvalidInputError, match="input_example"):
        models.save(model, tmp_path / "no-example", flavor="onnx")
    import onnx

    proto = onnx.load(str(path / "model.onnx"))
    np.testing.assert_array_equal(
        models.load(models.save(proto, tmp_path / "proto")).predict(X), model.predict(X)
    )
