"""``Param``: a component parameter with a type, a default, the values it allows, and its schema.

Validation raises ``ComponentInputError`` with one line naming the parameter and what is allowed
(``fraction must be between 0 and 1 (exclusive), got 1.5``); ``parse`` reads the same values
from command-line text, and ``schema`` describes them as JSON schema for the designer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from trainyard.errors import InvalidInputError
from trainyard.limits import MAX_PARAM_VALUE_LENGTH

PARAM_TYPES = (
    "int",
    "float",
    "bool",
    "string",
    "python",
    "path",
    "model_ref",
    "column",
    "columns",
    "json",
)
_JSON_TYPES: dict[str, dict[str, Any]] = {
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "string": {"type": "string"},
    "python": {"type": "string", "format": "python"},  # source code: the designer's code editor
    "path": {"type": "string", "format": "path"},
    "model_ref": {"type": "string", "format": "model-reference"},
    "column": {"type": "string", "format": "column-name"},
    "columns": {"type": "array", "items": {"type": "string"}, "format": "column-names"},
    "json": {},
}


class ComponentInputError(InvalidInputError):
    """An input or parameter of a component is missing, of the wrong kind, or out of range."""


class Required:
    """The default of a parameter that has none: the caller must give a value."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = Required()
INT_LIMIT = 2**31 - 1
"""The largest whole number any ``int`` parameter takes (libraries and seeds overflow beyond it)."""


@dataclass(frozen=True)
class Param:
    """A parameter with a type, a default and the values it allows.

    ``min``/``max`` are inclusive unless ``min_exclusive``/``max_exclusive``; ``choices`` lists
    the allowed values. ``optional`` lets ``None`` through (meaning "not set").
    """

    name: str
    type: str
    default: Any = REQUIRED
    description: str = ""
    choices: Sequence[Any] | None = None
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    optional: bool = False

    def __post_init__(self) -> None:
        if self.type not in PARAM_TYPES:
            raise ValueError(f"param {self.name!r}: type must be one of {', '.join(PARAM_TYPES)}")

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def _fail(self, allowed: str, value: Any) -> ComponentInputError:
        return ComponentInputError(f"{self.name} must be {allowed}, got {value!r}")

    def _range_text(self) -> str:
        if self.min is not None and self.max is not None:
            if self.min_exclusive == self.max_exclusive:
                return f"between {self.min:g} and {self.max:g}" + (
                    " (exclusive)" if self.min_exclusive else ""
                )
            low = "exclusive" if self.min_exclusive else "inclusive"
            high = "exclusive" if self.max_exclusive else "inclusive"
            return f"between {self.min:g} ({low}) and {self.max:g} ({high})"
        if self.min is not None:
            return f"{'greater than' if self.min_exclusive else 'at least'} {self.min:g}"
        return f"{'less than' if self.max_exclusive else 'at most'} {self.max:g}"

    def _check_range(self, value: float, given: Any) -> None:
        if math.isnan(value):
            raise self._fail("a number", given)
        low_bad = self.min is not None and (value <= self.min if self.min_exclusive else value < self.min)
        high_bad = self.max is not None and (value >= self.max if self.max_exclusive else value > self.max)
        if low_bad or high_bad:
            raise self._fail(self._range_text(), given)

    def validate(self, value: Any) -> Any:
        """The value as the component receives it; a ``ComponentInputError`` if not allowed."""
        if value is None:
            if self.optional:
                return None
            raise ComponentInputError(f"parameter {self.name!r} is required ({self.description})")
        checked = self._typed(value)
        if self.choices is not None:
            values = checked if self.type == "columns" else [checked]
            for item in values:
                if item not in self.choices:
                    raise self._fail(f"one of {', '.join(map(str, self.choices))}", item)
        if self.type in ("int", "float") and (self.min is not None or self.max is not None):
            self._check_range(checked, value)
        return checked

    def _typed(self, value: Any) -> Any:
        if self.type == "bool":
            if isinstance(value, bool):
                return value
            raise self._fail("true or false", value)
        if self.type == "int":
            if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
                raise self._fail("a whole number", value)
            if abs(int(value)) > INT_LIMIT:
                low = -INT_LIMIT if self.min is None else self.min
                raise self._fail(f"a whole number between {low:g} and {INT_LIMIT}", value)
            return int(value)
        if self.type == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self._fail("a number", value)
            if not math.isfinite(value):
                raise self._fail("a finite number (not inf or nan)", value)
            return float(value)
        if self.type in ("string", "python", "path", "model_ref", "column"):
            if not isinstance(value, str) or (self.type not in ("string", "python") and not value):
                allowed = {
                    "string": "a string",
                    "python": "Python source text",
                    "model_ref": "name, name:version or name@alias",
                }
                raise self._fail(allowed.get(self.type, f"a {self.type} name"), value)
            if self.type == "python" and len(value) > MAX_PARAM_VALUE_LENGTH:  # it is a run's param
                raise ComponentInputError(
                    f"{self.name} has {len(value)} characters; the limit is {MAX_PARAM_VALUE_LENGTH}: "
                    "move code into a module the script imports (script_bundle)"
                )
            return value
        if self.type == "columns":
            names = [value] if isinstance(value, str) else value
            if not isinstance(names, list | tuple) or not all(isinstance(n, str) and n for n in names):
                raise self._fail("a list of column names", value)
            return list(names)
        return value

    def parse(self, text: str) -> Any:
        """A value typed on the command line (``--param name=text``), validated."""
        import json

        if self.type == "bool":
            lowered = text.strip().lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise self._fail("true or false", text)
            return self.validate(lowered in ("true", "1", "yes"))
        if self.type in ("int", "float"):
            try:
                number = float(text) if self.type == "float" or "." in text else int(text)
            except ValueError:
                raise self._fail("a whole number" if self.type == "int" else "a number", text) from None
            return self.validate(number)
        if self.type == "columns":
            stripped = text.strip()
            if stripped.startswith("["):
                try:
                    return self.validate(json.loads(stripped))
                except json.JSONDecodeError:
                    raise self._fail("a JSON list or comma-separated column names", text) from None
            return self.validate([n.strip() for n in stripped.split(",") if n.strip()])
        if self.type == "json":
            try:
                return self.validate(json.loads(text))
            except json.JSONDecodeError as exc:
                raise self._fail(f"JSON ({exc.msg})", text) from None
        return self.validate(text)

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {**_JSON_TYPES[self.type], "description": self.description}
        if not self.required:
            out["default"] = self.default
        if self.choices is not None:
            if self.type == "columns":
                out["items"] = {**out["items"], "enum": list(self.choices)}
            else:
                out["enum"] = list(self.choices)
        for bound, value, exclusive in (
            ("minimum", self.min, self.min_exclusive),
            ("maximum", self.max, self.max_exclusive),
        ):
            if value is not None:
                out[f"exclusive{bound.capitalize()}" if exclusive else bound] = value
        if self.optional:
            out["nullable"] = True
        return out
