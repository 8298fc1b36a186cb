"""Model flavours: how each kind of model is saved, loaded and asked to predict.

Safe formats first: LightGBM and XGBoost save their native boosters (text/JSON, no code),
scikit-learn saves with skops when it is installed. Pickle (cloudpickle) is used for
scikit-learn without skops, on request, and for custom Python models; such models are marked
``uses_pickle`` and only load when trusted.
"""

from __future__ import annotations

import abc
import importlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from trainyard.errors import InvalidInputError, TrainyardError


def _package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _module_root(obj: Any) -> set[str]:
    return {cls.__module__.split(".")[0] for cls in type(obj).__mro__}


class Flavor(abc.ABC):
    name: str
    packages: tuple[str, ...] = ()

    @abc.abstractmethod
    def matches(self, model: Any) -> bool: ...

    @abc.abstractmethod
    def save(
        self, model: Any, folder: Path, serialization: str | None, example: Any = None
    ) -> tuple[dict[str, Any], bool]:
        """Write the model into ``folder``; returns the flavour's MLmodel entry and whether it pickled."""

    @abc.abstractmethod
    def load(self, folder: Path, conf: dict[str, Any], trust: bool) -> Any:
        """An object with ``predict(data)``."""

    def requirements(self) -> list[str]:
        return [f"{p}=={v}" for p in self.packages if (v := _package_version(p))]


class SklearnFlavor(Flavor):
    name = "sklearn"
    packages = ("scikit-learn", "skops")

    def matches(self, model: Any) -> bool:
        return "sklearn" in _module_root(model) and hasattr(model, "predict")

    def save(
        self, model: Any, folder: Path, serialization: str | None, example: Any = None
    ) -> tuple[dict[str, Any], bool]:
        fmt = serialization or ("skops" if _package_version("skops") else "pickle")
        conf = {"sklearn_version": _package_version("scikit-learn"), "serialization_format": fmt}
        if fmt == "skops":
            import skops.io

            skops.io.dump(model, folder / "model.skops")
            return {**conf, "pickled_model": "model.skops"}, False
        if fmt in ("pickle", "cloudpickle"):
            _pickle(model, folder / "model.pkl")
            return {**conf, "pickled_model": "model.pkl"}, True
        raise InvalidInputError(f"scikit-learn models save as 'skops' or 'pickle', not {fmt!r}")

    def load(self, folder: Path, conf: dict[str, Any], trust: bool) -> Any:
        path = folder / conf["pickled_model"]
        if conf["serialization_format"] == "joblib":  # a registered model.pkl (models/native.py)
            return _unjoblib(path)
        if conf["serialization_format"] != "skops":
            return _unpickle(path)
        import skops.io

        unknown = skops.io.get_untrusted_types(file=path)
        if unknown and not trust:
            raise TrainyardError(
                f"the model uses types skops does not trust by default ({', '.join(unknown[:5])}); "
                "load it with trust=True if you trust where it came from"
            )
        return skops.io.load(path, trusted=unknown)


class LightGBMFlavor(Flavor):
    name = "lightgbm"
    packages = ("lightgbm",)

    def matches(self, model: Any) -> bool:
        return "lightgbm" in _module_root(model)

    def save(
        self, model: Any, folder: Path, serialization: str | None, example: Any = None
    ) -> tuple[dict[str, Any], bool]:
        booster = getattr(model, "booster_", model)
        booster.save_model(str(folder / "model.lgb.txt"))
        classes = getattr(model, "classes_", None)
        conf = {
            "model_file": "model.lgb.txt",
            "lightgbm_version": _package_version("lightgbm"),
            "classes": None if classes is None else np.asarray(classes).tolist(),
        }
        return conf, False

    def load(self, folder: Path, conf: dict[str, Any], trust: bool) -> Any:
        import lightgbm

        return _BoosterPredictor(
            lightgbm.Booster(model_file=str(folder / conf["model_file"])), conf.get("classes")
        )


