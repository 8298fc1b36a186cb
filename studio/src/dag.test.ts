import { describe, expect, it } from "vitest";
import type { JobRecord, Run } from "./api";
import { BOX, layout, newestByStep } from "./dag";

function child(step: string, status: string, created_at: number, id = `${step}-${created_at}`): Run {
  return { id, status, created_at, tags: { "pipeline.step": step } } as unknown as Run;
}

const JOB: JobRecord = {
  type: "pipeline",
  layers: [["prep"], ["train", "eval_data"], ["score"]],
  steps: { prep: {}, train: { needs: ["prep"] }, eval_data: { needs: ["prep"] }, score: { needs: ["train", "eval_data"] } },
};

describe("pipeline DAG", () => {
  it("puts each layer in a column, its steps one under another", () => {
    const dag = layout(JOB, []);
    const at = Object.fromEntries(dag.boxes.map((b) => [b.step, [b.x, b.y]]));
    expect(at.prep).toEqual([BOX.margin, BOX.margin]);
    expect(at.train[0]).toBe(at.eval_data[0]);
    expect(at.eval_data[1]).toBe(at.train[1] + BOX.height + BOX.gapY);
    expect(at.score[0]).toBeGreaterThan(at.train[0] + BOX.width);
    expect(dag.width).toBe(2 * BOX.margin + 3 * BOX.width + 2 * BOX.gapX);
    expect(dag.height).toBe(2 * BOX.margin + 2 * BOX.height + BOX.gapY);
  });
  it("draws an edge from every step a step needs, left to right", () => {
    const dag = layout(JOB, []);
    expect(dag.edges.map((e) => `${e.from}>${e.to}`).sort()).toEqual([
      "eval_data>score",
      "prep>eval_data",
      "prep>train",
      "train>score",
    ]);
    const first = dag.edges.find((e) => e.to === "train")!;
    expect(first.path.startsWith(`M${BOX.margin + BOX.width},`)).toBe(true);
  });
  it("shows each step's newest run, and steps with none as not started", () => {
    const runs = [child("prep", "failed", 1), child("prep", "completed", 5, "prep-retry"), child("train", "running", 6)];
    expect(newestByStep(runs).get("prep")?.id).toBe("prep-retry");
    const boxes = Object.fromEntries(layout(JOB, runs).boxes.map((b) => [b.step, b]));
    expect(boxes.prep.status).toBe("completed");
    expect(boxes.prep.runId).toBe("prep-retry");
    expect(boxes.train.status).toBe("running");
    expect(boxes.score).toMatchObject({ status: "not started", runId: null });
  });
  it("is empty for a record with no steps", () => {
    expect(layout({ type: "pipeline" }, [])).toMatchObject({ boxes: [], edges: [] });
  });
});
