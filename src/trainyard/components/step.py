"""A catalogue component as a job: what a pipeline's ``component:`` step runs in its child run.

``python -m trainyard.components.step NAME --input PORT=REF ... --params JSON``: the worker has
already turned a pipeline input into a local path; another step's output comes as
``runs:<run id>/<port>`` and is read from the artifact store. The component's outputs are
stored under the run's ``outputs/``; the worker finishes the run when this process exits.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping

from trainyard.components.runner import run_component_in
from trainyard.errors import TrainyardError
from trainyard.tracking import TrackedRun, current_run


def step_command(name: str, inputs: Mapping[str, str], params: Mapping[str, object]) -> list[str]:
    """The argv of a step running component ``name`` (inputs are references or ``${{inputs.x}}``)."""
    argv = ["python", "-m", "trainyard.components.step", name]
    for port, ref in inputs.items():
        argv += ["--input", f"{port}={ref}"]
    return [*argv, "--params", json.dumps(params, sort_keys=True)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="trainyard.components.step")
    parser.add_argument("component")
    parser.add_argument("--input", action="append", default=[])
    parser.add_argument("--params", default="{}")
    args = parser.parse_args(argv)
    inputs = dict(item.split("=", 1) for item in args.input)
    run = current_run(TrackedRun)
    try:
        result = run_component_in(run, args.component, inputs, json.loads(args.params))
    except TrainyardError as exc:  # the worker fails the run with this last line
        print(f"error: {exc}", flush=True)
        run.flush()
        sys.exit(1)
    run.flush()
    print(f"{args.component}: outputs {', '.join(result.locations) or 'none'}", flush=True)


if __name__ == "__main__":
    main()
