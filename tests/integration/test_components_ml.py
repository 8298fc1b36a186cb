"""Train, Score and Evaluate components on small real data (scikit-learn's bundled sets)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, make_blobs

from trainyard import models
from trainyard.components.base import ComponentInputError, Context, get_component, with_marks
from trainyard.components.model import TrainedModel
from trainyard.components.report import Report

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def run(name: str, ctx: Context | None = None, **kwargs):
    return get_component(name)(ctx, **kwargs)


def learner(name: str, **params):
    return run(name, **params)["untrained_model"]


@pytest.fixture(scope="module")
def cancer() -> pd.DataFrame:
    df = load_breast_cancer(as_frame=True).frame
    df["size"] = np.where(df["mean radius"] > 14, "big", "small")  # a text feature, one-hot encoded
    df.loc[:6, "mean texture"] = np.nan
    return df


def train(untrained, df: pd.DataFrame, label: str, ctx: Context | None = None) -> TrainedModel:
    return run("train-model", ctx, untrained_model=untrained, dataset=df, label_column=label)["trained_model"]


def test_two_class_train_score_evaluate_and_save(cancer: pd.DataFrame, tmp_path) -> None:
    ctx = Context()
    model = train(
        learner("two-class-boosted-decision-tree", number_of_trees_constructed=30), cancer, "target", ctx
    )
    assert ctx.metrics == {"training_rows": len(cancer) - 7, "rows_skipped": 7}
    assert model.classes == [0, 1] and "size" in model.feature_columns
    scored = run("score-model", trained_model=model, dataset=cancer.dropna())["scored_dataset"]
    assert {"Scored Labels", "Scored Probabilities"} <= set(scored.columns)
    assert ((scored["Scored Probabilities"] > 0.5) == (scored["Scored Labels"] == 1)).all()

    ctx = Context()
    report = run("evaluate-model", ctx, scored_dataset=scored)["evaluation_results"]
    assert report.metrics["accuracy"] > 0.95 and report.metrics["auc"] > 0.95
    assert {"precision", "recall", "f1_score", "log_loss"} <= set(report.metrics)
    truth, said = scored["target"] == 1, scored["Scored Labels"] == 1
    assert report.metrics["f1_score"] == pytest.approx(skm.f1_score(truth, said))
    assert report.metrics["precision"] == pytest.approx(skm.precision_score(truth, said))
    assert report.metrics["auc"] == pytest.approx(skm.roc_auc_score(truth, scored["Scored Probabilities"]))
    assert report.metrics["log_loss"] == pytest.approx(skm.log_loss(truth, scored["Scored Probabilities"]))
    assert {"roc_curve", "precision_recall_curve", "confusion_matrix"} <= set(ctx.images)
    strict = run("evaluate-model", scored_dataset=scored, threshold=0.99)["evaluation_results"]
    assert strict.metrics["recall"] < report.metrics["recall"]

    model.save(tmp_path / "model")
    again = TrainedModel.load(tmp_path / "model")
    assert (again.predict(cancer.dropna()) == scored["Scored Labels"].to_numpy()).all()
    served = models.load(tmp_path / "model", trust=True).predict(cancer.dropna().drop(columns="target"))
    assert (served == scored["Scored Labels"].to_numpy()).all()
    report.save(tmp_path / "report")
    assert Report.load(tmp_path / "report").metrics["auc"] == pytest.approx(report.metrics["auc"])


@pytest.mark.parametrize("name", ["two-class-logistic-regression", "two-class-neural-network"])
def test_other_two_class_learners_score_only_when_asked(cancer: pd.DataFrame, name: str) -> None:
    data = cancer.dropna()
    model = train(learner(name), data, "target")
    scores = run("score-model", trained_model=model, dataset=data, append_score_columns_to_output=False)
    assert list(scores["scored_dataset"].columns) == ["target", "Scored Labels", "Scored Probabilities"]
    metrics = run("evaluate-model", scored_dataset=scores["scored_dataset"])["evaluation_results"].metrics
    assert metrics["auc"] > 0.9


def test_the_confusion_matrix_names_both_classes_by_their_label_values(cancer: pd.DataFrame) -> None:
    data = cancer.dropna().assign(target=lambda d: d["target"].map({0: "malignant", 1: "benign"}))
    model = train(learner("two-class-logistic-regression"), data, "target")
    scored = run("score-model", trained_model=model, dataset=data)["scored_dataset"]

    def confusion(table: pd.DataFrame, **params: str) -> pd.DataFrame:
        report = run("evaluate-model", scored_dataset=table, **params)["evaluation_results"]
        return report.tables["confusion_matrix"]

    assert list(confusion(scored).columns) == ["actual", "benign", "malignant"]  # the model's classes
    flipped = confusion(scored, positive_class="benign")
    assert list(flipped["actual"]) == ["malignant", "benign"]
    assert flipped.iloc[1, 2] == ((data["target"] == "benign") & (scored["Scored Labels"] == "benign")).sum()
    # No Score Model attrs (a table scored elsewhere): the label values seen name the classes.
    plain = pd.DataFrame({"churned": ["no", "yes", "no"], "Scored Labels": ["no", "yes", "yes"]})
    plain["Scored Probabilities"] = [0.2, 0.9, 0.6]
    assert list(confusion(plain, label_column="churned")["actual"]) == ["no", "yes"]
    assert list(confusion(plain[plain.churned == "yes"], label_column="churned")["actual"]) == [
        "not yes",
        "yes",
    ]


def test_two_models_side_by_side(cancer: pd.DataFrame) -> None:
    data = cancer.dropna()
    scored = [
        run("score-model", trained_model=train(learner(name), data, "target"), dataset=data)["scored_dataset"]
        for name in ("two-class-decision-forest", "two-class-support-vector-machine")
    ]
    report = run("evaluate-model", scored_dataset=scored[0], scored_dataset_to_compare=scored[1])[
        "evaluation_results"
    ]
    assert "compare_auc" in report.metrics and "compare_confusion_matrix" in report.figures
    assert list(report.tables["metrics"]["model"]) == ["scored_dataset", "scored_dataset_to_compare"]


@pytest.mark.parametrize(
    "name",
    [
        "multiclass-logistic-regression",
        "multiclass-neural-network",
        "multiclass-boosted-decision-tree",
        "multiclass-decision-forest",
    ],
)
def test_multiclass_scores_one_probability_column_per_class(name: str) -> None:
    iris = load_iris(as_frame=True).frame
    iris["target"] = iris["target"].map({0: "setosa", 1: "versicolor", 2: "virginica"})
    scored = run("score-model", trained_model=train(learner(name), iris, "target"), dataset=iris)[
        "scored_dataset"
    ]
    columns = [f'Scored Probabilities for Class "{c}"' for c in ("setosa", "versicolor", "virginica")]
    assert np.allclose(scored[columns].sum(axis=1), 1.0)
    report = run("evaluate-model", scored_dataset=scored)["evaluation_results"]
    assert report.metrics["accuracy"] > 0.8 and report.metrics["auc"] > 0.9
    assert "confusion_matrix" in report.figures and "macro_f1_score" in report.metrics
    with pytest.raises(ComponentInputError, match="never saw"):
        run("evaluate-model", scored_dataset=scored.assign(target="daisy"))


@pytest.mark.parametrize(
    "name",
    [
        "linear-regression",
        "boosted-decision-tree-regression",
        "decision-forest-regression",
        "poisson-regression",
        "neural-network-regression",
        "bayesian-linear-regression",
    ],
)
def test_regression_learners_fit_the_diabetes_data(name: str) -> None:
    df = load_diabetes(as_frame=True, scaled=False).frame
    scored = run("score-model", trained_model=train(learner(name), df, "target"), dataset=df)[
        "scored_dataset"
    ]
    metrics = run("evaluate-model", scored_dataset=scored)["evaluation_results"].metrics
    assert metrics["r2"] > 0.2, metrics
    assert metrics["root_mean_squared_error"] >= metrics["mean_absolute_error"] > 0
    assert metrics["relative_squared_error"] == pytest.approx(1 - metrics["coefficient_of_determination"])
    with pytest.raises(ComponentInputError, match="needs numbers"):
        run("evaluate-model", scored_dataset=scored.assign(target="high"))


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_clustering_train_assign_and_evaluate(metric: str) -> None:
    X, truth = make_blobs(n_samples=300, centers=[[5, 5], [-5, 5], [0, -6]], random_state=1)
    df = with_marks(pd.DataFrame(X, columns=["x", "y"]).assign(truth=truth), label="truth")
    untrained = learner("k-means-clustering", number_of_centroids=3, metric=metric)
    out = run("train-clustering-model", untrained_model=untrained, dataset=df)
    assert out["trained_model"].feature_columns == ["x", "y"]  # the marked label is left out
    assert sorted(out["results_dataset"]["Assignments"].value_counts()) == [100, 100, 100]
    assigned = run("assign-data-to-clusters", trained_model=out["trained_model"], dataset=df)[
        "results_dataset"
    ]
    assert (assigned["Assignments"] == out["results_dataset"]["Assignments"]).all()
    report = run("evaluate-model", scored_dataset=assigned)["evaluation_results"]
    assert report.metrics["silhouette"] > 0.6 and report.metrics["clusters"] == 3
    assert list(report.tables["per_cluster"]["rows"]) == [100, 100, 100]


@pytest.mark.parametrize(
    "name",
    ["pca-based-anomaly-detection", "one-class-support-vector-machine", "isolation-forest-anomaly-detection"],
)
def test_anomaly_detectors_find_planted_outliers(name: str) -> None:
    rng = np.random.default_rng(0)
    normal = rng.normal(size=(400, 2)) @ np.array([[1.0, 1.0, 1.0, 0.5], [1.0, -1.0, 0.0, 2.0]])
    normal += rng.normal(scale=0.05, size=normal.shape)
    outliers = rng.uniform(-6, 6, size=(20, 4))
    df = pd.DataFrame(np.vstack([normal, outliers]), columns=list("abcd"))
    df["is_anomaly"] = [0] * 400 + [1] * 20
    model = run(
        "train-anomaly-detection-model", untrained_model=learner(name), dataset=df, label_column="is_anomaly"
    )["trained_model"]
    assert "is_anomaly" not in model.feature_columns
    scored = run("score-model", trained_model=model, dataset=df)["scored_dataset"]
    assert scored["Scored Probabilities"].between(0, 1).all()
    report = run("evaluate-model", scored_dataset=scored, label_column="is_anomaly")["evaluation_results"]
    metrics = report.metrics
    assert metrics["auc"] > 0.9 and metrics["recall"] > 0.7, metrics
    assert list(report.tables["confusion_matrix"]["actual"]) == ["0", "1"]


def one_line(exc: pytest.ExceptionInfo, *words: str) -> None:
    text = str(exc.value)
    assert "\n" not in text
    for word in words:
        assert word in text, text


def test_bad_inputs_to_train_model(cancer: pd.DataFrame) -> None:
    lr = learner("two-class-logistic-regression")
    with pytest.raises(ComponentInputError) as exc:
        train(lr, cancer, "diagnosis")
    one_line(exc, "label_column", "'diagnosis'", "mean radius")
    with pytest.raises(ComponentInputError) as exc:
        train(learner("linear-regression"), cancer, "size")
    one_line(exc, "label_column 'size'", "numeric label")
    with pytest.raises(ComponentInputError) as exc:
        train(lr, cancer.assign(target=1), "target")
    one_line(exc, "one class", "at least two")
    with pytest.raises(ComponentInputError) as exc:
        train(lr, cancer.assign(empty=np.nan), "target")
    one_line(exc, "'empty'", "no values")
    iris = load_iris(as_frame=True).frame
    with pytest.raises(ComponentInputError) as exc:
        train(lr, iris, "target")
    one_line(exc, "3 classes", "multiclass-logistic-regression")
    with pytest.raises(ComponentInputError) as exc:
        train(learner("k-means-clustering"), iris, "target")
    one_line(exc, "train-clustering-model")
    with pytest.raises(ComponentInputError) as exc:
        run(
            "train-clustering-model",
            untrained_model=learner("k-means-clustering", number_of_centroids=100),
            dataset=iris.head(60),
            feature_columns=None,
        )
    one_line(exc, "number_of_centroids must be at most the number of rows with values, 60; got 100")
    with pytest.raises(ComponentInputError) as exc:
        train(lr, cancer.assign(**{"mean radius": np.inf}), "target")
    one_line(exc, "two-class-logistic-regression could not be fitted on this data", "infinity")
    model = train(lr, cancer, "target")
    with pytest.raises(ComponentInputError) as exc:
        run("score-model", trained_model=model, dataset=cancer.drop(columns=["size"]))
    one_line(exc, "'size'")
    with pytest.raises(ComponentInputError) as exc:
        run("score-model", trained_model=model, dataset=cancer)
    one_line(exc, "missing values", "mean texture", "clean-missing-data")


def test_the_documented_example_runs(tmp_path, monkeypatch, capsys) -> None:
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "components-learners.md").read_text()
    example = doc.split("```python\n", 1)[1].split("```", 1)[0]
    rng = np.random.default_rng(0)
    age, hours = rng.integers(18, 80, 400), rng.integers(10, 60, 400)
    work = rng.choice(["private", "public", "self"], 400)
    income = np.where(
        age / 60 + hours / 50 + (work == "self") + rng.normal(scale=0.3, size=400) > 1.6, ">50K", "<=50K"
    )
    pd.DataFrame({"age": age, "hours": hours, "workclass": work, "income": income}).to_csv(
        tmp_path / "adult.csv", index=False
    )
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "components-learners.md", "exec"), {})
    assert float(capsys.readouterr().out.split()[0]) > 0.8
