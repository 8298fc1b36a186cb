"""The model directory: an ``MLmodel`` descriptor (MLflow's keys) beside the model's files.

``save`` writes into a temporary folder and renames it into place, recording each file's
sha256; ``load`` checks them before anything is deserialised, so a corrupted or swapped file
fails loudly. Pickle-based models load only from this workspace's registry or with
``trust=True``. A folder without ``MLmodel`` (a registered ``model.pkl`` or ``model.onnx``) is
described from its model file (``models/native.py``), so it loads the same way.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from trainyard import yamlfile
from trainyard.errors import InvalidInputError, NotFoundError, TrainyardError
from trainyard.hashing import sha256_file
from trainyard.models import native
from trainyard.models.flavors import Flavor, flavor_for, flavor_named
from trainyard.models.signature import Signature, infer_signature

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

MLMODEL = "MLmodel"
EXAMPLE = "input_example.json"


def _example_json(example: Any) -> Any:
    import pandas as pd

    if isinstance(example, pd.DataFrame):
        return {"dataframe_split": json.loads(example.to_json(orient="split", index=False))}
    return {"inputs": json.loads(json.dumps(getattr(example, "tolist", lambda: example)()))}


def save(
    model: Any,
    path: str | os.PathLike[str],
    *,
    signature: Signature | None = None,
    input_example: Any = None,
    flavor: str | None = None,
    serialization: str | None = None,
    requirements: list[str] | None = None,
) -> Path:
    """Write ``model`` as a model directory at ``path`` (which must not exist or be empty)."""
    dest = Path(path)
    if dest.exists() and any(dest.iterdir()):
        raise InvalidInputError(f"{dest} already holds files; save the model into a new folder")
    chosen = flavor_for(model, flavor)
    if signature is None and input_example is not None:
        output = model.predict(input_example) if callable(getattr(model, "predict", None)) else None
        signature = infer_signature(input_example, output)
    tmp = dest.parent / f".{dest.name}.tmp-{uuid.uuid4().hex}"
    tmp.mkdir(parents=True)
    try:
        conf, pickled = chosen.save(model, tmp, serialization, input_example)
        if input_example is not None:
            (tmp / EXAMPLE).write_text(json.dumps(_example_json(input_example)))
        reqs = [*chosen.requirements(), *(requirements or [])]
        (tmp / "requirements.txt").write_text("".join(f"{r}\n" for r in reqs))
        files = {p.relative_to(tmp).as_posix(): sha256_file(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
        descriptor = {
            "model_uuid": uuid.uuid4().hex,
            "utc_time_created": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
            "trainyard_version": _version(),
            "flavors": {
                "python_function": {"loader_module": "trainyard.models", "flavor": chosen.name},
                chosen.name: conf,
            },
            "uses_pickle": pickled,
            "files": files,
        }
        if signature is not None:
            descriptor["signature"] = signature.to_dict()
        if input_example is not None:
            descriptor["saved_input_example_info"] = {"artifact_path": EXAMPLE}
        (tmp / MLMODEL).write_text(yaml.safe_dump(descriptor, sort_keys=False))
        if dest.exists():
            dest.rmdir()
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _version() -> str:
    from importlib.metadata import version

    return version("trainyard")


@dataclass
class LoadedModel:
    """A model ready to score: ``predict`` checks the input against the signature first."""

    model: Any
    flavor: str
    signature: Signature | None
    path: Path
    descriptor: dict[str, Any]

    def predict(self, data: Any) -> Any:
        if self.signature is not None:
            data = self.signature.conform(data)
        return self.model.predict(data)


def has_mlmodel(folder: Path) -> bool:
    return (folder / MLMODEL).is_file()


def read_descriptor(folder: Path) -> dict[str, Any]:
    """The folder's ``MLmodel``, or without one the descriptor of its one model file."""
    path = folder / MLMODEL
    if not path.is_file():
        return native.describe(folder)
    try:
        descriptor = yamlfile.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise TrainyardError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(descriptor, dict) or "flavors" not in descriptor:
        raise TrainyardError(f"{path} has no flavors; it was not written by trainyard or MLflow")
    return descriptor


def verify(folder: Path, descriptor: dict[str, Any]) -> None:
    for rel, digest in (descriptor.get("files") or {}).items():
        file = folder / rel
        if not file.is_file():
            raise TrainyardError(f"model file {rel} is missing from {folder}")
        if sha256_file(file) != digest:
            raise TrainyardError(f"model file {rel} in {folder} changed since it was saved (sha256 mismatch)")


def _resolve(uri: str, workspace: Workspace | None) -> tuple[Path, bool]:
    """A local folder for ``uri`` and whether it comes from this workspace (so is trusted)."""
    from trainyard.registry.uri import resolve_uri

    folder = resolve_uri(uri, workspace)
    return (Path(uri), False) if folder is None else (folder, True)


def fetch(uri: str | os.PathLike[str], workspace: Workspace | None = None, *, scripted: bool = False) -> Path:
    """The model's folder on this machine, its files checked, without deserialising anything.

    ``scripted``: an entry script loads the model, so any folder will do (a model directory in it
    is still checked)."""
    folder, _ = _resolve(str(uri), workspace)
    if not scripted or has_mlmodel(folder):
        verify(folder, read_descriptor(folder))
    elif not folder.is_dir():
        raise NotFoundError(f"{folder} does not exist")
    return folder


def load(
    uri: str | os.PathLike[str], *, trust: bool = False, workspace: Workspace | None = None
) -> LoadedModel:
    """A model from a folder, ``models:/name/3``, ``models:/name@production`` or ``runs:/<id>/<path>``."""
    folder, in_workspace = _resolve(str(uri), workspace)
    descriptor = read_descriptor(folder)
    verify(folder, descriptor)
    pyfunc = descriptor["flavors"].get("python_function", {})
    name = pyfunc.get("flavor") or next(iter(k for k in descriptor["flavors"] if k != "python_function"), "")
    if descriptor.get("uses_pickle") and not (trust or in_workspace):
        raise TrainyardError(
            f"{folder} holds a pickled model, and loading a pickle runs code from it. Load it with "
            "trust=True if you trust where it came from, or save it with serialization='skops' (scikit-learn)"
        )
    flavor: Flavor = flavor_named(name)
    model = flavor.load(folder, descriptor["flavors"][name], trust or in_workspace)
    if not callable(getattr(model, "predict", None)):  # a pickle may hold anything
        raise TrainyardError(
            f"{folder} holds a {type(model).__name__}, which has no predict(); {native.ENTRY_SCRIPT}"
        )
    signature = Signature.from_dict(descriptor["signature"]) if descriptor.get("signature") else None
    return LoadedModel(model, name, signature, folder, descriptor)
