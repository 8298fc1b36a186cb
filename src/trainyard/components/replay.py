"""A real-time inference pipeline: a training pipeline's row-wise transformations replayed on
request rows, then Score Model with the trained model.

What Studio's "Create inference pipeline" makes, as one model: the transformation steps
(component, version, parameters) in ``steps.json`` beside the trained model's own folder. It is
saved and loaded by the ``trainyard_inference`` flavour (``models/flavors.py``), so it registers,
deploys and serves like any model; which steps can be replayed is decided by
``trainyard.pipelines.inference`` when it is made.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from trainyard.components.base import ComponentInputError, get_component
from trainyard.components.model import TrainedModel
from trainyard.components.scoring import score

STEPS_FILE = "steps.json"
MODEL_DIR = "trained_model"


@dataclass(frozen=True)
class Transformation:
    """One training step to replay: the step's name, its component, version and parameters."""

    step: str
    component: str
    version: str
    params: dict[str, Any]


@dataclass
class InferencePipeline:
    """Transformations, then the trained model's scores (``append`` keeps the input columns)."""

    transformations: list[Transformation]
    model: TrainedModel
    append: bool = True

    def transform(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The request rows as the training rows were when Train Model read them."""
        for t in self.transformations:
            comp = get_component(t.component)
            params = self._for_request(comp, t.params, rows)
            if params is None:  # the step only touched columns the request does not carry
                continue
            (rows,) = comp(dataset=rows, **params).values()
        return rows

    def _for_request(self, comp: Any, params: dict[str, Any], rows: pd.DataFrame) -> dict[str, Any] | None:
        """``params`` without the columns a request may leave out: the label (requests have none)
        and, for Select Columns' exclude, the columns it drops anyway."""
        absent = {self.model.label_column} - set(rows.columns)
        if comp.name == "select-columns" and params.get("mode") == "exclude":
            absent |= set(params["columns"]) - set(rows.columns)
        out = dict(params)
        for p in comp.params:
            value = out.get(p.name)
            if p.type == "columns" and isinstance(value, list) and absent & set(value):
                out[p.name] = [c for c in value if c not in absent]
                if not out[p.name] and p.required:
                    return None
        return out

    def predict(self, rows: pd.DataFrame) -> pd.DataFrame:
        if not isinstance(rows, pd.DataFrame):
            raise ComponentInputError("an inference pipeline scores rows with named columns")
        return score(self.model, self.transform(rows), self.append)

    def save(self, folder: Path) -> dict[str, Any]:
        """Write the model and ``steps.json`` into ``folder``; the flavour's MLmodel entry."""
        self.model.save(folder / MODEL_DIR)
        doc = {"append": self.append, "steps": [asdict(t) for t in self.transformations]}
        (folder / STEPS_FILE).write_text(json.dumps(doc, indent=2))
        return {"model_dir": MODEL_DIR, "steps": STEPS_FILE}

    @classmethod
    def load(cls, folder: Path, conf: dict[str, Any], trust: bool) -> InferencePipeline:
        doc = json.loads((folder / conf["steps"]).read_text())
        steps = [Transformation(**s) for s in doc["steps"]]
        return cls(steps, TrainedModel.load(folder / conf["model_dir"], trust=trust), doc["append"])
