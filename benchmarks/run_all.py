"""Run every benchmark and print its ratios against the baseline measured in the same run."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import agent_pickup  # noqa: E402
import endpoint_shift  # noqa: E402
import env_cache  # noqa: E402
import metric_logging  # noqa: E402
import run_list  # noqa: E402
import scoring  # noqa: E402
import submit_latency  # noqa: E402
import sweep  # noqa: E402

if __name__ == "__main__":
    for bench in (
        metric_logging,
        submit_latency,
        agent_pickup,
        env_cache,
        run_list,
        sweep,
        scoring,
        endpoint_shift,
    ):
        print(f"# {bench.__name__}", flush=True)
        for line in bench.main():
            print(line, flush=True)
