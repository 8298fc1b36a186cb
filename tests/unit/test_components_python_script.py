"""Execute Python Script: the user's azureml_main on the input tables, and its mistakes in one line."""

from __future__ import annotations

import textwrap
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from trainyard.components import ComponentInputError, get_component
from trainyard.components.categories import grouped_catalogue
from trainyard.components.python_script import DEFAULT_SCRIPT

RUN = get_component("execute-python-script")


def script(text: str) -> str:
    return textwrap.dedent(text).lstrip()


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]})


def test_a_script_that_adds_a_column_returns_it_as_the_result_dataset(table):
    out = RUN(
        dataframe1=table,
        script=script("""
            import numpy as np
            def azureml_main(dataframe1 = None, dataframe2 = None):
                dataframe1["x2"] = np.square(dataframe1["x"])
                return dataframe1,
        """),
    )
    assert out["result_dataset"]["x2"].tolist() == [1, 4, 9]
    assert out["python_device"] is None
    assert "x2" not in table.columns  # the caller's table is not changed under it


def test_two_inputs_come_in_as_dataframe1_and_dataframe2_and_two_outputs_go_out(table):
    other = pd.DataFrame({"x": [2, 3], "z": [20.0, 30.0]})
    out = RUN(
        dataframe1=table,
        dataframe2=other,
        script=script("""
            def azureml_main(dataframe1, dataframe2):
                return dataframe1.merge(dataframe2, on="x"), dataframe2.describe().reset_index()
        """),
    )
    assert out["result_dataset"].to_dict("list") == {"x": [2, 3], "y": ["b", "c"], "z": [20.0, 30.0]}
    assert list(out["python_device"]["index"]) == ["count", "mean", "std", "min", "25%", "50%", "75%", "max"]


def test_an_input_left_unwired_is_none_and_the_default_script_returns_dataframe1(table, capsys):
    out = RUN(dataframe1=table)
    pd.testing.assert_frame_equal(out["result_dataset"], table)
    assert "Input pandas.DataFrame #1" in capsys.readouterr().out  # the template's print
    made = RUN(
        script=script("""
            import pandas as pd
            def azureml_main(dataframe1 = None, dataframe2 = None):
                assert dataframe1 is None and dataframe2 is None
                return pd.DataFrame({"n": [1]})
        """)
    )
    assert made["result_dataset"]["n"].tolist() == [1]


def test_a_script_without_azureml_main_is_told_to_define_it(table):
    with pytest.raises(ComponentInputError, match="the script defines no function azureml_main; add `def"):
        RUN(dataframe1=table, script="def main(df):\n    return df,\n")
    with pytest.raises(ComponentInputError, match=r"azureml_main\(df\) must take two arguments"):
        RUN(dataframe1=table, script="def azureml_main(df):\n    return df,\n")
    with pytest.raises(ComponentInputError, match="script line 1: invalid syntax"):
        RUN(dataframe1=table, script="def azureml_main(:\n")


def test_a_script_that_raises_names_the_exception_and_its_line_and_prints_only_its_frames(table, capsys):
    source = script("""
        def helper(df):
            return df["missing"]

        def azureml_main(dataframe1, dataframe2):
            return helper(dataframe1),
    """)
    with pytest.raises(ComponentInputError) as caught:
        RUN(dataframe1=table, script=source)
    assert str(caught.value) == (
        "azureml_main raised KeyError: 'missing' at script line 2, in helper; fix the script"
    )
    printed = capsys.readouterr().err
    assert 'File "<script>", line 5, in azureml_main\n    return helper(dataframe1),' in printed
    assert 'File "<script>", line 2, in helper\n    return df["missing"]' in printed
    assert "pandas" not in printed and "python_script.py" not in printed  # trimmed to the user's code
    assert printed.rstrip().endswith("KeyError: 'missing'")
    with pytest.raises(ComponentInputError, match="running the script raised ModuleNotFoundError"):
        RUN(dataframe1=table, script="import no_such_module\n")


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        ("None", "azureml_main returned None; return a DataFrame or a tuple of one or two"),
        ("{'x': 1}", "azureml_main returned a dict; return a DataFrame"),
        ("()", "azureml_main returned 0 values"),
        ("dataframe1, dataframe1, dataframe1", "azureml_main returned 3 values"),
        ("dataframe1, 3", "returned a tuple whose item 2 is int, not a pandas DataFrame"),
        ("pd.DataFrame([[1]])", "DataFrame 1 has column names that are not strings \\(0\\)"),
    ],
)
def test_a_return_value_that_is_not_dataframes_says_what_to_return(table, returned, message):
    source = f"import pandas as pd\ndef azureml_main(dataframe1, dataframe2):\n    return {returned}\n"
    with pytest.raises(ComponentInputError, match=message):
        RUN(dataframe1=table, script=source)


