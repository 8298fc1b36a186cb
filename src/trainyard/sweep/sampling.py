"""Which configuration each trial gets: a function of the sweep's seed and the trial's number.

A driver restarted after a crash, and a sweep resumed from another (whose trial numbers carry
on after the old ones), must not start again from the top of a seeded sequence, or they repeat
configurations that already ran. So nothing here keeps state between trials: trial ``n`` of a
random sweep draws from a generator seeded by ``(seed, n)``, a Sobol sweep takes the ``n``-th
point of its scrambled sequence, a bayesian one runs TPE seeded by ``(seed, n)`` over what the
study knows, and a grid takes the first point, in the seed's shuffled order, that no trial in
the study has run.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, RandomSampler, TPESampler

from trainyard.sweep.space import grid_points
from trainyard.sweep.spec import SweepSpec


def trial_seed(seed: int | None, number: int) -> int | None:
    """The seed of trial ``number``'s draw: independent of every other trial's."""
    if seed is None:
        return None
    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


class Sampling:
    """Asks the study for trial ``number``'s configuration."""

    def __init__(self, spec: SweepSpec) -> None:
        self.spec = spec
        self.space = spec.space
        self.names = sorted(self.space)
        self.grid: list[tuple[Any, ...]] = []
        if spec.sampling == "grid":
            points = grid_points(self.space)
            self.grid = list(itertools.product(*(points[name] for name in self.names)))
            np.random.default_rng(spec.seed).shuffle(self.grid)

    def ask(
        self, study: optuna.Study, number: int, distributions: dict[str, BaseDistribution]
    ) -> optuna.Trial:
        fixed = self._fixed(study, number)
        if fixed is not None:
            study.enqueue_trial(fixed, skip_if_exists=False)
        study.sampler = self._sampler(number)
        return study.ask(distributions)

    def grid_left(self, study: optuna.Study) -> int:
        """How many grid points no trial in the study (this sweep's or a warm start's) has run."""
        taken = self._taken(study)
        return sum(1 for point in self.grid if point not in taken)

    def _taken(self, study: optuna.Study) -> set[tuple[Any, ...]]:
        return {tuple(t.params.get(name) for name in self.names) for t in study.get_trials(deepcopy=False)}

    def _fixed(self, study: optuna.Study, number: int) -> dict[str, Any] | None:
        if self.spec.sampling == "grid":
            point = next(p for p in self.grid if p not in self._taken(study))  # see grid_left
            return dict(zip(self.names, point, strict=True))
        if self.spec.sampling == "sobol":
            from scipy.stats import qmc  # a second's import, for Sobol sweeps only

            engine = qmc.Sobol(len(self.names), scramble=True, rng=self.spec.seed)
            if number:
                engine.fast_forward(number)
            unit = engine.random(1)[0]
            return {
                name: self.space[name].from_unit(float(u)) for name, u in zip(self.names, unit, strict=True)
            }
        return None

    def _sampler(self, number: int) -> BaseSampler:
        seed = trial_seed(self.spec.seed, number)
        if self.spec.sampling == "bayesian":
            startup = min(10, max(2, self.spec.limits.max_total_trials // 5))
            return TPESampler(seed=seed, n_startup_trials=startup)
        return RandomSampler(seed=seed)  # random; for grid and Sobol every value is fixed already
