// A submitted pipeline on the designer's canvas: each module's step as its newest child run shows
// it (the run page's DAG reads the steps the same way, dag.ts), with how long it has run, and
// whether the canvas still has to be read again.
import { TERMINAL, type Run } from "../api";
import { newestByStep, REUSED_TAG, stepState } from "../dag";
import { duration } from "../format";

export interface NodeStatus {
  status: string; // queued, preparing, running, reused, completed, failed, canceled, not started
  run: Run | null; // the step's newest run
  holder: string | null; // the run whose outputs, metrics and images the step's are
  duration: string; // "" before it starts
}

/** Each step's status by step name (a module's id on the canvas). A completed step whose outputs
 * were another run's is "reused"; a step without a run yet is "not started". */
export function nodeStatuses(steps: string[], children: Run[], now: number = Date.now() / 1000): Map<string, NodeStatus> {
  const newest = newestByStep(children);
  const statuses = new Map<string, NodeStatus>();
  for (const step of steps) {
    const run = newest.get(step);
    const state = stepState(run);
    statuses.set(step, {
      status: state.reused && state.status === "completed" ? "reused" : state.status,
      run: run ?? null,
      holder: run ? (run.tags[REUSED_TAG] ?? run.id) : null,
      duration: run ? duration(run.start_time, run.end_time, now) : "",
    });
  }
  return statuses;
}

/** The canvas is read again until the pipeline run has ended (and read once more then). */
export function stillRunning(pipeline: Run | null): boolean {
  return pipeline === null || !TERMINAL.has(pipeline.status);
}
