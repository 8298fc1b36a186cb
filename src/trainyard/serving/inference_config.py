"""Azure's inference configuration: how a deployment scores (its entry script) and where (its
environment), kept apart from which model it serves so the same configuration serves the next
version too (a retrain keeps it)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from trainyard.environments import Environment


@dataclass(frozen=True)
class InferenceConfig:
    """``InferenceConfig(entry_script="score.py", environment=env)``: the script's ``init()`` and
    ``run(raw_data)`` score in ``env`` (an ``Environment`` or a registered ``NAME[:VERSION]``),
    built once and cached as jobs' environments are. Either may be left out: no script serves the
    model through its flavour, no environment scores on trainyard's own interpreter."""

    entry_script: str | os.PathLike[str] | None = None
    environment: Environment | str | None = None
