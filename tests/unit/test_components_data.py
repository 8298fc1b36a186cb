"""The Data modules on small generated tables, and the bad inputs the issue lists for them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trainyard.components import ComponentInputError, get_component
from trainyard.components.base import marks
from trainyard.components.data_io import read_table


def run(name: str, **kwargs):
    return get_component(name)(**kwargs)


@pytest.fixture
def table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "income": rng.lognormal(10, 1, n),
            "city": rng.choice(["oslo", "lima", "pune"], n),
            "y": (rng.random(n) < 0.2).astype(int),
        }
    )
    df.loc[::10, "income"] = np.nan
    return df


# Import Data ----------------------------------------------------------------------------------
def test_import_reads_csv_parquet_and_json_lines(tmp_path: Path, table: pd.DataFrame):
    table.to_csv(tmp_path / "t.csv", index=False)
    table.to_parquet(tmp_path / "t.parquet")
    table.to_json(tmp_path / "t.jsonl", orient="records", lines=True)
    for name in ("t.csv", "t.parquet", "t.jsonl"):
        df = run("import-data", path=str(tmp_path / name))["dataset"]
        assert df.shape == table.shape and list(df.columns) == list(table.columns)
        assert df["income"].isna().sum() == 30
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfa,b\n1,2\n")
    assert list(read_table(bom).columns) == ["a", "b"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"a,b,c\n1,2,3\n4,5,6,7\n", "bad.csv: row on line 3 has 4 fields, the header has 3"),
        (b"name,city\nx,Z\xfcrich\n", "bad.csv: line 2 is not valid utf-8 (byte 0xfc); set the encoding"),
        (b"", "bad.csv is empty (0 bytes)"),
        (b"\n\n", "bad.csv is empty: no header and no rows"),
        (b"a,b\n", "bad.csv has no rows"),
    ],
)
def test_import_refuses_bad_csv_in_one_line(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ComponentInputError) as err:
        run("import-data", path=str(path))
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_import_reads_latin1_when_told_and_names_bad_json_lines(tmp_path: Path):
    path = tmp_path / "l1.csv"
    path.write_bytes(b"name,city\nx,Z\xfcrich\n")
    assert run("import-data", path=str(path), encoding="latin-1")["dataset"]["city"][0] == "Zürich"
    lines = tmp_path / "t.jsonl"
    lines.write_text('{"a": 1}\n{"a": 2\n')
    with pytest.raises(ComponentInputError, match=r"t.jsonl: line 2 is not JSON"):
        read_table(lines)
    with pytest.raises(ComponentInputError, match="not a readable Parquet file"):
        (tmp_path / "x.parquet").write_text("nope")
        read_table(tmp_path / "x.parquet")
    with pytest.raises(ComponentInputError, match="path: no such file"):
        read_table(tmp_path / "missing.csv")
    with pytest.raises(ComponentInputError, match="is a folder, not a table file"):
        read_table(tmp_path)
    (tmp_path / "latin.csv").write_bytes(b"name,city\nx,Z\xfcrich\n")
    with pytest.raises(ComponentInputError, match="read it with import-data and its encoding parameter"):
        read_table(tmp_path / "latin.csv")
    with pytest.raises(ComponentInputError, match="is a folder"):
        run("import-data", path=str(tmp_path))


@pytest.mark.parametrize("name", ["t.csv", "t.jsonl"])
def test_import_refuses_an_unknown_encoding_in_one_line(tmp_path: Path, name: str):
    path = tmp_path / name
    path.write_text('{"a": 1}\n')
    with pytest.raises(ComponentInputError, match="encoding must be a Python codec name .* got 'bogus'"):
        read_table(path, encoding="bogus")


# Split Data ----------------------------------------------------------------------------------
def test_split_by_fraction_is_seeded_and_stratified(table: pd.DataFrame):
    a = run("split-data", dataset=table, fraction=0.8, seed=3, stratify_column="y")
    b = run("split-data", dataset=table, fraction=0.8, seed=3, stratify_column="y")
    assert len(a["results1"]) == 240 and len(a["results2"]) == 60
    pd.testing.assert_frame_equal(a["results1"], b["results1"])
    share = table["y"].mean()
    assert abs(a["results1"]["y"].mean() - share) < 0.01 and abs(a["results2"]["y"].mean() - share) < 0.02
    assert set(a["results1"].index).isdisjoint(a["results2"].index)
    ordered = run("split-data", dataset=table, fraction=0.5, randomize=False)["results1"]
    assert list(ordered.index) == list(range(150))


def test_split_by_regex_and_relative_expression(table: pd.DataFrame):
    out = run("split-data", dataset=table, mode="regex", column="city", regex="^(oslo|lima)$")
    assert set(out["results1"]["city"]) == {"oslo", "lima"} and set(out["results2"]["city"]) == {"pune"}
    out = run("split-data", dataset=table, mode="expression", expression='"age" >= 40')
    assert (out["results1"]["age"] >= 40).all() and (out["results2"]["age"] < 40).all()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"fraction": 1.5}, "fraction must be between 0 and 1 (exclusive), got 1.5"),
        ({"stratify_column": "nope"}, "stratify_column: no column 'nope'"),
        ({"mode": "regex", "column": "city", "regex": "("}, "regex is not a valid regular expression"),
        ({"mode": "expression", "expression": "age ~ 3"}, "expression must look like"),
        ({"mode": "expression", "expression": "city > 3"}, "column 'city' is not numeric"),
    ],
)
def test_split_refuses_bad_parameters(table: pd.DataFrame, params: dict, message: str):
    with pytest.raises(ComponentInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run("split-data", dataset=table, **params)


# Select Columns, Edit Metadata ---------------------------------------------------------------------
def test_select_columns_keeps_order_and_refuses_unknown(table: pd.DataFrame):
    assert list(run("select-columns", dataset=table, columns=["y", "age"])["dataset"].columns) == ["y", "age"]
    dropped = run("select-columns", dataset=table, columns=["city"], mode="exclude")["dataset"]
    assert list(dropped.columns) == ["age", "income", "y"]
    with pytest.raises(ComponentInputError, match="columns: no column 'agee'"):
        run("select-columns", dataset=table, columns=["agee"])


def test_edit_metadata_renames_retypes_and_marks(table: pd.DataFrame):
    labelled = run("edit-metadata", dataset=table, columns=["y"], fields="label")["dataset"]
    assert marks(labelled)["label"] == "y" and "trainyard" not in table.attrs
    cat = run("edit-metadata", dataset=labelled, columns=["city"], categorical="categorical")["dataset"]
    assert isinstance(cat["city"].dtype, pd.CategoricalDtype) and marks(cat)["categorical"] == ["city"]
    renamed = run("edit-metadata", dataset=cat, columns=["y", "city"], new_names=["target", "town"])[
        "dataset"
    ]
    assert marks(renamed) == {"label": "target", "features": [], "categorical": ["town"]}
    as_float = run("edit-metadata", dataset=table, columns=["age"], data_type="float")["dataset"]
    assert as_float["age"].dtype == "float64"
    with pytest.raises(
        ComponentInputError, match="column 'city' cannot become float .value 'oslo'|lima|pune"
    ):
        run("edit-metadata", dataset=table, columns=["city"], data_type="float")
    with pytest.raises(ComponentInputError, match="new_names must give 2 names"):
        run("edit-metadata", dataset=table, columns=["y", "age"], new_names=["t"])
    with pytest.raises(ComponentInputError, match="a column named 'age' already exists"):
        run("edit-metadata", dataset=table, columns=["y"], new_names=["age"])


# Clean Missing Data -------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["mean", "median", "mode", "iterative"])
def test_clean_fills_missing_numbers(table: pd.DataFrame, mode: str):
    out = run("clean-missing-data", dataset=table, columns=["income"], cleaning_mode=mode)["cleaned_dataset"]
    assert out["income"].isna().sum() == 0 and len(out) == len(table)
    kept = table["income"].notna()
    assert (out.loc[kept, "income"] == table.loc[kept, "income"]).all()
    if mode == "mean":
        assert np.isclose(out.loc[~kept, "income"].iloc[0], table["income"].mean())


def test_clean_removes_rows_or_columns_and_respects_ratios(table: pd.DataFrame):
    rows = run("clean-missing-data", dataset=table, cleaning_mode="remove_row")["cleaned_dataset"]
    assert len(rows) == 270 and rows.notna().all().all()
    cols = run("clean-missing-data", dataset=table, cleaning_mode="remove_column")["cleaned_dataset"]
    assert list(cols.columns) == ["age", "city", "y"]
    skipped = run("clean-missing-data", dataset=table, cleaning_mode="remove_row", max_missing_ratio=0.05)
    assert len(skipped["cleaned_dataset"]) == 300  # income is 10 % missing: above the ratio, left alone
    custom = run(
        "clean-missing-data",
        dataset=table,
        cleaning_mode="custom_value",
        replacement_value="0",
        add_indicator=True,
    )["cleaned_dataset"]
    assert (custom["income"] == 0).sum() == 30 and custom["income_is_missing"].sum() == 30


def test_clean_refuses_all_missing_columns_and_text_means(table: pd.DataFrame):
    empty = table.assign(blank=np.nan)
    with pytest.raises(ComponentInputError, match="column 'blank' has no values, so its mean is undefined"):
        run("clean-missing-data", dataset=empty, columns=["blank"], cleaning_mode="mean")
    with pytest.raises(ComponentInputError, match="column 'blank' has no values, so it cannot be imputed"):
        run("clean-missing-data", dataset=empty, columns=["blank", "income"], cleaning_mode="iterative")
    gone = run("clean-missing-data", dataset=empty, columns=["blank"], cleaning_mode="remove_column")
    assert "blank" not in gone["cleaned_dataset"]
    texty = table.assign(city=table["city"].where(table.index % 7 > 0))
    with pytest.raises(ComponentInputError, match="cleaning_mode=median needs numeric columns; 'city'"):
        run("clean-missing-data", dataset=texty, columns=["city"], cleaning_mode="median")
    filled = run("clean-missing-data", dataset=texty, columns=["city"], cleaning_mode="mode")[
        "cleaned_dataset"
    ]
    assert filled["city"].notna().all()
    with pytest.raises(ComponentInputError, match="must not exceed max_missing_ratio"):
        run("clean-missing-data", dataset=table, min_missing_ratio=0.5, max_missing_ratio=0.1)


# Normalize, Bins ------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["zscore", "minmax", "logistic", "tanh", "log"])
def test_normalize_rescales_numeric_columns(table: pd.DataFrame, method: str):
    out = run("normalize-data", dataset=table, method=method, columns=["age", "income"])[
        "transformed_dataset"
    ]
    age = out["age"]
    expected = {
        "zscore": (table["age"] - table["age"].mean()) / table["age"].std(ddof=0),
        "minmax": (table["age"] - table["age"].min()) / (table["age"].max() - table["age"].min()),
        "logistic": 1 / (1 + np.exp(-table["age"])),
        "tanh": np.tanh(table["age"]),
        "log": np.log(table["age"]),
    }[method]
    assert np.allclose(age, expected) and out["income"].isna().sum() == 30
    assert (out["city"] == table["city"]).all()


def test_normalize_log_of_non_positive_values_names_the_column(table: pd.DataFrame):
    zeros = int((table["y"] == 0).sum())
    with pytest.raises(
        ComponentInputError, match=f"method=log needs positive values; column 'y' has {zeros} "
    ):
        run("normalize-data", dataset=table, method="log", columns=["y"])
    with pytest.raises(ComponentInputError, match="columns: column 'city' is object|str"):
        run("normalize-data", dataset=table, columns=["city"])


def test_bins_by_quantiles_width_and_edges(table: pd.DataFrame):
    q = run("group-data-into-bins", dataset=table, columns=["age"], bins=4)["quantized_dataset"]
    assert sorted(q["age_bin"].unique()) == [0, 1, 2, 3] and q["age_bin"].value_counts().min() >= 60
    w = run(
        "group-data-into-bins",
        dataset=table,
        columns=["age"],
        method="equal_width",
        bins=2,
        output_mode="inplace",
    )
    assert set(w["quantized_dataset"]["age"]) == {0, 1}
    e = run("group-data-into-bins", dataset=table, columns=["age"], method="custom_edges", edges=[0, 30, 65])
    binned = e["quantized_dataset"]
    assert (binned.loc[binned["age"] > 65, "age_bin"].isna()).all()
    assert (binned.loc[binned["age"] <= 30, "age_bin"] == 0).all()
    with pytest.raises(ComponentInputError, match="edges must increase strictly"):
        run("group-data-into-bins", dataset=table, columns=["age"], method="custom_edges", edges=[5, 1])
    with pytest.raises(ComponentInputError, match="bins must be between 2 and 10000, got 0"):
        run("group-data-into-bins", dataset=table, columns=["age"], bins=0)


# SMOTE ----------------------------------------------------------------------------------------------
def test_smote_adds_interpolated_minority_rows(table: pd.DataFrame):
    numeric = table.drop(columns=["city"]).dropna().reset_index(drop=True)
    minority = int(numeric["y"].sum())
    out = run("smote", dataset=numeric, label_column="y", smote_percentage=200, k_neighbors=3, seed=1)[
        "dataset"
    ]
    assert len(out) == len(numeric) + 2 * minority and int(out["y"].sum()) == 3 * minority
    pd.testing.assert_frame_equal(out.iloc[: len(numeric)], numeric)
    new = out.iloc[len(numeric) :]
    assert new["age"].dtype == numeric["age"].dtype
    low, high = numeric.loc[numeric["y"] == 1, "income"].agg(["min", "max"])
    assert new["income"].between(low, high).all()  # interpolated between minority rows


def test_smote_refuses_one_class_text_features_and_k_too_large(table: pd.DataFrame):
    numeric = table.drop(columns=["city"]).dropna()
    with pytest.raises(ComponentInputError, match="label_column 'y' has one class"):
        run("smote", dataset=numeric.assign(y=0), label_column="y")
    with pytest.raises(ComponentInputError, match="SMOTE needs numeric features; column 'city'"):
        run("smote", dataset=table.dropna(), label_column="y")
    with pytest.raises(ComponentInputError, match=r"the 3 rows of the minority class 1, got 5$"):
        run(
            "smote",
            dataset=numeric.assign(y=[1, 1, 1] + [0] * (len(numeric) - 3)),
            label_column="y",
            k_neighbors=5,
        )
    with pytest.raises(ComponentInputError, match="k_neighbors must be between 1 and 1000, got 0"):
        run("smote", dataset=numeric, label_column="y", k_neighbors=0)
    with pytest.raises(ComponentInputError, match="label_column 'income' is not a class column"):
        run("smote", dataset=numeric.assign(income=numeric["income"] + 0.5), label_column="income")
