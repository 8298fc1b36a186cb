"""The checks every store applies before it writes: names, lengths, labels, metric values.

They raise ``InvalidInputError`` saying what to fix; clients (``RestStore``, job submission) run
the same checks before sending, so bad input fails early and the same way everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from trainyard.errors import InvalidInputError
from trainyard.limits import MAX_BULK_RUNS, MAX_IDEMPOTENCY_KEY_LENGTH, MAX_KEY_LENGTH, MAX_TAG_VALUE_LENGTH


def validate_key(kind: str, key: str) -> str:
    if not isinstance(key, str) or not key.strip():
        raise InvalidInputError(f"{kind} names must be non-empty strings, got {key!r}")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInputError(
            f"{kind} name {key[:40]!r}… is {len(key)} characters; the limit is {MAX_KEY_LENGTH}"
        )
    if "\x00" in key:
        raise InvalidInputError(f"{kind} name {key!r} contains a NUL character")
    return key


def validate_value(kind: str, key: str, value: str, limit: int) -> str:
    value = str(value)
    if len(value) > limit:
        raise InvalidInputError(
            f"{kind} {key!r} has a value of {len(value)} characters; the limit is {limit}. "
            "Upload long text as a file with run.upload_file instead."
        )
    return value


def check_batch_id(batch_id: str) -> str:
    """A metric batch's id, which the store keeps beside the batch (``log_batch(batch_id=)``)."""
    if not 0 < len(batch_id) <= MAX_IDEMPOTENCY_KEY_LENGTH:
        raise InvalidInputError(
            f"a metric batch id has 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters, not {len(batch_id)}"
        )
    return batch_id


def check_labels(kind: str, values: dict[str, Any] | None, limit: int) -> dict[str, str]:
    """Params, tags or properties checked as a store checks them, before anything is written."""
    return {validate_key(kind, k): validate_value(kind, k, str(v), limit) for k, v in (values or {}).items()}


MODEL_ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$")


def check_model_name(name: str) -> str:
    if not isinstance(name, str) or not MODEL_NAME.match(name):
        raise InvalidInputError(
            f"model name {name!r}: start with a letter or digit; use only letters, digits, '.', '_', '-'"
        )
    return name


COMPONENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")
COMPONENT_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_component_ref(name: str, version: str | None) -> None:
    """A component's name and (when given) version: what ``name:version`` references can hold."""
    if not isinstance(name, str) or not COMPONENT_NAME.match(name):
        raise InvalidInputError(
            f"component name {name!r}: start with a letter or digit; use only letters, digits, '.', '_', '-'"
        )
    if version is not None and (
        not isinstance(version, str) or not COMPONENT_VERSION.match(version) or version == "latest"
    ):
        raise InvalidInputError(
            f"component {name!r} version {version!r}: 1 to 64 letters, digits, '.', '_' or '-' "
            "(and not 'latest')"
        )


def check_name(what: str, name: str) -> str:
    """A published pipeline's or a schedule's name: as a model's (it is one URL segment)."""
    if not isinstance(name, str) or not MODEL_NAME.match(name):
        raise InvalidInputError(
            f"{what} name {name!r}: start with a letter or digit; use only letters, digits, '.', '_', '-'"
        )
    return name


ENDPOINT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{2,31}$")


def check_endpoint_name(name: str, what: str = "endpoint") -> str:
    if not isinstance(name, str) or not ENDPOINT_NAME.match(name):
        raise InvalidInputError(
            f"{what} name {name!r}: 3 to 32 letters, digits or '-', starting with a letter"
        )
    return name


def check_alias(alias: str) -> str:
    if not isinstance(alias, str) or not MODEL_ALIAS.match(alias) or alias.isdigit() or alias == "latest":
        raise InvalidInputError(
            f"alias {alias!r} must start with a letter, hold letters, digits, '_' or '-', and not be 'latest'"
        )
    return alias


def tag_changes(tags: dict[str, str | None] | None) -> dict[str, str | None]:
    """Tag updates checked before any write: a value sets the tag, ``None`` deletes it."""
    return {
        validate_key("tag", k): None if v is None else validate_value("tag", k, str(v), MAX_TAG_VALUE_LENGTH)
        for k, v in (tags or {}).items()
    }


def check_run_ids(run_ids: Sequence[str]) -> list[str]:
    """The runs of one bulk change, each once, in order: 1 to ``MAX_BULK_RUNS`` of them."""
    unique = list(dict.fromkeys(run_ids))
    if not 0 < len(unique) <= MAX_BULK_RUNS:
        raise InvalidInputError(f"a bulk change names 1 to {MAX_BULK_RUNS} runs, not {len(unique)}")
    return unique


def apply_tag_changes(current: dict[str, str], changes: dict[str, str | None]) -> dict[str, str]:
    """The tags after ``changes``: values overwrite, ``None`` removes."""
    merged = {**current, **changes}
    return {k: v for k, v in merged.items() if v is not None}


def as_metric_value(key: str, value: Any) -> float:
    """Metrics are numbers; say so clearly when a script logs something else."""
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"metric {key!r} must be a number, got {type(value).__name__} {str(value)[:60]!r}; "
            "use run.set_tags() for text"
        ) from None
