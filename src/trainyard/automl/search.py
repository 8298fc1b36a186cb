"""Cost-aware search over the portfolio, after FLAML's CFO and its learner selection (ECI).

Each learner runs a randomized local search in its unit cube from its cheapest point: step in a
random direction, try the opposite one if that is no better, halve the step after repeated
failures. Cost-driving dimensions (trees, leaves) only grow when larger values win, so cheap
configurations come first. Which learner gets the next trial is drawn with a probability
inversely proportional to its estimated cost for improvement: how long it has gone without
improving, and how far behind the best learner it is at its rate of progress. Big data starts
on a sample; a learner whose search has converged on the sample moves to a sample twice as big.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trainyard.automl.portfolio import Learner

INITIAL_SAMPLE = 10_000
STEP_MIN = 0.01


@dataclass
class Proposal:
    learner: str
    params: dict[str, Any]
    sample_size: int
    unit: np.ndarray
    direction: np.ndarray | None = None


@dataclass
class LocalSearch:
    learner: Learner
    rng: np.random.Generator
    sample_size: int
    best_unit: np.ndarray = field(init=False)
    best_loss: float = math.inf
    step: float = 0.1
    fails: int = 0
    pending_back: list[np.ndarray] = field(default_factory=list)
    started: bool = False
    second: np.ndarray | None = field(init=False)  # the library's defaults, proposed second

    def __post_init__(self) -> None:
        self.best_unit = self.learner.init_unit()
        self.second = self.learner.default_unit()
        self.step = 0.1 * math.sqrt(len(self.best_unit))

    @property
    def dims(self) -> int:
        return len(self.best_unit)

    def propose(self) -> Proposal:
        if not self.started:
            self.started = True
            unit, direction = self.best_unit.copy(), None
        elif self.second is not None:
            unit, direction, self.second = self.second, None, None
        elif self.pending_back:
            direction = self.pending_back.pop()
            unit = np.clip(self.best_unit - self.step * direction, 0, 1)
        else:
            direction = self.rng.normal(size=self.dims)
            direction /= np.linalg.norm(direction) or 1.0
            unit = np.clip(self.best_unit + self.step * direction, 0, 1)
        return Proposal(self.learner.name, self.learner.params(unit), self.sample_size, unit, direction)

    def tell(self, proposal: Proposal, loss: float | None) -> bool:
        """Record a result; True when it improved this learner's best."""
        if proposal.sample_size != self.sample_size:
            return False
        if loss is not None and loss < self.best_loss:
            self.best_unit, self.best_loss, self.fails = proposal.unit, loss, 0
            self.pending_back.clear()
            return True
        if proposal.direction is not None:
            if not any(d is proposal.direction for d in self.pending_back) and self.fails % 2 == 0:
                self.pending_back.append(proposal.direction)
            self.fails += 1
            if self.fails >= 2 * self.dims:
                self.step /= 2
                self.fails = 0
        return False

    @property
    def converged(self) -> bool:
        return self.step < STEP_MIN

    def grow(self, rows: int) -> None:
        """Move to a sample twice as big; the best point is re-evaluated there first."""
        self.sample_size = min(rows, self.sample_size * 2)
        self.best_loss, self.started, self.fails = math.inf, False, 0
        self.step = 0.1 * math.sqrt(self.dims)
        self.pending_back.clear()

    def restart(self) -> None:
        """A converged search at full data starts again from a random point."""
        self.best_unit = self.rng.uniform(size=self.dims)
        self.best_loss, self.started, self.fails = math.inf, False, 0
        self.step = 0.1 * math.sqrt(self.dims)


@dataclass
class LearnerState:
    search: LocalSearch
    spent: float = 0.0  # seconds of trials
    since_improved: float = 0.0
    best_loss: float = math.inf
    first_loss: float | None = None
    last_cost: float = 0.0
    trials: int = 0


class Scheduler:
    """Chooses the next configuration; ``tell`` it every result."""

    def __init__(self, learners: list[Learner], rows: int, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.rows = rows
        start = min(rows, INITIAL_SAMPLE)
        self.states = {
            lr.name: LearnerState(LocalSearch(lr, np.random.default_rng([seed, i]), start))
            for i, lr in enumerate(learners)
        }
        self.best_loss = math.inf

    def _eci(self, name: str) -> float:
        state = self.states[name]
        eci = max(state.since_improved, 2 * state.last_cost, 1e-3)
        if state.best_loss > self.best_loss and state.first_loss is not None and state.spent > 0:
            speed = (state.first_loss - state.best_loss) / state.spent
            gap = state.best_loss - self.best_loss
            eci = max(eci, gap / speed if speed > 0 else 2 * eci)
        return eci

    def next(self, excluded: set[str] = frozenset()) -> Proposal | None:  # type: ignore[assignment]
        """The next trial; untried learners first, then by estimated cost for improvement."""
        names = [n for n in self.states if n not in excluded]
        if not names:
            return None
        fresh = [n for n in names if self.states[n].trials == 0 and not self.states[n].search.started]
        if fresh:
            return self._from(fresh[0])
        weights = np.array([1.0 / self._eci(n) for n in names])
        return self._from(names[self.rng.choice(len(names), p=weights / weights.sum())])

    def _from(self, name: str) -> Proposal:
        search = self.states[name].search
        if search.converged:
            if search.sample_size < self.rows:
                search.grow(self.rows)
            else:
                search.restart()
        return search.propose()

    def tell(self, proposal: Proposal, loss: float | None, seconds: float) -> None:
        state = self.states[proposal.learner]
        state.trials += 1
        state.spent += seconds
        state.last_cost = seconds if proposal.sample_size == state.search.sample_size else state.last_cost
        improved = state.search.tell(proposal, loss)
        if loss is not None and loss < state.best_loss:
            state.best_loss, state.since_improved = loss, 0.0
            if state.first_loss is None:
                state.first_loss = loss
        else:
            state.since_improved += seconds
        if loss is not None and loss < self.best_loss:
            self.best_loss = loss
        if not improved and loss is None and proposal.direction is None:
            state.since_improved += 10 * max(seconds, 1.0)  # its cheapest point fails: try others first
