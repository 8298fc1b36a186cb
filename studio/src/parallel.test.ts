import { describe, expect, it } from "vitest";
import type { Run } from "./api";
import { parallel, place } from "./parallel";
import type { Trial } from "./sweep";

function trial(n: number, params: Record<string, string>, value: number | null): Trial {
  return { run: { id: `t${n}`, params } as unknown as Run, trial: n, value, rank: null, stoppedEarly: false, best: false };
}

describe("parallel coordinates", () => {
  const trials = [
    trial(0, { lr: "0.1", opt: "sgd" }, 0.5),
    trial(1, { lr: "0.3", opt: "adam" }, 0.9),
    trial(2, { lr: "0.2", opt: "adam" }, 0.1),
    trial(3, { lr: "0.2" }, 0.3), // no opt: not drawn
    trial(4, { lr: "0.5", opt: "sgd" }, null), // no value yet: not drawn
  ];
  it("makes a numeric axis of numbers and a categorical one of the rest, the metric last", () => {
    const { axes } = parallel(trials, ["lr", "opt"], "loss");
    expect(axes).toEqual([
      { name: "lr", kind: "number", min: 0.1, max: 0.3 },
      { name: "opt", kind: "category", values: ["adam", "sgd"] },
      { name: "loss", kind: "number", min: 0.1, max: 0.9 },
    ]);
  });
  it("draws a line per trial with every value, each point between 0 and 1", () => {
    const { lines } = parallel(trials, ["lr", "opt"], "loss");
    expect(lines.map((l) => l.trial.trial)).toEqual([0, 1, 2]);
    expect(lines[0].points).toEqual([0, 1, 0.5]);
    expect(lines[1].points[0]).toBeCloseTo(1);
    expect(lines[2].points[2]).toBe(0);
  });
  it("puts a lone value in the middle and an unknown one nowhere", () => {
    expect(place({ name: "x", kind: "number", min: 2, max: 2 }, "2")).toBe(0.5);
    expect(place({ name: "x", kind: "category", values: ["a"] }, "a")).toBe(0.5);
    expect(place({ name: "x", kind: "category", values: ["a"] }, "b")).toBeNull();
    expect(place({ name: "x", kind: "number", min: 0, max: 1 }, "")).toBeNull();
  });
});