class XGBoostFlavor(Flavor):
    name = "xgboost"
    packages = ("xgboost-cpu", "xgboost")

    def matches(self, model: Any) -> bool:
        return "xgboost" in _module_root(model)

    def save(
        self, model: Any, folder: Path, serialization: str | None, example: Any = None
    ) -> tuple[dict[str, Any], bool]:
        model.save_model(str(folder / "model.xgb.json"))
        return {
            "model_file": "model.xgb.json",
            "model_class": type(model).__name__,
            "xgboost_version": _package_version("xgboost") or _package_version("xgboost-cpu"),
        }, False

    def load(self, folder: Path, conf: dict[str, Any], trust: bool) -> Any:
        import xgboost

        model = getattr(xgboost, conf["model_class"])()
        model.load_model(str(folder / conf["model_file"]))
        if isinstance(model, xgboost.Booster):
            return _BoosterPredictor(model, None, lambda data: xgboost.DMatrix(data))
        return model


def _as_array(data: Any) -> np.ndarray:
    import pandas as pd

    values = data.to_numpy() if isinstance(data, pd.DataFrame | pd.Series) else np.asarray(data)
    return values.astype(np.float32) if values.dtype.kind in "fiub" else values


class PyTorchFlavor(Flavor):
    """TorchScript (traced on the input example, or scripted), so loading runs no pickled code;
    a module TorchScript cannot take falls back to ``torch.save``, which needs trust to load."""

    name = "pytorch"
    packages = ("torch",)

    def matches(self, model: Any) -> bool:
        return "torch" in _module_root(model)

    def save(
        self, model: Any, folder: Path, serialization: str | None, example: Any = None
    ) -> tuple[dict[str, Any], bool]:
        import torch

        model.eval()
        try:
            with torch.no_grad():
                if example is not None:
                    scripted = torch.jit.trace(model, torch.as_tensor(_as_array(example)))
                else:
                    scripted = torch.jit.script(model)
            scripted.save(str(folder / "model.pt"))
            return {
                "model_file": "model.pt",
                "format": "torchscript",
                "torch_version": _package_version("torch"),
            }, False
        except Exception:  # not scriptable: the whole module, pickled
            import cloudpickle

            torch.save(model, folder / "model.pth", pickle_module=cloudpickle)
            return {
                "model_file": "model.pth",
                "format": "pickle",
                "torch_version": _package_version("torch"),
            }, True

    def load(self, folder: Path, conf: dict[str, Any], trust: bool) -> Any:
        import torch

        path = folder / conf["model_file"]
        module = (
            torch.jit.load(str(path))
            if conf["format"] == "torchscript"
            else torch.load(path, weights_only=False)
        )
        module.eval()
        return _TorchPredictor(module)


class _TorchPredictor:
    def __init__(self, module: Any) -> None:
        self.module = module

    def predict(self, data: Any) -> np.ndarray:
        import torch

        with torch.no_grad():
            return self.module(torch.as_tensor(_as_array(data))).numpy()


class OnnxFlavor(Flavor):
    """An ``onnx.ModelProto``, or a scikit-learn model converted with skl2onnx (``flavor="onnx"``,
    with an input example; the conversion is checked against the native predictions)."""

    name = "onnx"
    packages = ("onnx", "onnxruntime")

    def matches(self, model: Any) -> bool:
        return type(model).__name__ == "ModelProto" and "onnx" in _module_root(model)

    def save(
        self, model: Any, folder: Path, serialization: str | None, example: Any = None
    ) -> tuple[dict[str, Any], bool]:
        import onnx

        if not self.matches(model):
            model = _to_onnx(model, example)
        onnx.save(model, str(folder / "model.onnx"))
        return {"model_file": "model.onnx", "onnx_version": _package_version("onnx")}, False

    def load(self, folder: Path, conf: dict[str, Any], trust: bool) -> Any:
        import onnxruntime

        session = onnxruntime.InferenceSession(
            str(folder / conf["model_file"]), providers=["CPUExecutionProvider"]
        )
        return _OnnxPredictor(session)


def _to_onnx(model: Any, example: Any) -> Any:
    if example is None:
        raise InvalidInputError("converting to ONNX needs an input_example (the input's shape and type)")
    from skl2onnx import to_onnx

    sample = _as_array(example)
    converted = to_onnx(model, sample[:1])
    import onnxruntime

    session = onnxruntime.InferenceSession(converted.SerializeToString(), providers=["CPUExecutionProvider"])
    predictor = _OnnxPredictor(session)
    native, ours = np.asarray(model.predict(example)), predictor.predict(sample)
    same = (
        np.allclose(native, ours, rtol=1e-4, atol=1e-5)
        if native.dtype.kind in "fi"
        else (native == ours).all()
    )
    if not same:
        raise TrainyardError(
            "the ONNX conversion predicts differently from the model; save it natively instead"
        )
    return converted


