"""Train Recommender and Score Recommender on generated low-rank ratings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trainyard.components.base import ComponentInputError, get_component
from trainyard.components.model import TrainedModel


def run(name: str, **kwargs):
    return get_component(name)(**kwargs)


@pytest.fixture(scope="module")
def ratings() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ratings from 3 hidden traits per user and item (30% observed), and the items' traits as features."""
    rng = np.random.default_rng(0)
    users, items = rng.normal(size=(150, 3)), rng.normal(size=(60, 3))
    u, i = np.nonzero(rng.random((150, 60)) < 0.3)
    df = pd.DataFrame(
        {"user": [f"u{x}" for x in u], "item": i, "rating": 3 + (users[u] * items[i]).sum(axis=1)}
    )
    df["rating"] += rng.normal(scale=0.1, size=len(df))
    features = pd.DataFrame({"item": range(60), "a": items[:, 0], "b": items[:, 1], "c": items[:, 2]})
    return df, features


def rmse(scored: pd.DataFrame) -> float:
    return float(np.sqrt(np.mean(np.square(scored["Scored Labels"] - scored["rating"]))))


def test_rating_prediction_beats_the_mean_and_survives_save(ratings, tmp_path) -> None:
    df, _ = ratings
    test = df.sample(frac=0.2, random_state=1)
    model = run("train-recommender", training_dataset=df.drop(test.index), number_of_traits=5)[
        "trained_model"
    ]
    scored = run("score-recommender", trained_model=model, dataset_to_score=test)["scored_dataset"]
    assert rmse(scored) < 0.4 * test["rating"].std()
    metrics = run("evaluate-model", scored_dataset=scored)["evaluation_results"].metrics
    assert metrics["r2"] > 0.8
    model.save(tmp_path / "rec")
    again = TrainedModel.load(tmp_path / "rec")
    assert np.allclose(again.predict(test), scored["Scored Labels"])


def test_item_recommendation_skips_rated_items(ratings) -> None:
    df, _ = ratings
    model = run("train-recommender", training_dataset=df)["trained_model"]
    top = run(
        "score-recommender",
        trained_model=model,
        dataset_to_score=pd.DataFrame({"user": ["u0", "u1", "u0"]}),
        training_data=df,
        recommender_prediction_kind="item recommendation",
        maximum_number_of_items_to_recommend_to_a_user=3,
        whether_to_return_the_predicted_ratings_of_the_items_along_with_the_labels=True,
    )["scored_dataset"]
    assert list(top.columns) == ["User", "Item 1", "Rating 1", "Item 2", "Rating 2", "Item 3", "Rating 3"]
    assert list(top["User"]) == ["u0", "u1"]
    rated = set(df.loc[df["user"] == "u0", "item"])
    assert not rated & set(top.iloc[0][["Item 1", "Item 2", "Item 3"]])
    assert top.iloc[0]["Rating 1"] >= top.iloc[0]["Rating 2"] >= top.iloc[0]["Rating 3"]


def test_item_features_score_items_never_rated(ratings) -> None:
    df, features = ratings
    cold = df[df["item"] >= 50]
    model = run("train-recommender", training_dataset=df[df["item"] < 50], item_features=features)[
        "trained_model"
    ]
    with_features = run(
        "score-recommender", trained_model=model, dataset_to_score=cold, item_features=features
    )
    without = run("score-recommender", trained_model=model, dataset_to_score=cold)
    assert rmse(with_features["scored_dataset"]) < 0.8 * rmse(without["scored_dataset"])


def test_bad_recommender_inputs(ratings) -> None:
    df, _ = ratings
    with pytest.raises(ComponentInputError, match="must differ"):
        run("train-recommender", training_dataset=df, rating_column="user")
    with pytest.raises(ComponentInputError, match="no column 'stars'"):
        run("train-recommender", training_dataset=df, rating_column="stars")
    with pytest.raises(ComponentInputError, match="number_of_traits"):
        run("train-recommender", training_dataset=df, number_of_traits=0)
