"""Create inference pipeline: which training steps are replayed on request rows, which are
refused and why, and the designer's request shape on /score."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from trainyard.errors import InvalidInputError
from trainyard.pipelines.inference import train_step, transformations
from trainyard.pipelines.record import PipelineRecord
from trainyard.serving import codecs


def _step(component: str, reads: str | None = None, port: str = "dataset", **params: Any) -> dict:
    wires = {port: {"kind": "step", "step": reads, "name": "dataset"}} if reads else {}
    return {"component": f"{component}@1", "params": params, "wires": wires, "snapshot_id": "s"}


def record(**changes: dict) -> PipelineRecord:
    """Designer-shaped: import, select, clean, split, a learner, train, score."""
    steps = {
        "load": _step("import-data", path="x.csv"),
        "select": _step("select-columns", "load", columns=["a", "b", "y"]),
        "clean": _step("clean-missing-data", "select", cleaning_mode="custom_value", replacement_value="0"),
        "split": _step("split-data", "clean", fraction=0.7),
        "learner": _step("two-class-logistic-regression"),
        "train": {
            **_step("train-model", "split", label_column="y"),
            "wires": {
                "dataset": {"kind": "step", "step": "split", "name": "results1"},
                "untrained_model": {"kind": "step", "step": "learner", "name": "untrained_model"},
            },
        },
        "score": _step("score-model", "split"),
    }
    steps.update(changes)
    layers = [list(steps)]
    return PipelineRecord.model_validate({"command": "x", "argv": ["x"], "steps": steps, "layers": layers})


def test_the_walk_keeps_the_row_wise_steps_before_train_model_in_order_with_their_defaults():
    rec = record()
    chain = transformations(rec, train_step(rec))
    assert [(t.step, t.component, t.version) for t in chain] == [
        ("select", "select-columns", "1"),
        ("clean", "clean-missing-data", "1"),
    ]
    assert chain[0].params == {"columns": ["a", "b", "y"], "mode": "include"}
    assert chain[1].params["cleaning_mode"] == "custom_value" and chain[1].params["max_missing_ratio"] == 1.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"clean": _step("clean-missing-data", "select", cleaning_mode="mean")},
            "step 'clean' (clean-missing-data, cleaning_mode=mean) learns from the whole training table",
        ),
        (
            {"clean": _step("normalize-data", "select")},
            "step 'clean' (normalize-data, method=zscore) learns from the whole training table",
        ),
        (
            {
                "clean": _step(
                    "clean-missing-data", "select", cleaning_mode="remove_row", min_missing_ratio=0.1
                )
            },
            "cleans a column by its share of missing values in the whole table",
        ),
        (
            {"clean": _step("smote", "select", label_column="y")},
            "step 'clean' (smote) is not a row-wise transformation",
        ),
    ],
)
def test_a_step_that_cannot_be_replayed_on_one_row_is_refused_by_name(change, message):
    rec = record(**change)
    with pytest.raises(InvalidInputError, match="cannot make an inference pipeline") as err:
        transformations(rec, train_step(rec))
    assert message in str(err.value)


def test_a_pipeline_without_train_model_is_refused():
    rec = record(train=_step("select-columns", "split", columns=["a"]))
    with pytest.raises(InvalidInputError, match="has no train-model step"):
        train_step(rec)


def test_the_designers_shape_decodes_its_rows_and_replies_with_web_service_output():
    body = {"Inputs": {"WebServiceInput0": [{"a": 1, "b": None}, {"a": 2, "b": 3}]}, "GlobalParameters": {}}
    assert codecs.is_designer(body) and not codecs.is_designer({"data": [[1]]})
    rows = codecs.decode_designer(body)
    assert list(rows.columns) == ["a", "b"] and len(rows) == 2
    scored = rows.assign(**{"Scored Labels": [0, 1]})
    reply = codecs.designer_reply(rows, scored)
    assert reply == {
        "Results": {
            "WebServiceOutput0": [
                {"a": 1, "b": None, "Scored Labels": 0},
                {"a": 2, "b": 3.0, "Scored Labels": 1},
            ]
        }
    }
    assert codecs.designer_reply(rows, [5, 6])["Results"]["WebServiceOutput0"][1]["Scored Labels"] == 6


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"Inputs": []}, "Inputs must hold one web service input"),
        ({"Inputs": {"a": [{}], "b": [{}]}}, "Inputs must hold one web service input"),
        ({"Inputs": {"WebServiceInput0": [[1, 2]]}}, "must be a non-empty list of {column: value} rows"),
        ({"Inputs": {"WebServiceInput0": []}}, "must be a non-empty list"),
        ({"Inputs": {"WebServiceInput0": [{"a": 1}]}, "GlobalParameters": 3}, "GlobalParameters must be"),
        ({"Inputs": {"WebServiceInput0": [{"a": 1}]}, "data": 1}, "not 'data'"),
    ],
)
def test_a_malformed_designer_body_says_what_is_expected(body, message):
    with pytest.raises(InvalidInputError, match=message.replace("{", r"\{").replace("}", r"\}")):
        codecs.decode_designer(body)


def test_the_other_score_shapes_still_decode():
    frame = codecs.decode_azure({"input_data": {"columns": ["a"], "data": [[1]]}}, None)
    assert isinstance(frame, pd.DataFrame) and frame["a"].tolist() == [1]


def test_replayed_steps_leave_out_the_label_and_excluded_columns_a_request_does_not_carry():
    from trainyard.components.base import get_component
    from trainyard.components.replay import InferencePipeline, Transformation

    table = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0] * 5, "y": [0, 0, 1, 1] * 5})
    learner = get_component("two-class-logistic-regression")()["untrained_model"]
    model = get_component("train-model")(untrained_model=learner, dataset=table, label_column="y")
    steps = [
        Transformation("select", "select-columns", "1", {"columns": ["noise"], "mode": "exclude"}),
        Transformation("keep", "select-columns", "1", {"columns": ["a", "y"], "mode": "include"}),
        Transformation(
            "label",
            "edit-metadata",
            "1",
            {
                "columns": ["y"],
                "data_type": "unchanged",
                "categorical": "unchanged",
                "fields": "label",
                "new_names": None,
            },
        ),
        Transformation(
            "fill",
            "clean-missing-data",
            "1",
            {
                "columns": None,
                "cleaning_mode": "custom_value",
                "replacement_value": "3",
                "min_missing_ratio": 0.0,
                "max_missing_ratio": 1.0,
                "add_indicator": False,
                "seed": 0,
            },
        ),
    ]
    pipeline = InferencePipeline(steps, model["trained_model"])
    scored = pipeline.predict(pd.DataFrame({"a": [None, 0.0], "extra": [1, 2]}))
    assert list(scored.columns) == ["a", "Scored Labels", "Scored Probabilities"]
    assert scored["a"].tolist() == [3.0, 0.0] and scored["Scored Labels"].tolist() == [1, 0]
