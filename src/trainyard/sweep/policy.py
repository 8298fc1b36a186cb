"""Early-termination policies (HyperDrive's names), carried out by Optuna pruners.

Median stopping and truncation selection are Optuna's ``MedianPruner`` and ``PercentilePruner``;
Optuna has no bandit rule, so ``BanditPolicy`` is a small ``BasePruner`` of our own. A trial's
intermediate values are its primary metric's logged series, indexed by step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import optuna
from optuna.pruners import BasePruner, MedianPruner, PercentilePruner
from optuna.study import StudyDirection

from trainyard.errors import InvalidInputError
from trainyard.numbers import finite


def _check_common(name: str, evaluation_interval: int, delay_evaluation: int) -> None:
    if not _whole(evaluation_interval) or evaluation_interval < 1:
        raise InvalidInputError(
            f"{name}: evaluation_interval must be an integer >= 1, got {evaluation_interval!r}"
        )
    if not _whole(delay_evaluation) or delay_evaluation < 0:
        raise InvalidInputError(f"{name}: delay_evaluation must be an integer >= 0, got {delay_evaluation!r}")


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _due(step: int, interval: int, delay: int) -> bool:
    return step >= delay and (step - delay) % interval == 0


@dataclass(frozen=True)
class BanditPolicy:
    """Stop a trial whose metric falls outside the slack of the best trial at the same step."""

    slack_factor: float | None = None
    slack_amount: float | None = None
    evaluation_interval: int = 1
    delay_evaluation: int = 0

    def __post_init__(self) -> None:
        if (self.slack_factor is None) == (self.slack_amount is None):
            raise InvalidInputError("BanditPolicy needs exactly one of slack_factor or slack_amount")
        slack = self.slack_factor if self.slack_factor is not None else self.slack_amount
        if finite("BanditPolicy: the slack", slack) <= 0:
            raise InvalidInputError(f"BanditPolicy: the slack must be a number > 0, got {slack!r}")
        _check_common("BanditPolicy", self.evaluation_interval, self.delay_evaluation)

    def pruner(self) -> BasePruner:
        return _BanditPruner(self)


@dataclass(frozen=True)
class MedianStoppingPolicy:
    """Stop a trial whose best value so far is worse than the median of the others at that step."""

    evaluation_interval: int = 1
    delay_evaluation: int = 0

    def __post_init__(self) -> None:
        _check_common("MedianStoppingPolicy", self.evaluation_interval, self.delay_evaluation)

    def pruner(self) -> BasePruner:
        return MedianPruner(
            n_startup_trials=1, n_warmup_steps=self.delay_evaluation, interval_steps=self.evaluation_interval
        )


@dataclass(frozen=True)
class TruncationSelectionPolicy:
    """Stop the trials in the lowest ``truncation_percentage`` percent at each evaluation."""

    truncation_percentage: float = 10
    evaluation_interval: int = 1
    delay_evaluation: int = 0

    def __post_init__(self) -> None:
        percentage = finite("TruncationSelectionPolicy: truncation_percentage", self.truncation_percentage)
        if not 0 < percentage < 100:
            raise InvalidInputError(
                "TruncationSelectionPolicy: truncation_percentage must be between 0 and 100"
            )
        _check_common("TruncationSelectionPolicy", self.evaluation_interval, self.delay_evaluation)

    def pruner(self) -> BasePruner:
        return PercentilePruner(
            self.truncation_percentage,
            n_startup_trials=1,
            n_warmup_steps=self.delay_evaluation,
            interval_steps=self.evaluation_interval,
        )


Policy = BanditPolicy | MedianStoppingPolicy | TruncationSelectionPolicy
KINDS: dict[str, type] = {
    "bandit": BanditPolicy,
    "median_stopping": MedianStoppingPolicy,
    "truncation_selection": TruncationSelectionPolicy,
}


def describe(policy: Policy) -> str:
    args = ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
        for k, v in asdict(policy).items()
        if v is not None
    )
    return f"{type(policy).__name__}({args})"


def policy_to_dict(policy: Policy) -> dict[str, Any]:
    kind = next(k for k, cls in KINDS.items() if isinstance(policy, cls))
    return {"type": kind, **{k: v for k, v in asdict(policy).items() if v is not None}}


def parse_policy(spec: Any) -> Policy | None:
    """A policy object, ``None``, or YAML: ``{type: bandit, slack_factor: 0.1, delay_evaluation: 5}``."""
    if spec is None or isinstance(spec, BanditPolicy | MedianStoppingPolicy | TruncationSelectionPolicy):
        return spec
    if not isinstance(spec, dict) or spec.get("type") not in KINDS:
        raise InvalidInputError(
            f"early_termination: give a mapping with type one of {', '.join(KINDS)}; got {spec!r}"
        )
    args = {k: v for k, v in spec.items() if k != "type"}
    try:
        return KINDS[spec["type"]](**args)
    except TypeError as exc:
        raise InvalidInputError(f"early_termination ({spec['type']}): {exc}") from None


class _BanditPruner(BasePruner):
    def __init__(self, policy: BanditPolicy) -> None:
        self.policy = policy

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        step = trial.last_step
        p = self.policy
        if step is None or not _due(step, p.evaluation_interval, p.delay_evaluation):
            return False
        maximize = study.direction == StudyDirection.MAXIMIZE
        pick = max if maximize else min
        others = []
        for other in study.get_trials(deepcopy=False):
            if other.number == trial.number:
                continue
            seen = [v for s, v in other.intermediate_values.items() if s <= step]
            if seen:
                others.append(pick(seen))
        if not others:
            return False
        best = pick(others)
        value = trial.intermediate_values[step]
        if p.slack_factor is not None:
            limit = best / (1 + p.slack_factor) if maximize else best * (1 + p.slack_factor)
        else:  # exactly one of the two is set (BanditPolicy checks it)
            amount = float(p.slack_amount or 0.0)
            limit = best - amount if maximize else best + amount
        return value < limit if maximize else value > limit
