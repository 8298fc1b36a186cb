"""Components as tracked runs: hashes, reuse keys, outputs in the artifact store, failures, registry."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trainyard.artifacts import run_key
from trainyard.components import ComponentInputError, Context, Port, get_component
from trainyard.components.base import Component
from trainyard.components.report import Report
from trainyard.components.runner import find_reusable_run, run_component
from trainyard.registry import Model
from trainyard.workspace import Workspace


@pytest.fixture
def csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    n = 400
    df = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n), "city": rng.choice(["a", "b"], n)})
    df["y"] = (df["x1"] - df["x2"] + rng.normal(scale=0.3, size=n) > 0).astype(int)
    df.loc[::9, "x2"] = np.nan
    path = tmp_path / "data.csv"
    df.to_csv(path, index=False)
    return path


def test_run_records_params_hashes_metrics_and_parquet_outputs(ws: Workspace, csv: Path):
    result = run_component(ws, "import-data", params={"path": str(csv)})
    info = ws.store.get_run(result.run_id)
    assert info.status.value == "completed" and info.name == "import-data"
    assert info.params["path"] == str(csv) and info.params["format"] == "auto"
    assert info.metrics["rows"] == 400 and info.metrics["columns"] == 4
    assert info.tags["component"] == "import-data" and info.tags["component.reuse_key"] == result.reuse_key
    stored = ws.artifacts.get_bytes(run_key(result.run_id, "outputs/dataset/data.parquet"))
    assert info.tags["outputs.dataset.sha256"] == hashlib.sha256(stored).hexdigest()
    assert result.locations == {"dataset": f"runs:{result.run_id}/dataset"}
    assert len(result.outputs["dataset"]) == 400


def test_chained_runs_and_reuse_keys(ws: Workspace, csv: Path, tmp_path: Path):
    imported = run_component(ws, "import-data", params={"path": str(csv)})
    ref = f"runs:{imported.run_id[:12]}"  # a short id; the run's only output port
    split = run_component(ws, "split-data", {"dataset": ref}, {"fraction": 0.75, "seed": 4})
    tags = ws.store.get_run(split.run_id).tags
    assert tags["component.input.dataset"] == ws.store.get_run(imported.run_id).tags["outputs.dataset.sha256"]
    assert tags["component.source.dataset"] == f"runs:{imported.run_id}/dataset"
    assert len(split.outputs["results1"]) == 300
    again = run_component(
        ws, "split-data", {"dataset": f"runs:{imported.run_id}/dataset"}, {"seed": 4, "fraction": 0.75}
    )
    assert again.reuse_key == split.reuse_key and find_reusable_run(ws, split.reuse_key) == again.run_id
    other = run_component(ws, "split-data", {"dataset": ref}, {"fraction": 0.5, "seed": 4})
    assert other.reuse_key != split.reuse_key
    # a file input counts by content: the same bytes elsewhere give the same key, other bytes another
    copy = tmp_path / "copy.csv"
    copy.write_bytes(csv.read_bytes())
    from_file = run_component(ws, "select-columns", {"dataset": str(csv)}, {"columns": ["x1", "y"]})
    from_copy = run_component(ws, "select-columns", {"dataset": str(copy)}, {"columns": ["x1", "y"]})
    assert from_file.reuse_key == from_copy.reuse_key
    copy.write_text(csv.read_text().replace("a", "c", 1))
    assert run_component(
        ws, "select-columns", {"dataset": str(copy)}, {"columns": ["x1", "y"]}
    ).reuse_key != (from_file.reuse_key)
    # in-memory tables hash by content too
    df = pd.read_csv(csv)
    mem = run_component(ws, "select-columns", {"dataset": df}, {"columns": ["x1"]})
    assert (
        mem.reuse_key
        == run_component(ws, "select-columns", {"dataset": df.copy()}, {"columns": ["x1"]}).reuse_key
    )
    assert find_reusable_run(ws, "0" * 64) is None


def test_a_failing_component_fails_its_run_and_writes_no_output(ws: Workspace, csv: Path):
    df = pd.read_csv(csv).assign(blank=np.nan)
    with pytest.raises(ComponentInputError, match="column 'blank' has no values"):
        run_component(
            ws, "clean-missing-data", {"dataset": df}, {"columns": ["blank"], "cleaning_mode": "mean"}
        )
    failed = ws.store.search_runs()[0]
    assert failed.status.value == "failed" and "column 'blank' has no values" in failed.error
    assert ws.artifacts.list(run_key(failed.id, "outputs")) == []


def test_an_upload_that_breaks_midway_leaves_no_outputs(ws: Workspace, csv: Path, monkeypatch):
    real = ws.artifacts.put_bytes
    calls = []

    def flaky(key: str, data: bytes) -> None:
        calls.append(key)
        if len(calls) == 2:
            raise OSError("disk full")
        real(key, data)

    monkeypatch.setattr(ws.artifacts, "put_bytes", flaky)
    with pytest.raises(OSError, match="disk full"):
        run_component(ws, "split-data", {"dataset": str(csv)}, {})
    failed = ws.store.search_runs()[0]
    assert failed.status.value == "failed" and "disk full" in failed.error
    assert ws.artifacts.list(run_key(failed.id, "outputs")) == []


def test_bad_references_and_parameters_are_refused_before_a_run(ws: Workspace, csv: Path):
    with pytest.raises(ComponentInputError, match="fraction must be between 0 and 1 .exclusive., got 1.5"):
        run_component(ws, "split-data", {"dataset": str(csv)}, {"fraction": 1.5})
    with pytest.raises(ComponentInputError, match="input 'dataset': no run with an id starting 'ffff'"):
        run_component(ws, "split-data", {"dataset": "runs:ffff/dataset"}, {})
    imported = run_component(ws, "import-data", params={"path": str(csv)})
    with pytest.raises(ComponentInputError, match="has no output 'model'; it has: dataset"):
        run_component(ws, "split-data", {"dataset": f"runs:{imported.run_id}/model"}, {})
    with pytest.raises(ComponentInputError, match="input 'dataset': no such file or folder"):
        run_component(ws, "split-data", {"dataset": "nope.csv"}, {})
    lr = run_component(ws, "two-class-logistic-regression")
    ref = f"runs:{lr.run_id}/untrained_model"
    with pytest.raises(ComponentInputError) as err:
        run_component(ws, "train-model", {"untrained_model": ref, "dataset": ref}, {"label_column": "y"})
    assert str(err.value) == "input 'dataset' wants a table; the referenced output is an untrained model"
    with pytest.raises(ComponentInputError) as err:
        run_component(
            ws, "train-model", {"untrained_model": f"runs:{imported.run_id}/dataset", "dataset": str(csv)}, {}
        )
    assert (
        str(err.value) == "input 'untrained_model' wants an untrained model; the referenced output is a table"
    )
    assert len(ws.store.search_runs()) == 2


def test_report_outputs_and_logged_tables_and_images(ws: Workspace):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def fn(ctx: Context, dataset: pd.DataFrame) -> dict:
        fig, ax = plt.subplots()
        ax.hist(dataset["v"])
        ctx.log("mean", dataset["v"].mean())
        ctx.log_table("summary", dataset.describe().reset_index())
        ctx.log_image("histogram", fig)
        report = Report(
            metrics={"mean": dataset["v"].mean()}, tables={"head": dataset.head(3)}, figures={"h": fig}
        )
        plt.close(fig)
        return {"report": report}

    comp = Component(
        "describe", "Describe", "Test", "Summarises.", [Port("dataset", "table", "in")],
        [Port("report", "report", "out")], [], fn,
    )  # fmt: skip
    result = run_component(ws, comp, {"dataset": pd.DataFrame({"v": [1.0, 2.0, 3.0]})})
    files = ws.artifacts.list(run_key(result.run_id))
    assert "images/histogram.png" in files and "tables/summary.json" in files
    assert {
        "outputs/report/report.json",
        "outputs/report/figures/h.png",
        "outputs/report/tables/head.parquet",
    } <= set(files)
    assert ws.store.get_run(result.run_id).metrics["mean"] == 2.0
    stored = Report.load(ws.artifacts.local_path(run_key(result.run_id, "outputs/report")))
    assert stored.tables["head"]["v"].tolist() == [1.0, 2.0, 3.0] and stored.figures["h"][:4] == b"\x89PNG"


def test_save_and_load_trained_model_through_the_registry(ws: Workspace, csv: Path):
    df = pd.read_csv(csv).dropna()
    learner = get_component("two-class-logistic-regression")()["untrained_model"]
    model = get_component("train-model")(untrained_model=learner, dataset=df, label_column="y")[
        "trained_model"
    ]
    trained = run_component(
        ws, "train-model", {"untrained_model": learner, "dataset": str(csv)}, {"label_column": "y"}
    )
    saved = run_component(
        ws,
        "save-trained-model",
        {"model": f"runs:{trained.run_id}/trained_model"},
        {"model_name": "churn", "alias": "prod"},
    )
    version = Model(ws, "churn@prod")
    assert version.version == 1 and version.lineage()["run_id"] == saved.run_id
    assert (
        ws.store.get_run(saved.run_id).tags["component.source.model"]
        == f"runs:{trained.run_id}/trained_model"
    )
    assert saved.outputs["registration"].data == {"name": "churn", "version": 1, "alias": "prod"}
    loaded = run_component(ws, "load-trained-model", params={"model": "churn:1"})
    assert (
        loaded.outputs["model"].predict(df).tolist() == trained.outputs["trained_model"].predict(df).tolist()
    )
    assert (model.predict(df) == loaded.outputs["model"].predict(df)).mean() > 0.95
    scored = run_component(
        ws, "score-model", {"trained_model": f"runs:{loaded.run_id}/model", "dataset": df}, {}
    ).outputs
    assert len(next(iter(scored.values()))) == len(df)
    # the reuse key follows the version an alias resolves to, not the alias's name
    by_alias = run_component(ws, "load-trained-model", params={"model": "churn@prod"})
    run_component(ws, "save-trained-model", {"model": model}, {"model_name": "churn", "alias": "prod"})
    assert (
        run_component(ws, "load-trained-model", params={"model": "churn@prod"}).reuse_key
        != by_alias.reuse_key
    )
    with pytest.raises(ComponentInputError, match="save-trained-model needs a workspace"):
        get_component("save-trained-model")(model=model, model_name="x")


def test_every_data_module_on_a_real_dataset_as_chained_runs(ws: Workspace, tmp_path: Path):
    """scikit-learn's breast cancer data (shipped with the package) through the Data modules."""
    from sklearn.datasets import load_breast_cancer

    df = load_breast_cancer(as_frame=True).frame
    df.loc[::25, "mean radius"] = np.nan
    df.to_csv(tmp_path / "cancer.csv", index=False)

    def step(name: str, port: str, **params) -> str:
        inputs = {} if name == "import-data" else {"dataset": "last:" + steps[-1][0] + "/" + steps[-1][1]}
        result = run_component(ws, name, inputs, params)
        assert ws.store.get_run(result.run_id).status.value == "completed"
        steps.append((name, port))
        return result.outputs[port]

    steps: list[tuple[str, str]] = []
    step("import-data", "dataset", path=str(tmp_path / "cancer.csv"))
    step("edit-metadata", "dataset", columns=["target"], fields="label")
    step("select-columns", "dataset", columns=["worst texture"], mode="exclude")
    assert step("clean-missing-data", "cleaned_dataset", cleaning_mode="mean")["mean radius"].notna().all()
    scaled = step("normalize-data", "transformed_dataset", method="zscore")
    assert abs(scaled["mean area"].mean()) < 1e-9 and set(scaled["target"]) == {0, 1}  # the label is kept
    binned = step("group-data-into-bins", "quantized_dataset", columns=["mean area"], bins=5)
    assert binned["mean area_bin"].value_counts().tolist() == [114, 114, 114, 114, 113]
    step("split-data", "results1", fraction=0.7, stratify_column="target", seed=2)
    balanced = step("smote", "dataset", smote_percentage=50, k_neighbors=5)
    counts = balanced["target"].value_counts()
    assert counts[0] == round(148 * 1.5) and counts[1] == 250  # 212 malignant, 357 benign; 70 % of each
    learner = get_component("two-class-logistic-regression")()["untrained_model"]
    model = get_component("train-model")(
        untrained_model=learner, dataset=balanced.drop(columns=["mean area_bin"])
    )
    assert model["trained_model"].label_column == "target"  # found from the mark Edit Metadata set
