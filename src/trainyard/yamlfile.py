"""Reading the YAML files users write (jobs, sweeps, environments) with one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from trainyard.errors import InvalidInputError


def read_yaml_mapping(path: str | Path, what: str) -> dict[str, Any]:
    """A YAML file that must hold a mapping; every problem is a one-line error naming the file."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"{what} file {path} does not exist")
    return parse_yaml_mapping(path.read_text(), str(path), what)


def parse_yaml_mapping(text: str, source: str, what: str) -> dict[str, Any]:
    """YAML text that must hold a mapping; ``source`` names it in the errors (a file, a request)."""
    try:
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{source} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{source} must hold a mapping (see the {what} examples in the README)")
    raw.pop("$schema", None)
    return raw
