"""Run every benchmark and print its ratios against the baseline measured in the same run.

The long ones run alone: ``automl.py --budget 60`` (against FLAML), ``server_logging.py``,
``server_search.py`` and ``mlflow_client.py`` (they need PostgreSQL and the ``bench`` extra).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import agent_pickup  # noqa: E402
import components  # noqa: E402
import endpoint_reliability  # noqa: E402
import endpoint_shift  # noqa: E402
import env_bytecode  # noqa: E402
import env_cache  # noqa: E402
import log_tail  # noqa: E402
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
        log_tail,
        env_cache,
        env_bytecode,
        run_list,
        sweep,
        scoring,
        endpoint_shift,
        endpoint_reliability,
        components,
    ):
        print(f"# {bench.__name__}", flush=True)
        for line in bench.main():
            print(line, flush=True)
