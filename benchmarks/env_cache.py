"""Resolving an environment that is already built (a cache hit), against building it.

The first ``resolve`` builds a real environment with uv (a requirement plus trainyard's own
dependencies); each later one only checks the marker file. The figure that matters is the
cache hit, which every job on that environment pays before its command starts.
``--curated NAME`` measures a shipped curated environment instead (e.g. ``curated/sklearn-1``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import median_of, row, timer  # noqa: E402

HITS = 200


def main(curated: str | None = None) -> list[str]:
    from trainyard.environments import Environment, resolve

    env = Environment.curated(curated) if curated else Environment(name="bench", requirements=["six==1.16.0"])
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
    what = (
        f"{curated} cache hit (a later job's environment step)"
        if curated
        else "environment cache hit (resolve)"
    )
    return [row(what, hit_s, "a fresh uv build", build["s"])]


if __name__ == "__main__":
    print("\n".join(main(sys.argv[2] if sys.argv[1:2] == ["--curated"] else None)))
