"""Partition keys and the tags that carry them: on partition runs, and on the registered
versions that make a many-models group. Kept apart from the spec (which brings AutoML's settings
in) so that a scoring server routing by partition imports no more than it needs."""

from __future__ import annotations

from typing import Any

import numpy as np

from trainyard.errors import InvalidInputError

PARTITION_TAG = "many_models.partition"  # on each partition's run: its key, ``store=3,brand=a``
GROUP_TAG = "many_models.run_id"  # on each partition's run and model version: the parent run
MODEL_TAG = "many_models.model"  # on a script partition's run once its model is registered
TAG_PREFIX = "partition."  # ``partition.store=3`` on each registered version


def value_text(value: Any) -> str:
    """A partition value as tags and keys hold it: ``3``, not ``np.int64(3)`` nor ``3.0`` for an int."""
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def values_of(columns: list[str], key: Any) -> dict[str, str]:
    """A pandas group key (a value, or a tuple of one per column) as partition values."""
    return {c: value_text(v) for c, v in zip(columns, key if isinstance(key, tuple) else (key,), strict=True)}


def key_text(values: dict[str, str]) -> str:
    """``store=3,brand=a``: how a partition is named in tags, logs and on the command line."""
    return ",".join(f"{column}={value}" for column, value in values.items())


def parse_key(text: str, columns: list[str]) -> dict[str, str]:
    """``store=3`` (or ``store=3,brand=a``) into its values, every partition column named once."""
    values: dict[str, str] = {}
    for part in text.split(","):
        column, sep, value = part.partition("=")
        if not sep or column.strip() not in columns:
            raise InvalidInputError(
                f"cannot read the partition {text!r}; name every partition column: "
                + ",".join(f"{c}=VALUE" for c in columns)
            )
        values[column.strip()] = value.strip()
    if set(values) != set(columns):
        raise InvalidInputError(
            f"partition {text!r} lacks {', '.join(c for c in columns if c not in values)}; "
            "name every partition column: " + ",".join(f"{c}=VALUE" for c in columns)
        )
    return {c: values[c] for c in columns}


def model_tags(values: dict[str, str]) -> dict[str, str]:
    """The tags of a partition's registered version: ``partition.store=3`` per column."""
    return {f"{TAG_PREFIX}{column}": value for column, value in values.items()}
