"""A model folder without ``MLmodel``: a registered ``model.pkl``, ``model.onnx``, LightGBM or
XGBoost booster file or TorchScript archive, read through the matching flavour.

Azure ML's usual path registers the file a training script wrote (``outputs/model.pkl``) rather
than a model directory. ``describe`` tells the file's kind from its name and first bytes and
builds the descriptor ``save`` would have written, without deserialising anything; pickles are
marked ``uses_pickle``, so they load only from the workspace's registry or with ``trust=True``,
as saved ones do. A folder whose model file is not one of these is served with an entry script.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trainyard.errors import InvalidInputError, NotFoundError

HEAD = 32  # bytes read to tell a file's kind
KINDS = (
    "a scikit-learn/joblib pickle (.pkl, .joblib, .pickle), a .skops file, ONNX (.onnx), "
    "a LightGBM or XGBoost native model, TorchScript (.pt, .pth)"
)
ENTRY_SCRIPT = (
    "serve it with an entry script (--entry-script score.py, whose init() loads the files from "
    "AZUREML_MODEL_DIR and run(raw_data) scores), or save it with ty.models.save"
)

# a model file's flavour, the flavour's MLmodel entry for it, and whether the file is a pickle
Kind = tuple[str, dict[str, Any], bool]


def _head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(HEAD)


def _pickle(path: Path) -> Kind | None:
    if path.suffix.lower() in (".pkl", ".pickle", ".joblib"):  # joblib.load reads plain pickles too
        return "sklearn", {"serialization_format": "joblib", "pickled_model": path.name}, True
    return None


def _skops(path: Path) -> Kind | None:
    if path.suffix.lower() == ".skops":
        return "sklearn", {"serialization_format": "skops", "pickled_model": path.name}, False
    return None


def _onnx(path: Path) -> Kind | None:
    return ("onnx", {"model_file": path.name}, False) if path.suffix.lower() == ".onnx" else None


def _lightgbm(path: Path) -> Kind | None:
    """LightGBM's text model starts ``tree`` then ``version=``; served as the booster predicts."""
    if path.suffix.lower() in (".txt", ".lgb", ".model") and _head(path).startswith(b"tree\nversion="):
        return "lightgbm", {"model_file": path.name, "classes": None}, False
    return None


def _xgboost(path: Path) -> Kind | None:
    """XGBoost's JSON and UBJSON models open with the ``learner`` object."""
    head = _head(path)
    if path.suffix.lower() in (".json", ".ubj", ".model") and head.startswith(b"{") and b"learner" in head:
        return "xgboost", {"model_file": path.name, "model_class": "Booster"}, False
    return None


def _torchscript(path: Path) -> Kind | None:
    """``torch.jit.save`` writes a zip with the module's ``code/``; ``torch.save`` writes none."""
    if path.suffix.lower() not in (".pt", ".pth") or not zipfile.is_zipfile(path):
        return None
    with zipfile.ZipFile(path) as archive:
        scripted = any("/code/" in name for name in archive.namelist())
    return ("pytorch", {"model_file": path.name, "format": "torchscript"}, False) if scripted else None


DETECTORS: list[Callable[[Path], Kind | None]] = [
    _pickle,
    _skops,
    _onnx,
    _lightgbm,
    _xgboost,
    _torchscript,
]


def kind_of(path: Path) -> Kind | None:
    """The flavour that reads the file at ``path``, if any does."""
    return next((kind for detect in DETECTORS if (kind := detect(path)) is not None), None)


def describe(folder: Path) -> dict[str, Any]:
    """The descriptor of ``folder``'s one model file (files in subfolders are not looked at)."""
    if folder.is_file():
        raise InvalidInputError(f"{folder} is a file; give the folder that holds it, or register it")
    if not folder.is_dir():
        raise NotFoundError(f"{folder} does not exist")
    files = sorted(p for p in folder.iterdir() if p.is_file())
    found = {p.name: kind for p in files if (kind := kind_of(p)) is not None}
    if len(found) > 1:
        raise InvalidInputError(
            f"{folder} holds several model files ({', '.join(found)}) and no MLmodel to say which "
            f"to load; {ENTRY_SCRIPT}"
        )
    if not found:
        have = ", ".join(p.name for p in files[:10]) or "no files"
        raise NotFoundError(
            f"{folder} is not a model directory (no MLmodel) and holds no model file trainyard reads "
            f"({have}; it reads {KINDS}); {ENTRY_SCRIPT}"
        )
    ((flavor, conf, pickled),) = found.values()
    return {
        "flavors": {"python_function": {"loader_module": "trainyard.models", "flavor": flavor}, flavor: conf},
        "uses_pickle": pickled,
    }
