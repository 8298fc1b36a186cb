"""Initialize Model components: every learner builds its estimator; parameters are validated."""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from trainyard.components.base import ComponentInputError, get_component
from trainyard.components.learners import LEARNERS, UntrainedModel
from trainyard.components.pca_anomaly import PcaAnomalyDetector


@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_every_learner_builds_an_estimator_from_its_defaults(name: str) -> None:
    untrained = get_component(name)()["untrained_model"]
    assert isinstance(untrained, UntrainedModel)
    assert untrained.learner == name and untrained.task == LEARNERS[name].task
    estimator = untrained.build()
    assert hasattr(estimator, "fit")
    assert set(untrained.params) == {p.name for p in LEARNERS[name].params}


def test_studio_parameters_reach_the_estimator() -> None:
    untrained = get_component("two-class-boosted-decision-tree")(
        maximum_number_of_leaves_per_tree=7, number_of_trees_constructed=13, learning_rate=0.05
    )["untrained_model"]
    est = untrained.build()
    assert (est.num_leaves, est.n_estimators, est.learning_rate) == (7, 13, 0.05)
    kmeans = get_component("k-means-clustering")(number_of_centroids=5, metric="cosine")[
        "untrained_model"
    ].build()
    assert kmeans.named_steps["learner"].n_clusters == 5


@pytest.mark.parametrize(
    ("name", "params", "named"),
    [
        ("k-means-clustering", {"number_of_centroids": 0}, "number_of_centroids"),
        ("two-class-boosted-decision-tree", {"learning_rate": 1.5}, "learning_rate"),
        ("two-class-decision-forest", {"resampling_method": "boosting"}, "resampling_method"),
        ("two-class-neural-network", {"number_of_hidden_nodes": -3}, "number_of_hidden_nodes"),
        ("pca-based-anomaly-detection", {"fraction_of_anomalies": 0.9}, "fraction_of_anomalies"),
    ],
)
def test_out_of_range_parameters_are_one_line_errors(name: str, params: dict, named: str) -> None:
    with pytest.raises(ComponentInputError, match=named) as info:
        get_component(name)(**params)
    assert "\n" not in str(info.value)


def test_untrained_model_round_trips_and_copies_with_checked_params(tmp_path) -> None:
    untrained = get_component("multiclass-decision-forest")(number_of_decision_trees=3)["untrained_model"]
    untrained.save(tmp_path / "m")
    again = UntrainedModel.load(tmp_path / "m")
    assert again == untrained and again.build().n_estimators == 3
    assert untrained.with_params(number_of_decision_trees=5).build().n_estimators == 5
    with pytest.raises(ComponentInputError, match="number_of_decision_trees"):
        untrained.with_params(number_of_decision_trees=0)
    with pytest.raises(ComponentInputError, match="no parameter 'depth'"):
        untrained.with_params(depth=3)
    with pytest.raises(ComponentInputError, match="untrained model"):
        UntrainedModel.load(tmp_path / "nothing")


@parametrize_with_checks([PcaAnomalyDetector()])
def test_pca_anomaly_detector_is_a_scikit_learn_estimator(estimator, check) -> None:
    check(estimator)
