import math

import optuna
import pytest

import trainyard as ty
from trainyard.errors import InvalidInputError
from trainyard.jobs.spec import make_job
from trainyard.sweep.policy import (
    BanditPolicy,
    MedianStoppingPolicy,
    TruncationSelectionPolicy,
    describe,
    parse_policy,
)
from trainyard.sweep.space import grid_points, grid_size, parse_space
from trainyard.sweep.spec import build_spec


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ty.uniform(2, 1), "below"),
        (lambda: ty.uniform(1, 1), "below"),
        (lambda: ty.choice(), "at least one"),
        (lambda: ty.choice([]), "at least one"),
        (lambda: ty.loguniform(0, 1), "min_value > 0"),
        (lambda: ty.qloguniform(-1, 1, 1), "min_value > 0"),
        (lambda: ty.quniform(0, 10, 0), "q must be > 0"),
        (lambda: ty.normal(0, 0), "sigma"),
        (lambda: ty.randint(0), "upper >= 1"),
        (lambda: ty.uniform(0, math.inf), "finite"),
        (lambda: ty.choice({"a": 1}), "numbers, strings"),
    ],
)
def test_inconsistent_parameters_are_refused(make, message):
    with pytest.raises(InvalidInputError, match=message):
        make()


def test_values_the_scripts_receive():
    assert ty.quniform(10, 200, 10).value(123.4) == 120
    assert ty.qloguniform(1, 1000, 5).value(12.4) == 10
    assert ty.normal(3, 2).value(0.5) == pytest.approx(3)
    assert ty.lognormal(0, 1).value(0.5) == pytest.approx(1)
    assert ty.qnormal(10, 5, 2).value(0.5) == 10
    assert ty.choice("a", "b").value("b") == "b"
    low, high = ty.normal(0, 1).value(1e-6), ty.normal(0, 1).value(1 - 1e-6)
    assert math.isfinite(low) and math.isfinite(high) and low < -4 < 4 < high


def test_grids():
    space = parse_space(
        {
            "a": ty.choice(1, 2),
            "b": ty.randint(3),
            "c": {"type": "quniform", "min_value": 0, "max_value": 1, "q": 0.25},
        }
    )
    assert grid_points(space)["c"] == [0, 0.25, 0.5, 0.75, 1.0]
    assert grid_size(space) == 2 * 3 * 5
    with pytest.raises(InvalidInputError, match="grid sampling needs discrete"):
        grid_points(parse_space({"lr": ty.loguniform(1e-3, 1)}))


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({}, "empty"),
        ({"x": {"type": "gaussian"}}, "type one of"),
        ({"x": {"type": "uniform", "min_value": 1}}, "missing 'max_value'"),
        ({"x": {"type": "uniform", "min_value": 3, "max_value": 1}}, "'x'.*below"),
    ],
)
def test_parse_space_errors(space, message):
    with pytest.raises(InvalidInputError, match=message):
        parse_space(space)


def trial_job(command="python train.py --x ${{search_space.x}}"):
    return make_job(code=".", command=command)


def spec(**overrides):
    fields = {
        "trial": trial_job(),
        "search_space": {"x": ty.uniform(0, 1)},
        "objective": {"primary_metric": "m"},
    }
    return build_spec(**{**fields, **overrides})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"search_space": {}}, "empty"),
        ({"sampling": "grid"}, "grid sampling needs discrete"),
        ({"sampling": "evolutionary"}, "sampling"),
        ({"limits": {"max_concurrent_trials": 0}}, "max_concurrent_trials"),
        ({"objective": {"primary_metric": "", "goal": "maximize"}}, "primary_metric"),
        ({"objective": {"primary_metric": "m", "goal": "up"}}, "goal"),
        ({"trial": trial_job("python train.py --y ${{search_space.y}}")}, "no such parameter"),
        ({"search_space": {"x": ty.uniform(0, 1), "z": ty.choice(1)}}, "not used in the command"),
        ({"early_termination": {"type": "bandit"}}, "exactly one of slack"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_sweeps_fail_before_anything_runs(overrides, message):
    with pytest.raises(InvalidInputError, match=message):
        spec(**overrides)


def test_values_are_appended_when_the_command_names_none():
    s = spec(trial=trial_job("python train.py"), search_space={"lr": ty.choice(0.1), "depth": ty.choice(3)})
    assert s.trial_argv({"lr": 0.1, "depth": 3}) == ["python", "train.py", "--lr", "0.1", "--depth", "3"]
    assert spec().trial_argv({"x": 0.5}) == ["python", "train.py", "--x", "0.5"]


def test_policies_validate_and_describe():
    with pytest.raises(InvalidInputError):
        BanditPolicy(slack_factor=0.1, slack_amount=0.2)
    with pytest.raises(InvalidInputError):
        TruncationSelectionPolicy(truncation_percentage=100)
    with pytest.raises(InvalidInputError):
        MedianStoppingPolicy(evaluation_interval=0)
    assert describe(BanditPolicy(slack_factor=0.1, delay_evaluation=5)) == (
        "BanditPolicy(slack_factor=0.1, evaluation_interval=1, delay_evaluation=5)"
    )
    assert parse_policy({"type": "median_stopping", "delay_evaluation": 2}) == MedianStoppingPolicy(
        delay_evaluation=2
    )


def study_with(direction, pruner, finished):
    study = optuna.create_study(direction=direction, pruner=pruner)
    dist = {"x": optuna.distributions.FloatDistribution(0, 1)}
    for curve in finished:
        study.add_trial(
            optuna.trial.create_trial(
                params={"x": 0.5},
                distributions=dist,
                value=curve[-1],
                intermediate_values=dict(enumerate(curve)),
            )
        )
    return study, dist


@pytest.mark.parametrize(
    ("policy", "direction", "others", "mine", "pruned"),
    [
        (BanditPolicy(slack_factor=0.1), "maximize", [[0.5, 0.9]], [0.5, 0.7], True),
        (BanditPolicy(slack_factor=0.5), "maximize", [[0.5, 0.9]], [0.5, 0.7], False),
        (BanditPolicy(slack_amount=0.1), "minimize", [[1.0, 0.5]], [1.0, 0.7], True),
        (BanditPolicy(slack_factor=0.1, delay_evaluation=5), "maximize", [[0.5, 0.9]], [0.5, 0.1], False),
        (MedianStoppingPolicy(), "maximize", [[0.8, 0.9], [0.7, 0.8]], [0.1, 0.2], True),
        (MedianStoppingPolicy(), "maximize", [[0.8, 0.9], [0.7, 0.8]], [0.9, 0.95], False),
        (
            TruncationSelectionPolicy(truncation_percentage=50),
            "minimize",
            [[1, 1], [2, 2], [3, 3]],
            [9, 9],
            True,
        ),
    ],
)
def test_policies_decide_like_hyperdrive(policy, direction, others, mine, pruned):
    study, dist = study_with(direction, policy.pruner(), others)
    trial = study.ask(dist)
    for step, value in enumerate(mine):
        trial.report(value, step)
    assert bool(trial.should_prune()) is pruned
