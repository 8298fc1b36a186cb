"""Search-space expressions (HyperDrive's names) and their mapping onto Optuna distributions.

Bounds are the parameter's own values: ``loguniform(1e-4, 1e-1)`` samples between 0.0001 and
0.1 on a log scale. Optuna has no normal distributions, so ``normal`` and friends are sampled
as a uniform quantile and transformed through the inverse normal CDF; samplers see the
quantile, scripts see the value. ``q`` variants round to a multiple of ``q``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any, cast

from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

from trainyard.errors import InvalidInputError
from trainyard.numbers import finite

EPS = 1e-6  # keeps normal quantiles away from 0 and 1 (which would be infinite)


@dataclass(frozen=True)
class Parameter:
    """One search dimension. Build with the functions below, not directly."""

    kind: str
    args: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, **self.args}

    # -- Optuna side ---------------------------------------------------------------------------
    def distribution(self) -> BaseDistribution:
        a = self.args
        if self.kind == "choice":
            return CategoricalDistribution(a["values"])
        if self.kind == "randint":
            return IntDistribution(0, a["upper"] - 1)
        if self.kind in ("uniform", "quniform"):
            return FloatDistribution(a["min_value"], a["max_value"])
        if self.kind in ("loguniform", "qloguniform"):
            return FloatDistribution(a["min_value"], a["max_value"], log=True)
        return FloatDistribution(EPS, 1 - EPS)  # normal family: a quantile

    def from_unit(self, u: float) -> Any:
        """The internal value at ``u`` in [0, 1) along the dimension: where a quasi-random point lands."""
        dist = self.distribution()
        if isinstance(dist, CategoricalDistribution):
            return dist.choices[min(int(u * len(dist.choices)), len(dist.choices) - 1)]
        if isinstance(dist, IntDistribution):
            return min(dist.low + int(u * (dist.high - dist.low + 1)), dist.high)
        span = cast(FloatDistribution, dist)  # every other kind is a float range
        if span.log:
            return min(math.exp(math.log(span.low) + u * math.log(span.high / span.low)), span.high)
        return span.low + u * (span.high - span.low)

    def value(self, internal: Any) -> Any:
        """The value a trial's script receives for the sampler's ``internal`` value."""
        a = self.args
        if self.kind in ("choice", "randint", "uniform", "loguniform"):
            return internal
        if self.kind in ("quniform", "qloguniform"):
            return _round_to(internal, a["q"])
        x = NormalDist(a["mu"], a["sigma"]).inv_cdf(internal)
        if self.kind in ("lognormal", "qlognormal"):
            x = math.exp(x)
        return _round_to(x, a["q"]) if self.kind.startswith("q") else x

    def grid(self, name: str) -> list[Any]:
        """Every value, for grid sampling; continuous dimensions have none."""
        a = self.args
        if self.kind == "choice":
            return list(a["values"])
        if self.kind == "randint":
            return list(range(a["upper"]))
        if self.kind == "quniform":
            count = int(math.floor((a["max_value"] - a["min_value"]) / a["q"] + 1e-9)) + 1
            return [_round_to(a["min_value"] + i * a["q"], a["q"]) for i in range(count)]
        raise InvalidInputError(
            f"grid sampling needs discrete parameters, but {name!r} is {self.kind}; "
            "use choice, randint or quniform, or sampling='random' / 'bayesian'"
        )


def _round_to(x: float, q: float) -> float | int:
    value = round(x / q) * q
    return int(value) if float(q).is_integer() else round(value, 12)


def _range(kind: str, low: Any, high: Any, log: bool = False) -> dict[str, float]:
    low, high = finite(f"{kind} min_value", low), finite(f"{kind} max_value", high)
    if low >= high:
        raise InvalidInputError(f"{kind}({low:g}, {high:g}): min_value must be below max_value")
    if log and low <= 0:
        raise InvalidInputError(f"{kind}({low:g}, {high:g}): a log scale needs min_value > 0")
    return {"min_value": low, "max_value": high}


def _q(kind: str, q: Any) -> float:
    q = finite(f"{kind} q", q)
    if q <= 0:
        raise InvalidInputError(f"{kind}: q must be > 0, got {q:g}")
    return q


def _normal(kind: str, mu: Any, sigma: Any) -> dict[str, float]:
    sigma = finite(f"{kind} sigma", sigma)
    if sigma <= 0:
        raise InvalidInputError(f"{kind}: sigma must be > 0, got {sigma:g}")
    return {"mu": finite(f"{kind} mu", mu), "sigma": sigma}


def choice(*values: Any) -> Parameter:
    """One of the values; ``choice([1, 2])`` and ``choice(1, 2)`` both work."""
    if len(values) == 1 and isinstance(values[0], list | tuple | range):
        values = tuple(values[0])
    if not values:
        raise InvalidInputError("choice() needs at least one value")
    bad = [v for v in values if not isinstance(v, str | int | float | bool) and v is not None]
    if bad:
        raise InvalidInputError(f"choice values must be numbers, strings, booleans or None, got {bad[0]!r}")
    return Parameter("choice", {"values": list(values)})


def randint(upper: int) -> Parameter:
    """An integer in ``[0, upper)``."""
    if isinstance(upper, bool) or not isinstance(upper, int) or upper < 1:
        raise InvalidInputError(f"randint(upper) needs an integer upper >= 1, got {upper!r}")
    return Parameter("randint", {"upper": upper})


def uniform(min_value: float, max_value: float) -> Parameter:
    return Parameter("uniform", _range("uniform", min_value, max_value))


def quniform(min_value: float, max_value: float, q: float) -> Parameter:
    return Parameter("quniform", {**_range("quniform", min_value, max_value), "q": _q("quniform", q)})


def loguniform(min_value: float, max_value: float) -> Parameter:
    return Parameter("loguniform", _range("loguniform", min_value, max_value, log=True))


def qloguniform(min_value: float, max_value: float, q: float) -> Parameter:
    args = {**_range("qloguniform", min_value, max_value, log=True), "q": _q("qloguniform", q)}
    return Parameter("qloguniform", args)


def normal(mu: float, sigma: float) -> Parameter:
    return Parameter("normal", _normal("normal", mu, sigma))


def qnormal(mu: float, sigma: float, q: float) -> Parameter:
    return Parameter("qnormal", {**_normal("qnormal", mu, sigma), "q": _q("qnormal", q)})


def lognormal(mu: float, sigma: float) -> Parameter:
    """``exp`` of a normal with mean ``mu`` and deviation ``sigma``."""
    return Parameter("lognormal", _normal("lognormal", mu, sigma))


def qlognormal(mu: float, sigma: float, q: float) -> Parameter:
    return Parameter("qlognormal", {**_normal("qlognormal", mu, sigma), "q": _q("qlognormal", q)})


BUILDERS = {
    "choice": lambda a: choice(*a["values"]) if isinstance(a.get("values"), list) else choice(),
    "randint": lambda a: randint(a["upper"]),
    "uniform": lambda a: uniform(a["min_value"], a["max_value"]),
    "quniform": lambda a: quniform(a["min_value"], a["max_value"], a["q"]),
    "loguniform": lambda a: loguniform(a["min_value"], a["max_value"]),
    "qloguniform": lambda a: qloguniform(a["min_value"], a["max_value"], a["q"]),
    "normal": lambda a: normal(a["mu"], a["sigma"]),
    "qnormal": lambda a: qnormal(a["mu"], a["sigma"], a["q"]),
    "lognormal": lambda a: lognormal(a["mu"], a["sigma"]),
    "qlognormal": lambda a: qlognormal(a["mu"], a["sigma"], a["q"]),
}


def parse_parameter(name: str, spec: Any) -> Parameter:
    """A parameter from YAML/JSON: ``{type: loguniform, min_value: 0.001, max_value: 0.1}``."""
    if isinstance(spec, Parameter):
        return spec
    if not isinstance(spec, dict) or spec.get("type") not in BUILDERS:
        kinds = ", ".join(BUILDERS)
        raise InvalidInputError(
            f"search space {name!r}: give a mapping with type one of {kinds}; got {spec!r}"
        )
    try:
        return BUILDERS[spec["type"]](spec)
    except KeyError as missing:
        raise InvalidInputError(f"search space {name!r} ({spec['type']}) is missing {missing}") from None
    except InvalidInputError as exc:
        raise InvalidInputError(f"search space {name!r}: {exc}") from None


def parse_space(space: Any) -> dict[str, Parameter]:
    if not isinstance(space, dict) or not space:
        raise InvalidInputError(
            "the search space is empty; give at least one parameter, e.g. {'lr': loguniform(1e-4, 1e-1)}"
        )
    return {str(name): parse_parameter(str(name), spec) for name, spec in space.items()}


def grid_points(space: dict[str, Parameter]) -> dict[str, list[Any]]:
    return {name: param.grid(name) for name, param in space.items()}


def grid_size(space: dict[str, Parameter]) -> int:
    return math.prod(len(v) for v in grid_points(space).values())
