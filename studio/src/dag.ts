// A pipeline run's steps as a drawing: a column per layer (a step's layer is after every step it
// needs, as the record's `layers` say), a box per step with its newest run's status, and an edge
// from each step it needs. The same steps and statuses as `trainyard pipeline show` prints.
import type { JobRecord, Run } from "./api";

export const STEP_TAG = "pipeline.step";
export const BOX = { width: 170, height: 46, gapX: 70, gapY: 22, margin: 10 };

export interface StepBox {
  step: string;
  x: number;
  y: number;
  status: string; // the newest run's, "not started" while it has none
  runId: string | null;
  reused: boolean; // its outputs were another run's (pipeline.reused_from)
}

export interface Edge {
  from: string;
  to: string;
  path: string; // an SVG path from the right side of `from` to the left side of `to`
}

export interface Dag {
  boxes: StepBox[];
  edges: Edge[];
  width: number;
  height: number;
}

// each step's newest child run (a retried or rerun step has several)
export function newestByStep(children: Run[]): Map<string, Run> {
  const newest = new Map<string, Run>();
  for (const child of [...children].sort((a, b) => a.created_at - b.created_at)) {
    const step = child.tags[STEP_TAG];
    if (step !== undefined) newest.set(step, child);
  }
  return newest;
}

export const REUSED_TAG = "pipeline.reused_from";

/** A step as its newest run (``undefined``: none yet) shows it. */
export function stepState(run: Run | undefined): Pick<StepBox, "status" | "runId" | "reused"> {
  return {
    status: run?.status ?? "not started",
    runId: run?.id ?? null,
    reused: run !== undefined && REUSED_TAG in run.tags,
  };
}

export function layout(job: JobRecord, children: Run[]): Dag {
  const layers = job.layers ?? [];
  const steps = job.steps ?? {};
  const newest = newestByStep(children);
  const place = new Map<string, StepBox>();
  layers.forEach((layer, column) =>
    layer.forEach((step, row) => {
      place.set(step, {
        step,
        x: BOX.margin + column * (BOX.width + BOX.gapX),
        y: BOX.margin + row * (BOX.height + BOX.gapY),
        ...stepState(newest.get(step)),
      });
    }),
  );
  const edges: Edge[] = [];
  for (const [step, spec] of Object.entries(steps)) {
    const to = place.get(step);
    for (const need of spec.needs ?? []) {
      const from = place.get(need);
      if (!from || !to) continue;
      const [x1, y1] = [from.x + BOX.width, from.y + BOX.height / 2];
      const [x2, y2] = [to.x, to.y + BOX.height / 2];
      const bend = (x2 - x1) / 2;
      edges.push({ from: need, to: step, path: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}` });
    }
  }
  const tallest = Math.max(0, ...layers.map((layer) => layer.length));
  return {
    boxes: [...place.values()],
    edges,
    width: 2 * BOX.margin + layers.length * BOX.width + Math.max(0, layers.length - 1) * BOX.gapX,
    height: 2 * BOX.margin + tallest * BOX.height + Math.max(0, tallest - 1) * BOX.gapY,
  };
}
