"""The cost-aware search: cheap starts, local moves, more trials for the learner that wins."""

from __future__ import annotations

import math

import numpy as np
import pytest

from trainyard.automl.portfolio import Dim, Learner, choose, portfolio
from trainyard.automl.search import INITIAL_SAMPLE, LocalSearch, Scheduler


def test_every_learner_starts_at_its_cheapest_configuration():
    learners = portfolio("classification")
    scheduler = Scheduler(list(learners.values()), rows=500)
    first = [scheduler.next() for _ in learners]
    assert [p.learner for p in first] == list(learners)
    by_name = {p.learner: p.params for p in first}
    assert by_name["LightGBM"]["n_estimators"] == 4 and by_name["LightGBM"]["num_leaves"] == 4
    assert by_name["RandomForest"]["n_estimators"] == 4
    assert by_name["XGBoostClassifier"]["max_leaves"] == 4
    assert all(p.sample_size == 500 for p in first)


def test_big_data_starts_on_a_sample_that_grows_when_the_search_converges():
    lgbm = portfolio("regression")["LightGBM"]
    scheduler = Scheduler([lgbm], rows=50_000)
    proposal = scheduler.next()
    assert proposal.sample_size == INITIAL_SAMPLE
    scheduler.states["LightGBM"].search.step = 0.001  # converged on the sample
    scheduler.tell(proposal, 1.0, 0.1)
    assert scheduler.next().sample_size == 2 * INITIAL_SAMPLE


def test_local_search_walks_downhill_on_a_bowl():
    learner = Learner("bowl", {"x": Dim(0, 1, 0.9), "y": Dim(0, 1, 0.1)}, lambda p, t, s: None)
    search = LocalSearch(learner, np.random.default_rng(0), sample_size=10)
    for _ in range(300):
        proposal = search.propose()
        search.tell(proposal, (proposal.params["x"] - 0.3) ** 2 + (proposal.params["y"] - 0.6) ** 2)
    assert search.best_loss < 1e-3


def test_the_winning_learner_gets_most_trials():
    fast = Learner("good", {"x": Dim(0, 1, 0.5)}, lambda p, t, s: None)
    slow = Learner("bad", {"x": Dim(0, 1, 0.5)}, lambda p, t, s: None)
    scheduler = Scheduler([fast, slow], rows=100)
    picks = []
    for _ in range(200):
        proposal = scheduler.next()
        picks.append(proposal.learner)
        value = proposal.params["x"] ** 2 if proposal.learner == "good" else 1 + proposal.params["x"] ** 2
        scheduler.tell(proposal, value, 1.0 if proposal.learner == "good" else 2.0)
    assert picks.count("good") > 2 * picks.count("bad")
    assert picks.count("bad") >= 1 and scheduler.best_loss < 0.01
    assert math.isfinite(scheduler.states["bad"].best_loss)


def test_excluded_learners_are_not_proposed():
    scheduler = Scheduler(list(portfolio("regression").values()), rows=100)
    assert scheduler.next({"ElasticNet"}).learner == "LightGBM"
    assert scheduler.next(set(portfolio("regression"))) is None


def test_allowed_and_blocked_models():
    assert choose("regression", ["LightGBM", "ElasticNet"], None) == ["ElasticNet", "LightGBM"]
    assert "KNN" not in choose("classification", None, ["KNN"])
    import pytest

    from trainyard.errors import TrainyardError

    with pytest.raises(TrainyardError, match="'XGBoostRegressor' is not a classification learner"):
        choose("classification", ["XGBoostRegressor"], None)
    with pytest.raises(TrainyardError, match="leave no learner"):
        choose("regression", ["KNN"], ["KNN"])


def test_lightgbm_tries_its_library_defaults_right_after_its_cheapest_point():
    scheduler = Scheduler([portfolio("regression")["LightGBM"]], rows=500)
    cheapest = scheduler.next()
    scheduler.tell(cheapest, 1.0, 0.1)
    defaults = scheduler.next()
    assert defaults.params["n_estimators"] == 100 and defaults.params["num_leaves"] == 31
    assert defaults.params["learning_rate"] == pytest.approx(cheapest.params["learning_rate"]) == 0.1
    scheduler.tell(defaults, 0.5, 0.3)  # better: the local search goes on from the defaults
    assert scheduler.states["LightGBM"].search.best_loss == 0.5
