"""Wide, categorical-heavy tables: the featurization is fitted once per fold and reused by every
trial, high-cardinality categoricals stay a bounded number of features, skewed labels are tried
on a log scale, linear learners do not extrapolate, and the explanation fits the time it gets."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from trainyard.automl import evaluate as ev
from trainyard.automl import final
from trainyard.automl.config import make_settings
from trainyard.automl.data import make_folds
from trainyard.automl.featurize import RangeScaler, infer_plan


def wide(n: int = 240, seed: int = 0) -> pd.DataFrame:
    """30 categorical columns (one with 120 levels), 10 numeric, a skewed positive price."""
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {f"x{i}": rng.normal(size=n) for i in range(10)}
    for j in range(30):
        k = 120 if j == 0 else 3 + j % 8
        data[f"c{j}"] = [f"v{v}" for v in rng.integers(0, k, n)]
    frame = pd.DataFrame(data)
    effect = frame["c1"].map({f"v{i}": 0.3 * i for i in range(12)}).to_numpy()
    frame["price"] = np.exp(11 + 0.5 * frame["x0"] + effect + rng.normal(0, 0.1, n))
    return frame


def context(frame: pd.DataFrame) -> ev.Context:
    s = make_settings(task="regression", label_column_name="price", n_cross_validations=3)
    X, y = frame.drop(columns="price"), frame["price"].to_numpy(float)
    return ev.Context("regression", X, y, infer_plan(X, "auto"), make_folds(s, len(X), len(X), y), 0)


def test_the_featurizer_is_fitted_once_per_fold_and_trials_reuse_it(monkeypatch):
    ctx = context(wide())
    built = []
    real = ev.build_featurizer
    monkeypatch.setattr(ev, "build_featurizer", lambda *a: built.append(1) or real(*a))
    ev.featurize_folds(ctx)
    assert len(built) == len(ctx.folds) + 1 == 4  # once per fold, once on every row (the refit)
    for learner, params in [("ElasticNet", {"alpha": 0.01, "l1_ratio": 0.5}), ("KNN", {})]:
        params = params or {"n_neighbors": 5, "distance_weights": 0.0}
        result = ev.evaluate_in(ctx, learner, params, 10_000)
        assert math.isfinite(result["metrics"]["r2_score"])
        assert len(result["predictions"]) == len(ctx.y)
    assert len(built) == 4  # the trials fitted no featurizer


def test_high_cardinality_columns_stay_few_features_and_unseen_levels_predict():
    ctx = context(wide())
    ev.featurize_folds(ctx)
    width = ctx.features[0].train.shape[1]
    assert width < 200  # 120 levels: target + count encoded, not one-hot
    ev._context = ctx
    try:
        pipeline = ev.fit_final("LightGBM", {"n_estimators": 20, "num_leaves": 8, "log_max_bin": 6})
    finally:
        ev._context = None
    unseen = wide(5, seed=1).drop(columns="price").assign(c0="never-seen", c1=None)
    pred = pipeline.predict(unseen)
    assert pred.shape == (5,) and np.isfinite(pred).all()


def test_large_featurized_arrays_reach_the_workers_as_mapped_files(tmp_path, monkeypatch):
    import pickle

    monkeypatch.setattr(ev, "SHARE_BYTES", 1000)  # the test's arrays are small
    ctx = context(wide())
    ev.featurize_folds(ctx)
    before = ev.evaluate_in(ctx, "ElasticNet", {"alpha": 0.01, "l1_ratio": 0.5}, 10_000)
    path = ev.share(ctx, tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.npy")) == sorted(
        [f"fold{i}-{part}-0.npy" for i in range(3) for part in ("train", "valid")] + ["all-train-0.npy"]
    )
    shipped = pickle.loads(path.read_bytes())
    assert len(shipped.X) == 0 and isinstance(shipped.features[0].train, ev.Mapped)  # not the rows
    assert path.stat().st_size < ctx.features[0].train.nbytes
    assert isinstance(ctx.features[0].train, np.memmap)  # the driver maps them too
    ev.load_context(str(path))
    try:
        assert isinstance(ev._context.features[0].train, np.memmap)
        after = ev.evaluate("ElasticNet", {"alpha": 0.01, "l1_ratio": 0.5}, 10_000)
        model = ev.fit_final("LightGBM", {"n_estimators": 20, "num_leaves": 8, "log_max_bin": 6})
    finally:
        ev._context = None
    assert after["metrics"] == before["metrics"]
    assert np.isfinite(model.predict(wide(5, seed=1).drop(columns="price"))).all()
    csr = sparse.random(400, 50, density=0.5, format="csr", dtype=np.float32, random_state=0)
    mapped = ev._mapped(csr, tmp_path / "sparse")
    assert isinstance(mapped, ev.Mapped) and (mapped.open() != csr).nnz == 0


def test_a_skewed_positive_label_is_tried_on_a_log_scale():
    ctx = context(wide())
    ev.featurize_folds(ctx)
    said = ev.choose_target(ctx, "r2_score", 10_000)
    assert said.startswith("label skewed") and "log scale tried" in said
    assert ctx.log_target  # the label is exp(linear): the log scale validates better
    symmetric = context(wide().assign(price=lambda f: np.log(f["price"])))
    ev.featurize_folds(symmetric)
    assert ev.choose_target(symmetric, "r2_score", 10_000) == "" and not symmetric.log_target


def test_regressors_stay_within_the_label_range_and_linear_inputs_are_clipped():
    from sklearn.linear_model import LinearRegression

    X = np.arange(20, dtype=float)[:, None]
    y = 2 * X[:, 0] + 1
    for log in (False, True):
        model = ev.BoundedRegressor(LinearRegression(), log).fit(X, y)
        assert model.predict(np.array([[1000.0], [-1000.0]])) == pytest.approx([y.max(), y.min()])
    scaler = RangeScaler().fit(X)
    assert scaler.transform(np.array([[1000.0]])) == pytest.approx(scaler.transform(np.array([[19.0]])))
    sparse_out = RangeScaler().fit(sparse.csr_matrix(X)).transform(sparse.csr_matrix([[1000.0]]))
    assert sparse.issparse(sparse_out) and sparse_out.toarray()[0, 0] == pytest.approx(19 / X.std())


def test_on_the_log_scale_predictions_are_the_label_mean_not_its_geometric_mean():
    from sklearn.dummy import DummyRegressor

    rng = np.random.default_rng(0)
    y = np.exp(rng.normal(10, 0.8, 3000))  # lognormal: its mean is exp(0.32) times its geometric mean
    X = np.zeros((len(y), 1))
    model = ev.BoundedRegressor(DummyRegressor(), log=True).fit(X, y)
    assert model.predict(X[:1])[0] == pytest.approx(y.mean(), rel=0.02)
    assert model.smearing_ == pytest.approx(0.32, abs=0.05)


def test_the_explanation_is_cut_to_the_time_it_gets():
    ctx = context(wide())
    ev.featurize_folds(ctx)
    ev._context = ctx
    try:
        pipeline = ev.fit_final("ElasticNet", {"alpha": 0.001, "l1_ratio": 0.5})
    finally:
        ev._context = None
    args = (ctx.X, ctx.y, "regression", "r2_score", 0, 0)
    whole, cut = final.importance(pipeline, *args)
    assert cut == "" and set(whole["feature"]) == set(ctx.X.columns)
    assert whole["feature"][0] in ("x0", "c1")  # the two columns the price depends on
    none_left, cut = final.importance(pipeline, *args, seconds=0.0)
    assert "repeat(s) instead of 3" in cut and "columns (the rest not measured)" in cut
    assert len(none_left["feature"]) < len(ctx.X.columns)


def test_fewer_folds_when_the_table_is_wide_for_the_budget():
    from trainyard.automl.data import auto_folds

    assert auto_folds(150, 5, 24) == 5  # iris: 5 folds at any budget
    assert auto_folds(1095, 79, 60) == 5 and auto_folds(1095, 79, 30) == 3  # house prices
    assert auto_folds(3750, 200, 30) == 1 and auto_folds(3750, 200, 600) == 5
    assert auto_folds(20_000, 10, 3600) == 1  # many rows: a holdout, as before
    s = make_settings(task="regression", label_column_name="y", experiment_timeout_minutes=0.5)
    y = np.arange(3750.0)
    assert len(make_folds(s, 3750, 3750, y, 200)) == 1
    assert len(make_folds(s.model_copy(update={"n_cross_validations": 5}), 3750, 3750, y, 200)) == 5


def test_preparing_the_data_is_cut_to_the_time_left():
    import time

    from trainyard.automl import driver
    from trainyard.automl.featurize import guardrails

    frame = wide(12_000)
    s = make_settings(task="regression", label_column_name="price", experiment_timeout_minutes=1)
    X, y = frame.drop(columns="price"), frame["price"].to_numpy(float)
    plan = infer_plan(X, "auto")
    rows, cut = driver.cut_rows(s, X, y, plan, len(X), time.time() + 3600)  # time enough: all rows
    assert cut == "" and len(rows) == len(X)
    rows, cut = driver.cut_rows(s, X, y, plan, len(X), time.time())  # none left: the smallest sample
    assert len(rows) == driver.CUT_MIN_ROWS and len(set(rows)) == len(rows) and rows.max() < len(X)
    assert cut.startswith(f"training rows: a sample of {driver.CUT_MIN_ROWS} of 12000")
    # validation_data's rows (after the training rows) are all kept
    rows, _ = driver.cut_rows(s, X, y, plan, 11_000, time.time())
    assert len(rows) == driver.CUT_MIN_ROWS + 1000 and (rows[-1000:] == np.arange(11_000, 12_000)).all()
    labels = np.zeros(12_000, dtype=int)
    labels[:3] = [1, 2, 2]  # rare classes: all of their rows are kept in a sample
    c = make_settings(task="classification", label_column_name="price")
    rows, _ = driver.cut_rows(c, X, labels, plan, len(X), time.time())
    assert len(rows) == driver.CUT_MIN_ROWS and {0, 1, 2} <= set(rows)
    small = wide()
    features = small.drop(columns="price")
    rails = guardrails(features, small["price"], infer_plan(features, "auto"), "regression", 0)
    leak = next(r for r in rails if r["guardrail"] == "leakage-suspicious columns")
    assert leak["detail"].endswith("(0 of 40 columns checked in the time left)")


def test_automatic_folds_follow_the_time_left_and_without_time_the_log_scale_is_untried():
    s = make_settings(task="regression", label_column_name="y", experiment_timeout_minutes=1)
    y = np.arange(1095.0)
    assert len(make_folds(s, 1095, 1095, y, 79)) == 5  # the whole minute
    assert len(make_folds(s, 1095, 1095, y, 79, seconds=30)) == 3  # a start that took half of it
    assert len(make_folds(s, 1095, 1095, y, 79, seconds=-1)) == 1  # none left: a holdout
    ctx = context(wide())
    ev.featurize_folds(ctx)
    said = ev.choose_target(ctx, "r2_score", 10_000, time_to_try=False)
    assert "log scale taken, not tried" in said and ctx.log_target and not ctx.probed


def test_with_a_holdout_the_label_scale_probe_is_the_first_trial():
    from trainyard.automl.portfolio import portfolio

    frame = wide()
    s = make_settings(task="regression", label_column_name="price", validation_size=0.2)
    X, y = frame.drop(columns="price"), frame["price"].to_numpy(float)
    ctx = ev.Context("regression", X, y, infer_plan(X, "auto"), make_folds(s, len(X), len(X), y), 0)
    ev.featurize_folds(ctx)
    ev.choose_target(ctx, "r2_score", 10_000)
    spec = portfolio("regression")["ElasticNet"]
    first = spec.params(spec.init_unit())  # the search's first proposal
    reused = ctx.probed[ev.probe_key(ctx, "ElasticNet", first, 10_000, 1)]
    again = ev.evaluate_in(ctx, "ElasticNet", first, 10_000)["metrics"]
    assert reused["metrics"] == pytest.approx(again, rel=1e-9)  # alpha 1e-2 vs 1e-2 + 4e-18
