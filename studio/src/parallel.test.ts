import { describe, expect, it } from "vitest";
import { parallel, place, ticks, type Row } from "./parallel";

function row(key: string, values: Record<string, string | undefined>): Row {
  return { key, name: key, values };
}

describe("parallel coordinates", () => {
  const rows = [
    row("a", { lr: "0.1", opt: "sgd", loss: "0.5" }),
    row("b", { lr: "0.3", opt: "adam", loss: "0.9" }),
    row("c", { lr: "0.2", opt: "adam", loss: "0.1" }),
    row("d", { lr: "0.2", loss: "0.3" }), // no opt: not drawn
    row("e", { lr: "0.5", opt: "sgd", loss: undefined }), // no loss yet: not drawn
  ];
  it("makes a numeric axis of numbers and a categorical one of the rest, in the columns' order", () => {
    const { axes } = parallel(rows, ["lr", "opt", "loss"]);
    expect(axes).toEqual([
      { name: "lr", kind: "number", min: 0.1, max: 0.3 },
      { name: "opt", kind: "category", values: ["adam", "sgd"] },
      { name: "loss", kind: "number", min: 0.1, max: 0.9 },
    ]);
  });
  it("draws a line per row with every value, each point between 0 and 1", () => {
    const { lines } = parallel(rows, ["lr", "opt", "loss"]);
    expect(lines.map((l) => l.row.key)).toEqual(["a", "b", "c"]);
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
  it("labels a numeric axis at its ends and a categorical one at every value", () => {
    expect(ticks({ name: "x", kind: "number", min: 1, max: 3 })).toEqual([
      { at: 0, label: "1" },
      { at: 1, label: "3" },
    ]);
    expect(ticks({ name: "x", kind: "number", min: 2, max: 2 })).toEqual([{ at: 0.5, label: "2" }]);
    expect(ticks({ name: "x", kind: "category", values: ["a", "b", "c"] }).map((t) => t.at)).toEqual([0, 0.5, 1]);
  });
});
