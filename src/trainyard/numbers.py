"""Numeric options of specs (timeouts, retries, trial budgets): finite, in range, never a bool.

YAML reads ``yes`` as true and ``.nan`` / ``.inf`` as floats, and pydantic's lax mode takes true
for 1 and lets infinity pass a ``gt`` bound; a timeout of ``inf`` or a budget of ``true`` is a
mistake, so these refuse them before anything is queued, naming the option.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from trainyard.errors import InvalidInputError


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"give a number, not {str(value).lower()}")
    return value


Count = Annotated[int, BeforeValidator(_not_bool)]
"""A whole number (bounds per field: ``Field(ge=…, le=…)``)."""

Finite = Annotated[float, BeforeValidator(_not_bool), Field(allow_inf_nan=False)]
"""A finite number (not NaN, not ±infinity)."""

Duration = Annotated[float, BeforeValidator(_not_bool), Field(gt=0, allow_inf_nan=False)]
"""A duration or budget (seconds, minutes): finite and above zero; leave it out for no limit."""


def finite(name: str, value: Any) -> float:
    """``value`` as a float, or ``InvalidInputError`` naming ``name`` (for specs read without pydantic)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(f"{name} must be a finite number, got {value!r}")
    return float(value)
