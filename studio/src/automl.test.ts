import { describe, expect, it } from "vitest";
import type { Run } from "./api";
import { automlBoard, automlObjective, importanceBars } from "./automl";
import { parseTable } from "./tables";

function trial(n: number, status: string, value?: number): Run {
  return {
    id: `t${n}`,
    status,
    tags: { "automl.trial": String(n), "automl.learner": "LightGBM" },
    params: {},
    metrics: value === undefined ? {} : { accuracy: value, normalized_root_mean_squared_error: value },
  } as unknown as Run;
}

const parent = (tags: Record<string, string>) => ({ tags }) as unknown as Run;

describe("automl objective", () => {
  it("needs the task tag and takes the goal from the metric", () => {
    const tags = { "automl.task": "regression", "automl.primary_metric": "normalized_root_mean_squared_error" };
    expect(automlObjective(parent(tags))).toEqual({ metric: tags["automl.primary_metric"], goal: "minimize" });
    expect(automlObjective(parent({ ...tags, "automl.primary_metric": "accuracy" }))?.goal).toBe("maximize");
    expect(automlObjective(parent({ "automl.primary_metric": "accuracy" }))).toBeNull();
    expect(automlObjective(parent({ "sweep.primary_metric": "loss" }))).toBeNull();
  });
});

describe("automl leaderboard", () => {
  const trials = [trial(0, "completed", 0.8), trial(1, "failed"), trial(2, "completed", 0.9), trial(3, "completed", 0.7)];
  it("ranks by the goal under AutoML's tags and marks the best the driver named", () => {
    const rows = automlBoard(parent({ "automl.best_run_id": "t0" }), trials, "accuracy", "maximize");
    expect(rows.map((r) => r.trial)).toEqual([2, 0, 3, 1]);
    expect(rows.map((r) => r.rank)).toEqual([1, 2, 3, null]);
    expect(rows.filter((r) => r.best).map((r) => r.run.id)).toEqual(["t0"]); // the one that refit in time
    expect(rows.some((r) => r.stoppedEarly)).toBe(false);
    const low = automlBoard(parent({}), trials, "normalized_root_mean_squared_error", "minimize");
    expect(low.map((r) => r.trial)).toEqual([3, 0, 2, 1]);
  });
});

describe("feature importance", () => {
  it("draws importance as bars of the largest, largest first, negatives at zero", () => {
    const table = parseTable({ feature: ["x", "y", "z", "w"], importance: [0.1, 0.4, -0.05, null] });
    expect(importanceBars(table)).toEqual([
      { feature: "y", importance: 0.4, fraction: 1 },
      { feature: "x", importance: 0.1, fraction: 0.25 },
      { feature: "z", importance: -0.05, fraction: 0 },
    ]);
    expect(importanceBars(parseTable({ feature: ["x"] }))).toEqual([]);
    expect(importanceBars(null)).toEqual([]);
  });
});
