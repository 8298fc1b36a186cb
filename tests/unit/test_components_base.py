"""The component interface: parameter validation and parsing, ports, schema, catalogue, reports."""

from __future__ import annotations

import json

import matplotlib
import pandas as pd
import pytest

from trainyard.components import REQUIRED, ComponentInputError, Context, Param, Port, catalogue, get_component
from trainyard.components.base import Component, label_column, marks, with_marks
from trainyard.components.report import Report
from trainyard.errors import InvalidInputError, NotFoundError

matplotlib.use("Agg")

FRACTION = Param("fraction", "float", 0.5, "share", min=0, max=1, min_exclusive=True, max_exclusive=True)


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        (FRACTION, 1.5, "fraction must be between 0 and 1 (exclusive), got 1.5"),
        (FRACTION, 0, "fraction must be between 0 and 1 (exclusive), got 0"),
        (FRACTION, "half", "fraction must be a number, got 'half'"),
        (Param("folds", "int", 10, "k", min=2), -3, "folds must be at least 2, got -3"),
        (Param("k", "int", 5, "k", min=1), 0, "k must be at least 1, got 0"),
        (Param("k", "int", 5, "k", min=1), 2.5, "k must be a whole number, got 2.5"),
        (Param("k", "int", 5, "k", min=1), True, "k must be a whole number, got True"),
        (Param("mode", "string", "a", "m", choices=("a", "b")), "c", "mode must be one of a, b, got 'c'"),
        (Param("cols", "columns", REQUIRED, "c"), [1], "cols must be a list of column names, got [1]"),
        (Param("flag", "bool", False, "f"), "yes", "flag must be true or false, got 'yes'"),
        (
            Param("tol", "float", 1.0, "t"),
            float("inf"),
            "tol must be a finite number (not inf or nan), got inf",
        ),
        (
            Param("tol", "float", 1.0, "t"),
            float("nan"),
            "tol must be a finite number (not inf or nan), got nan",
        ),
        (
            Param("k", "int", 2, "k", min=2),
            10**23,
            f"k must be a whole number between 2 and 2147483647, got {10**23}",
        ),
    ],
)
def test_bad_values_name_the_parameter_and_what_is_allowed(param: Param, value, message: str):
    with pytest.raises(ComponentInputError) as err:
        param.validate(value)
    assert str(err.value) == message


def test_parse_reads_command_line_text():
    assert FRACTION.parse("0.25") == 0.25
    assert Param("k", "int", 1, "").parse("7") == 7
    assert Param("b", "bool", False, "").parse("True") is True
    cols = Param("c", "columns", REQUIRED, "")
    assert cols.parse("a, b") == ["a", "b"] and cols.parse('["x y", "z"]') == ["x y", "z"]
    assert Param("e", "json", None, "", optional=True).parse("[0, 1.5]") == [0, 1.5]
    with pytest.raises(ComponentInputError, match="fraction must be between"):
        FRACTION.parse("1.5")
    with pytest.raises(ComponentInputError, match="k must be a whole number"):
        Param("k", "int", 1, "").parse("seven")


def _echo() -> Component:
    def fn(ctx: Context, dataset: pd.DataFrame, times: int, note: str | None) -> dict:
        ctx.log("rows", len(dataset))
        ctx.log_table("head", dataset.head(2))
        return {"dataset": pd.concat([dataset] * times, ignore_index=True)}

    return Component(
        "echo",
        "Echo",
        "Test",
        "Repeats a table.",
        [Port("dataset", "table", "in")],
        [Port("dataset", "table", "out")],
        [Param("times", "int", 2, "copies", min=1), Param("note", "string", None, "n", optional=True)],
        fn,
    )


def test_call_validates_runs_and_checks_outputs():
    comp = _echo()
    ctx = Context()
    out = comp(ctx, dataset=pd.DataFrame({"a": [1, 2, 3]}), times=3)
    assert len(out["dataset"]) == 9 and ctx.metrics == {"rows": 3.0}
    assert ctx.tables["head"] == {"a": [1, 2]}
    with pytest.raises(ComponentInputError, match="echo has no parameter 'tims'; parameters: times, note"):
        comp(dataset=pd.DataFrame({"a": [1]}), tims=3)
    with pytest.raises(ComponentInputError, match="input 'dataset' .table. is required"):
        comp(times=3)
    with pytest.raises(ComponentInputError, match="input 'dataset' must be a table, got a list"):
        comp(dataset=[1, 2])


def test_schema_is_json_with_types_defaults_enums_and_bounds():
    schema = json.loads(json.dumps(get_component("split-data").schema()))
    props = schema["params"]["properties"]
    assert props["fraction"] == {
        "type": "number",
        "description": props["fraction"]["description"],
        "default": 0.7,
        "exclusiveMinimum": 0,
        "exclusiveMaximum": 1,
    }
    assert props["mode"]["enum"] == ["rows", "regex", "expression"]
    assert schema["inputs"]["dataset"]["kind"] == "table"
    assert set(schema["outputs"]) == {"results1", "results2"}
    assert schema["params"]["additionalProperties"] is False
    assert get_component("import-data").schema()["params"]["required"] == ["path"]


def test_catalogue_lists_the_data_modules_and_suggests_close_names():
    names = set(catalogue())
    data = {
        "import-data",
        "split-data",
        "select-columns",
        "edit-metadata",
        "clean-missing-data",
        "normalize-data",
        "group-data-into-bins",
        "smote",
        "save-trained-model",
        "load-trained-model",
    }
    assert data <= names
    with pytest.raises(NotFoundError, match="did you mean split-data"):
        get_component("split-dat")


def test_marks_follow_the_table_and_find_the_label():
    df = with_marks(pd.DataFrame({"x": [1.0], "y": [0]}), label="y", categorical=["x"])
    assert label_column(df, None) == "y" and label_column(df, "x") == "x"
    assert marks(df.drop(columns=["x"]).pipe(with_marks))["categorical"] == []
    with pytest.raises(ComponentInputError, match="label_column is required"):
        label_column(pd.DataFrame({"x": [1]}), None)
    with pytest.raises(ComponentInputError, match="label_column: no column 'z' in the table; columns: x, y"):
        label_column(df, "z")


def test_report_round_trips_through_json_parquet_and_png(tmp_path):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    report = Report(
        metrics={"auc": 0.9, "bad": float("nan")},
        tables={"confusion matrix": pd.DataFrame({"pred_0": [5, 1], "pred_1": [2, 7]})},
        figures={"roc": fig},
        data={"threshold": 0.5},
    )
    plt.close(fig)
    folder = report.save(tmp_path / "r")
    assert (folder / "figures" / "roc.png").read_bytes()[:4] == b"\x89PNG"
    assert (folder / "tables" / "confusion_matrix.parquet").is_file()
    back = Report.load(folder)
    assert back.metrics["auc"] == 0.9 and back.data == {"threshold": 0.5}
    assert back.metrics["bad"] != back.metrics["bad"]  # NaN survives
    pd.testing.assert_frame_equal(back.tables["confusion matrix"], report.tables["confusion matrix"])
    assert back.figures["roc"][:4] == b"\x89PNG"
    with pytest.raises(InvalidInputError, match="has no report.json"):
        Report.load(tmp_path)
