"""Column-type inference, the fitted featurization, and the data guardrails."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trainyard.automl.featurize import build_featurizer, guardrails, infer_plan
from trainyard.errors import TrainyardError


def frame(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    words = ["good service fast delivery", "slow and rude staff here", "great value would buy again"]
    return pd.DataFrame(
        {
            "row_id": np.arange(n),
            "customer": [f"cust-{i:04d}" for i in range(n)],
            "age": rng.normal(40, 10, n).round(1),
            "plan": rng.choice(["basic", "pro", "team"], n),
            "city": [f"city{i % 25}" for i in range(n)],
            "active": rng.choice([True, False], n),
            "signup": pd.date_range("2024-01-01", periods=n, freq="D").astype(str),
            "review": [words[i % 3] + f" item {i}" for i in range(n)],
            "constant": 1,
        }
    )


def test_purposes_are_inferred_and_drops_have_reasons():
    plan = infer_plan(frame(), "auto")
    assert plan.purposes["age"] == "numeric"
    assert plan.purposes["plan"] == "categorical" and plan.purposes["city"] == "categorical"
    assert plan.purposes["active"] == "boolean"
    assert plan.purposes["signup"] == "datetime"
    assert plan.purposes["review"] == "text"
    assert plan.dropped["row_id"].startswith("ID-like") and plan.dropped["customer"].startswith("ID-like")
    assert plan.dropped["constant"] == "it holds a single value"


def test_overrides_and_off():
    plan = infer_plan(frame(), {"column_purposes": {"age": "categorical"}, "drop_columns": ["review"]})
    assert plan.purposes["age"] == "categorical" and plan.purposes["review"] == "ignore"
    with pytest.raises(TrainyardError, match="featurization='off' needs numeric columns"):
        infer_plan(frame(), "off")
    with pytest.raises(TrainyardError, match="column purpose 'colour'"):
        infer_plan(frame(), {"column_purposes": {"age": "colour"}})


def test_featurizer_turns_raw_rows_with_missing_and_unseen_values_into_numbers():
    data = frame()
    data.loc[3, "age"] = np.nan
    y = (data["age"].fillna(40) > 40).astype(int)
    plan = infer_plan(data, "auto")
    features = build_featurizer(plan, data, "classification").fit(data, y)
    unseen = data.head(2).assign(plan=["enterprise", None], city=["nowhere", "city1"])
    out = features.transform(unseen)
    dense = out.toarray() if hasattr(out, "toarray") else out
    assert dense.shape[0] == 2 and np.isfinite(dense).all()
    names = list(features.get_feature_names_out())
    assert any(n.startswith("onehot__") for n in names)  # plan: 3 levels
    assert any(n.startswith("target__") for n in names) and any(
        n.startswith("count__") for n in names
    )  # city: 25
    assert any(n.startswith("tfidf_review__") for n in names)


def test_guardrails_report_missing_imbalance_cardinality_and_leakage():
    data = frame()
    data.loc[:4, "age"] = np.nan
    y = pd.Series(["yes"] * 55 + ["no"] * 5)
    data["leak"] = (y == "yes").astype(float) + np.linspace(0, 0.01, len(y))
    rails = {r["guardrail"]: r for r in guardrails(data, y, infer_plan(data, "auto"), "classification")}
    assert rails["missing feature values imputation"]["status"] == "done"
    assert "age: 5 imputed" in rails["missing feature values imputation"]["detail"]
    assert rails["class balancing detection"]["status"] == "alerted"
    assert "city (25 levels)" in rails["high cardinality feature detection"]["detail"]
    assert rails["leakage-suspicious columns"]["status"] == "alerted"
    assert "leak" in rails["leakage-suspicious columns"]["detail"]
    assert rails["column dropped"]["status"] == "done"
