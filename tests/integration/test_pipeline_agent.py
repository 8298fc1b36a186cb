"""A pipeline on the team server: its driver and its steps run on an agent, its local input is
stored at submit, its outputs pass through the server's artifact store, and a second submit
reuses every step (on SQLite and PostgreSQL)."""

from __future__ import annotations

import textwrap

import pytest

from tests.integration.test_agent import agents, server, start_agent  # noqa: F401 - fixtures
from tests.integration.test_jobs import wait_for
from trainyard.artifacts import run_key
from trainyard.pipelines import load_pipeline
from trainyard.pipelines.submit import submit_pipeline
from trainyard.status import RunStatus
from trainyard.workspace import Workspace

PIPELINE = """
type: pipeline
experiment_name: remote
settings: {default_compute: gpu}
inputs:
  raw: {type: uri_file, path: ./raw.txt}
outputs:
  out: {type: uri_folder}
jobs:
  upper:
    code: src
    command: python upper.py ${{inputs.raw}} ${{outputs.o}}
    inputs:
      raw: ${{parent.inputs.raw}}
    outputs:
      o: {type: uri_folder}
  count:
    code: src
    command: python count.py ${{inputs.d}} ${{outputs.o}}
    inputs:
      d: ${{parent.jobs.upper.outputs.o}}
    outputs:
      o: ${{parent.outputs.out}}
"""
UPPER = """
import pathlib, sys
(pathlib.Path(sys.argv[2]) / "up.txt").write_text(open(sys.argv[1]).read().upper())
"""
COUNT = """
import pathlib, sys
text = (pathlib.Path(sys.argv[1]) / "up.txt").read_text()
(pathlib.Path(sys.argv[2]) / "n.txt").write_text(f"{len(text)} {text}")
"""


@pytest.mark.parametrize(
    "server", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_pipeline_runs_on_an_agent_and_a_second_submit_reuses_it(server, agents, script_dir, tmp_path):  # noqa: F811
    src = script_dir({"upper.py": UPPER, "count.py": COUNT})
    (src.parent / "raw.txt").write_text("abc")
    (src.parent / "p.yml").write_text(textwrap.dedent(PIPELINE))
    start_agent(server, agents, tmp_path, concurrency=1)  # the driver takes no slot
    client = Workspace.from_config(server.url)
    runs = []
    for _ in range(2):
        run = submit_pipeline(client, load_pipeline(src.parent / "p.yml"))
        wait_for(lambda run=run: server.ws.store.get_run(run.id).status.is_terminal, timeout=120)
        info = server.ws.store.get_run(run.id)
        assert info.status == RunStatus.COMPLETED, info.error
        runs.append(run.id)
    assert server.ws.artifacts.get_bytes(run_key(runs[1], "outputs/out/n.txt")) == b"3 ABC"
    first, second = ({c.name: c for c in server.ws.store.search_runs(parent_id=r)} for r in runs)
    assert {c.compute for c in first.values()} == {"gpu"}
    assert {k: c.tags.get("pipeline.reused_from") for k, c in second.items()} == {
        "upper": first["upper"].id,
        "count": first["count"].id,
    }
