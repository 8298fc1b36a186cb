"""What may name a compute target: a stored target's file and a server's agent queue alike."""

from __future__ import annotations

import re

from trainyard.errors import InvalidInputError

TARGET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_target_name(name: str) -> str:
    """``name`` if it can name a queue of a server workspace, else ``InvalidInputError``."""
    if not TARGET_NAME.match(name):
        raise InvalidInputError(
            f"compute target {name!r}: up to 64 letters, digits and . _ - (first a letter or digit)"
        )
    return name


# Set in a Ray job's environment by its run's worker (``ray_worker.py``): the name of the Ray
# target the job runs on. A command that spreads its own work over the cluster (the parallel
# runner's Ray actors) reads it, and words its errors with it.
RAY_TARGET_VAR = "TRAINYARD_RAY_TARGET"
