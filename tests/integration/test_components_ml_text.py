"""Latent Dirichlet Allocation and the Vowpal Wabbit learners on small data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes

from trainyard.components.base import ComponentInputError, get_component
from trainyard.components.model import TrainedModel

SPORT = ["football", "goal", "match", "referee", "striker", "league", "stadium", "penalty"]
COOKING = ["recipe", "oven", "flour", "butter", "sugar", "bake", "dough", "kitchen"]


def run(name: str, **kwargs):
    return get_component(name)(**kwargs)


@pytest.fixture(scope="module")
def documents() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [
        (" ".join(rng.choice(words, size=12)), topic)
        for topic, words in enumerate((SPORT, COOKING))
        for _ in range(40)
    ]
    return pd.DataFrame(rows, columns=["text", "truth"])


def test_lda_separates_two_vocabularies(documents: pd.DataFrame, tmp_path) -> None:
    out = run(
        "latent-dirichlet-allocation", dataset=documents, text_columns=["text"], number_of_topics_to_model=2
    )
    mixture = out["transformed_dataset"][["Topic 1", "Topic 2"]]
    assert np.allclose(mixture.sum(axis=1), 1.0)
    main = mixture.to_numpy().argmax(axis=1)
    agreement = (main == documents["truth"]).mean()
    assert max(agreement, 1 - agreement) > 0.95
    words = out["feature_topic_matrix"].set_index("Feature")
    sport_topic = words.loc["football"].idxmax()
    assert words.loc["goal", sport_topic] > words.loc["goal"].drop(sport_topic).max()
    model = out["lda_transformation"]
    new = pd.DataFrame({"text": ["penalty striker goal", "butter dough oven"]})
    scored = run("score-model", trained_model=model, dataset=new)["scored_dataset"]
    assert scored["Scored Labels"].nunique() == 2 and f"{sport_topic}" in scored.columns
    model.save(tmp_path / "lda")
    assert (TrainedModel.load(tmp_path / "lda").predict(new) == scored["Scored Labels"]).all()


def test_lda_bad_inputs(documents: pd.DataFrame) -> None:
    with pytest.raises(ComponentInputError, match="text_columns: no column 'body'"):
        run("latent-dirichlet-allocation", dataset=documents, text_columns=["body"])
    with pytest.raises(ComponentInputError, match="number_of_topics_to_model"):
        run(
            "latent-dirichlet-allocation",
            dataset=documents,
            text_columns=["text"],
            number_of_topics_to_model=0,
        )
    with pytest.raises(ComponentInputError, match="no words"):
        run("latent-dirichlet-allocation", dataset=documents.assign(text="the and of"), text_columns=["text"])


def test_vowpal_wabbit_two_class_and_regression(tmp_path) -> None:
    pytest.importorskip("vowpalwabbit")
    cancer = load_breast_cancer(as_frame=True).frame
    untrained = run("vowpal-wabbit-two-class", number_of_passes=5)["untrained_model"]
    model = run("train-model", untrained_model=untrained, dataset=cancer, label_column="target")[
        "trained_model"
    ]
    scored = run("score-model", trained_model=model, dataset=cancer)["scored_dataset"]
    assert run("evaluate-model", scored_dataset=scored)["evaluation_results"].metrics["auc"] > 0.9
    model.save(tmp_path / "vw")
    again = TrainedModel.load(tmp_path / "vw")
    assert np.allclose(again.predict_proba(cancer)[:, 1], scored["Scored Probabilities"])

    diabetes = load_diabetes(as_frame=True).frame
    regression = run("vowpal-wabbit-regression", number_of_passes=10, learning_rate=10.0)["untrained_model"]
    fitted = run("train-model", untrained_model=regression, dataset=diabetes, label_column="target")[
        "trained_model"
    ]
    scored = run("score-model", trained_model=fitted, dataset=diabetes)["scored_dataset"]
    assert run("evaluate-model", scored_dataset=scored)["evaluation_results"].metrics["r2"] > 0.2
