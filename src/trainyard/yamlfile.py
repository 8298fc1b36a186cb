"""Reading the YAML files users write (jobs, sweeps, environments) with one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from trainyard.errors import InvalidInputError

# libyaml's loader where PyYAML was built with it: ten times the pure-Python one's speed, which a
# worker pays on every start (the workspace's config) and a pipeline's submit on its whole file.
_FAST_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str | bytes) -> Any:
    """``yaml.safe_load`` with libyaml when there is one."""
    return yaml.load(text, Loader=_FAST_SAFE_LOADER)  # noqa: S506 - a safe loader


def read_yaml_mapping(path: str | Path, what: str) -> dict[str, Any]:
    """A YAML file that must hold a mapping; every problem is a one-line error naming the file."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"{what} file {path} does not exist")
    return parse_yaml_mapping(path.read_text(), str(path), what)


class _NoAliases(yaml.SafeLoader):
    """A safe loader that refuses aliases (``*name``): text from the network cannot make a small
    document stand for a huge one (nested aliases, "billion laughs")."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            line = event.start_mark.line + 1
            raise yaml.YAMLError(f"line {line}: aliases (*{event.anchor}) are not taken here")
        return super().compose_node(parent, index)


def parse_yaml_mapping(text: str, source: str, what: str, aliases: bool = True) -> dict[str, Any]:
    """YAML text that must hold a mapping; ``source`` names it in the errors (a file, a request).
    ``aliases=False`` for text a server is sent (see ``_NoAliases``)."""
    try:
        raw: Any = safe_load(text) if aliases else yaml.load(text, Loader=_NoAliases)  # noqa: S506 - safe
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{source} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{source} must hold a mapping (see the {what} examples in the README)")
    raw.pop("$schema", None)
    return raw
