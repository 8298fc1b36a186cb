import { describe, expect, it } from "vitest";
import type { Run } from "./api";
import { cellOf, columnsOf, defaultPair, rowsOf, shared, valueOf } from "./compare";
import { parallel } from "./parallel";

function run(id: string, params: Record<string, string>, metrics: Record<string, number | string>): Run {
  return { id, name: id === "r3" ? "" : `run ${id}`, params, metrics } as unknown as Run;
}

const RUNS = [
  run("r1", { lr: "0.1", opt: "sgd" }, { loss: 0.5, acc: 0.8 }),
  run("r2", { lr: "0.3", opt: "adam" }, { loss: 0.2, acc: 0.9 }),
  run("r3", { lr: "0.2" }, { loss: "NaN", acc: 0.7 }),
];

describe("compare columns", () => {
  it("lists every param, then every metric, each in name order", () => {
    expect(columnsOf(RUNS)).toEqual(["params.lr", "params.opt", "metrics.acc", "metrics.loss"]);
  });
  it("reads a run's value of a column; a missing param or a NaN metric has none", () => {
    expect(valueOf(RUNS[0], "params.opt")).toBe("sgd");
    expect(valueOf(RUNS[1], "metrics.loss")).toBe("0.2");
    expect(valueOf(RUNS[2], "params.opt")).toBeUndefined();
    expect(valueOf(RUNS[2], "metrics.loss")).toBeUndefined();
    expect([cellOf(RUNS[2], "params.opt"), cellOf(RUNS[2], "metrics.loss"), cellOf(RUNS[0], "metrics.acc")]).toEqual([
      "",
      "NaN",
      "0.80000",
    ]);
  });
  it("keeps for the parallel axes the columns every run has", () => {
    const rows = rowsOf(RUNS, columnsOf(RUNS));
    expect(rows.map((r) => r.name)).toEqual(["run r1", "run r2", "r3"]);
    expect(shared(rows, columnsOf(RUNS))).toEqual(["params.lr", "metrics.acc"]);
  });
  it("places a scatter's points on a numeric and a categorical axis, leaving out runs without both", () => {
    const { axes, lines } = parallel(rowsOf(RUNS, columnsOf(RUNS)), ["params.opt", "metrics.loss"]);
    expect(axes.map((a) => a.kind)).toEqual(["category", "number"]);
    expect(lines.map((l) => [l.row.key, ...l.points])).toEqual([
      ["r1", 1, 1],
      ["r2", 0, 0],
    ]);
  });
  it("starts the scatter at the first param against the first metric", () => {
    expect(defaultPair(columnsOf(RUNS))).toEqual(["params.lr", "metrics.acc"]);
    expect(defaultPair(["metrics.a", "metrics.b"])).toEqual(["metrics.a", "metrics.b"]);
    expect(defaultPair(["params.a"])).toEqual(["params.a", "params.a"]);
    expect(defaultPair([])).toEqual(["", ""]);
  });
});
