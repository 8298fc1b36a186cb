"""Which configuration a trial gets: a function of the seed and its number, so that neither a
restarted driver (a fresh study) nor a resumed sweep (numbers carrying on) repeats one."""

from __future__ import annotations

import optuna
import pytest

import trainyard as ty
from tests.unit.test_sweep_space import spec, trial_job
from trainyard.sweep.sampling import Sampling

SPACES = {
    "random": {"x": ty.uniform(0, 4)},
    "bayesian": {"x": ty.uniform(0, 4)},
    "sobol": {"x": ty.uniform(0, 4), "lr": ty.loguniform(1e-4, 1e-1), "depth": ty.choice(2, 4, 8)},
}
GRID = {"x": ty.choice(1, 2, 3), "y": ty.quniform(0, 1, 0.5)}


def ask(sampling: Sampling, study: optuna.Study, number: int) -> dict:
    trial = sampling.ask(study, number, {n: p.distribution() for n, p in sampling.space.items()})
    study.tell(trial, float(number))
    return trial.params


def seeded(sampling: str, seed: int) -> Sampling:
    return Sampling(
        spec(trial=trial_job("python train.py"), search_space=SPACES[sampling], sampling=sampling, seed=seed)
    )


def study() -> optuna.Study:
    return optuna.create_study(direction="maximize")


@pytest.mark.parametrize("sampling", ["random", "bayesian", "sobol"])
def test_trial_n_is_drawn_from_the_seed_and_n_not_from_how_many_came_before(sampling):
    sweep = seeded(sampling, 11)
    first = study()
    run = [ask(sweep, first, n) for n in range(4)]
    assert len({tuple(p.values()) for p in run}) == 4
    # a restarted driver's fresh study, and a resumed sweep whose numbers carry on after 0..3
    assert ask(sweep, study(), 2) == run[2]
    assert all(ask(sweep, study(), n) not in run for n in range(4, 8))
    assert ask(seeded(sampling, 12), study(), 0) != run[0]


def test_a_grid_skips_the_points_any_known_trial_ran_whatever_its_outcome():
    sweep = Sampling(spec(trial=trial_job("python train.py"), search_space=GRID, sampling="grid", seed=3))
    dists = {n: p.distribution() for n, p in sweep.space.items()}
    known = study()
    for params, state in (
        ({"x": 1, "y": 0.0}, "COMPLETE"),
        ({"x": 2, "y": 0.5}, "FAIL"),
        ({"x": 3, "y": 1.0}, "PRUNED"),
    ):
        value = 1.0 if state == "COMPLETE" else None
        known.add_trial(
            optuna.trial.create_trial(
                params=params, distributions=dists, value=value, state=getattr(optuna.trial.TrialState, state)
            )
        )
    assert sweep.grid_left(known) == 9 - 3
    rest = [ask(sweep, known, n) for n in range(3, 9)]
    assert sorted((p["x"], p["y"]) for p in rest) == sorted(
        (x, y) for x in (1, 2, 3) for y in (0.0, 0.5, 1.0) if (x, y) not in {(1, 0.0), (2, 0.5), (3, 1.0)}
    )
    assert sweep.grid_left(known) == 0


def test_a_quasi_random_point_lands_inside_every_dimension():
    assert [ty.choice(2, 4, 8).from_unit(u) for u in (0.0, 0.5, 0.999)] == [2, 4, 8]
    assert [ty.randint(3).from_unit(u) for u in (0.0, 0.5, 0.999)] == [0, 1, 2]
    assert ty.loguniform(1e-4, 1e-2).from_unit(0.5) == pytest.approx(1e-3)
    assert ty.uniform(-1, 3).from_unit(0.25) == 0
    assert ty.normal(5, 2).value(ty.normal(5, 2).from_unit(0.5)) == pytest.approx(5)