def test_a_returned_dataframe_alone_is_the_result_dataset(table):
    out = RUN(dataframe1=table, script="def azureml_main(a, b):\n    return a.head(1)\n")
    assert len(out["result_dataset"]) == 1


@pytest.mark.parametrize("packed", [False, True])
def test_a_script_bundle_folder_or_zip_is_importable(tmp_path: Path, table, packed):
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "helpers_for_bundle_test.py").write_text("def double(s):\n    return s * 2\n")
    bundle = folder
    if packed:
        bundle = tmp_path / "bundle.zip"
        with zipfile.ZipFile(bundle, "w") as archive:
            archive.write(folder / "helpers_for_bundle_test.py", "helpers_for_bundle_test.py")
    source = script("""
        import helpers_for_bundle_test as h
        def azureml_main(dataframe1, dataframe2):
            dataframe1["x"] = h.double(dataframe1["x"])
            return dataframe1,
    """)
    out = RUN(dataframe1=table, script=source, script_bundle=str(bundle))
    assert out["result_dataset"]["x"].tolist() == [2, 4, 6]
    with pytest.raises(ComponentInputError, match="No module named 'helpers_for_bundle_test'"):
        RUN(dataframe1=table, script=source)  # off sys.path again, and forgotten
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ComponentInputError, match="is neither a zip file nor a folder"):
        RUN(dataframe1=table, script=source, script_bundle=str(tmp_path / "notes.txt"))


def test_it_is_listed_under_python_language_with_its_script_marked_as_python_code():
    groups = {g["name"]: g["components"] for g in grouped_catalogue()}
    (schema,) = groups["Python Language"]
    assert schema["name"] == "execute-python-script"
    assert list(schema["inputs"]) == ["dataframe1", "dataframe2"]
    assert all(p["optional"] for p in schema["inputs"].values())
    assert list(schema["outputs"]) == ["result_dataset", "python_device"]
    prop = schema["params"]["properties"]["script"]
    assert prop == {**prop, "type": "string", "format": "python", "default": DEFAULT_SCRIPT}
    assert "def azureml_main(dataframe1 = None, dataframe2 = None):" in DEFAULT_SCRIPT
    assert DEFAULT_SCRIPT.rstrip().endswith("return dataframe1,")
    with pytest.raises(ComponentInputError, match="script must be Python source text, got 3"):
        RUN(script=3)


def test_a_changed_bundle_folder_changes_the_reuse_key(tmp_path: Path):
    from trainyard.components.runner import _param_content

    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "m.py").write_text("A = 1\n")
    params = {"script": DEFAULT_SCRIPT, "script_bundle": str(folder)}
    before = _param_content(None, RUN, params)  # paths need no workspace
    (folder / "m.py").write_text("A = 2\n")
    assert _param_content(None, RUN, params) != before


def test_a_script_longer_than_a_run_param_holds_is_refused_before_it_runs(table):
    long = "# " + "x" * 6000 + "\ndef azureml_main(a, b):\n    return a,\n"
    with pytest.raises(ComponentInputError, match="script has 6041 characters; the limit is 6000: move code"):
        RUN(dataframe1=table, script=long)
