"""Resolving an environment that is already built (a cache hit), against building it.

The first ``resolve`` builds a real environment with uv (a requirement plus trainyard's own
dependencies); each later one only checks the marker file. The figure that matters is the
cache hit, which every job on that environment pays before its command starts.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import median_of, row, timer  # noqa: E402

HITS = 200


def main() -> list[str]:
    from trainyard.environments import Environment, resolve

    env = Environment(name="bench", requirements=["six==1.16.0"])
    with tempfile.TemporaryDirectory() as d:
        cache = Path(d)
        with timer() as build:
            first = resolve(env, cache)
        assert not first.cache_hit

        def hit() -> float:
            with timer() as t:
                assert resolve(env, cache).cache_hit
            return t["s"]

        hit_s = median_of(hit, HITS)
    return [row("environment cache hit (resolve)", hit_s, "a fresh uv build", build["s"])]


if __name__ == "__main__":
    print("\n".join(main()))
