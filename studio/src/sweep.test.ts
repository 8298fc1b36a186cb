import { describe, expect, it } from "vitest";
import type { Run } from "./api";
import { leaderboard, objectiveOf, paramNames, trialRows } from "./sweep";

function trial(n: number, status: string, loss?: number | "NaN", tags: Record<string, string> = {}): Run {
  return {
    id: `t${n}`,
    status,
    tags: { "sweep.trial": String(n), ...tags },
    params: { lr: String(n / 10), ...(n % 2 ? { depth: "3" } : {}) },
    metrics: loss === undefined ? {} : { loss },
  } as unknown as Run;
}

const PARENT = { tags: { "sweep.best_run_id": "t2" } } as unknown as Run;
const TRIALS = [
  trial(0, "completed", 0.5),
  trial(1, "canceled", 0.9, { "sweep.early_terminated": "true" }),
  trial(2, "completed", 0.2),
  trial(3, "running", 0.1),
  trial(4, "failed"),
  trial(5, "completed", 0.5),
  trial(6, "completed", "NaN"),
];

describe("sweep leaderboard", () => {
  it("ranks completed trials by the goal, ties by trial number, the rest after by trial", () => {
    const rows = leaderboard(PARENT, TRIALS, "loss", "minimize");
    expect(rows.map((r) => r.trial)).toEqual([2, 0, 5, 1, 3, 4, 6]);
    expect(rows.map((r) => r.rank)).toEqual([1, 2, 3, null, null, null, null]);
    expect(rows.find((r) => r.trial === 3)?.value).toBe(0.1); // shown, though not ranked yet
    expect(rows.find((r) => r.trial === 6)?.value).toBeNull();
  });
  it("puts the largest first when maximizing", () => {
    expect(leaderboard(PARENT, TRIALS, "loss", "maximize").map((r) => r.trial).slice(0, 3)).toEqual([0, 5, 2]);
  });
  it("marks the best the driver named and the trials stopped early", () => {
    const rows = leaderboard(PARENT, TRIALS, "loss", "minimize");
    expect(rows.filter((r) => r.best).map((r) => r.trial)).toEqual([2]);
    expect(rows.filter((r) => r.stoppedEarly).map((r) => r.trial)).toEqual([1]);
  });
  it("reads the objective from the job record, and the params of every trial", () => {
    expect(objectiveOf({ type: "sweep", sweep: { objective: { primary_metric: "auc", goal: "maximize" } } })).toEqual({
      metric: "auc",
      goal: "maximize",
    });
    expect(objectiveOf({ type: "command" })).toBeNull();
    expect(paramNames(TRIALS)).toEqual(["depth", "lr"]);
  });
  it("makes a line of each trial's params and value, the best and the stopped marked", () => {
    const rows = trialRows(leaderboard(PARENT, TRIALS, "loss", "minimize"), "loss");
    expect(rows[0]).toEqual({ key: "t2", name: "trial 2", className: "pc-best", values: { lr: "0.2", loss: "0.2" } });
    expect(rows.find((r) => r.key === "t1")?.className).toBe("pc-stopped");
    expect(rows.find((r) => r.key === "t4")?.values.loss).toBeUndefined(); // no value: no line
  });
});