class _OnnxPredictor:
    def __init__(self, session: Any) -> None:
        self.session = session
        self.input = session.get_inputs()[0].name

    def predict(self, data: Any) -> np.ndarray:
        return np.asarray(self.session.run(None, {self.input: _as_array(data)})[0])


class InferenceFlavor(Flavor):
    """A training pipeline's transformations and its trained model (``components/replay.py``):
    the steps as JSON and the model as its own model directory, so nothing is pickled. The
    MLmodel entry names the class that reads it back (MLflow's ``loader_module`` idea), so this
    layer needs nothing from the components layer above it; only trainyard's own classes load."""

    name = "trainyard_inference"
    packages = ("scikit-learn", "skops")

    def matches(self, model: Any) -> bool:
        return type(model).__name__ == "InferencePipeline" and "trainyard" in _module_root(model)

    def save(
        self, model: Any, folder: Path, serialization: str | None, example: Any = None
    ) -> tuple[dict[str, Any], bool]:
        loader = f"{type(model).__module__}:{type(model).__qualname__}"
        return {**model.save(folder), "loader": loader}, False

    def load(self, folder: Path, conf: dict[str, Any], trust: bool) -> Any:
        module, _, qualname = str(conf.get("loader", "")).partition(":")
        if module.split(".")[0] != "trainyard" or not qualname:
            named = conf.get("loader")
            raise TrainyardError(f"{folder}: a {self.name} model names no trainyard loader ({named!r})")
        return getattr(importlib.import_module(module), qualname).load(folder, conf, trust)


class PythonFlavor(Flavor):
    """Any object with ``predict(model_input)``: pickled with cloudpickle, so it needs trust."""

    name = "python_model"

    def matches(self, model: Any) -> bool:
        return callable(getattr(model, "predict", None))

    def save(
        self, model: Any, folder: Path, serialization: str | None, example: Any = None
    ) -> tuple[dict[str, Any], bool]:
        _pickle(model, folder / "python_model.pkl")
        return {"python_model": "python_model.pkl"}, True

    def load(self, folder: Path, conf: dict[str, Any], trust: bool) -> Any:
        return _unpickle(folder / conf["python_model"])


class _BoosterPredictor:
    """A native booster behind the scikit-learn ``predict``: class labels for classifiers."""

    def __init__(self, booster: Any, classes: list[Any] | None, wrap: Any = None) -> None:
        self.booster, self.classes, self.wrap = booster, classes, wrap

    def predict(self, data: Any) -> np.ndarray:
        raw = np.asarray(self.booster.predict(self.wrap(data) if self.wrap else data))
        if not self.classes:
            return raw
        index = raw.argmax(axis=1) if raw.ndim == 2 else (raw > 0.5).astype(int)
        return np.asarray(self.classes)[index]


def _pickle(model: Any, path: Path) -> None:
    import cloudpickle

    with open(path, "wb") as fh:
        cloudpickle.dump(model, fh)


def _unpickle(path: Path) -> Any:
    import pickle

    with open(path, "rb") as fh:
        return pickle.load(fh)  # noqa: S301 - callers have checked trust


def _unjoblib(path: Path) -> Any:
    """``joblib.dump``'s files (numpy arrays stored beside the pickle) and plain pickles alike."""
    try:
        import joblib
    except ImportError:  # joblib comes with scikit-learn; a plain pickle needs neither
        return _unpickle(path)
    return joblib.load(path)


FLAVORS: list[Flavor] = [
    LightGBMFlavor(),
    XGBoostFlavor(),
    OnnxFlavor(),
    PyTorchFlavor(),
    SklearnFlavor(),
    InferenceFlavor(),
    PythonFlavor(),
]


def flavor_for(model: Any, name: str | None = None) -> Flavor:
    if name is not None:
        for flavor in FLAVORS:
            if flavor.name == name:
                return flavor
        raise InvalidInputError(f"unknown flavour {name!r}; known: {', '.join(f.name for f in FLAVORS)}")
    for flavor in FLAVORS:
        if flavor.matches(model):
            return flavor
    raise InvalidInputError(
        f"cannot save a {type(model).__name__}: it has no predict(); "
        "wrap it in a class with predict(model_input)"
    )


def flavor_named(name: str) -> Flavor:
    return flavor_for(None, name)
