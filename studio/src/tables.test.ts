import { describe, expect, it } from "vitest";
import { cellText, parseTable, tableChart, type Table } from "./tables";

describe("parseTable", () => {
  it("turns columns into rows and refuses other shapes", () => {
    expect(parseTable({ guardrail: ["a", "b"], status: ["done", "passed"] })).toEqual({
      columns: ["guardrail", "status"],
      rows: [
        ["a", "done"],
        ["b", "passed"],
      ],
    });
    expect(parseTable({})).toEqual({ columns: [], rows: [] });
    expect(parseTable({ a: [1], b: [1, 2] })).toBeNull();
    expect(parseTable({ a: 1 })).toBeNull();
    expect(parseTable([1, 2])).toBeNull();
    expect(parseTable(null)).toBeNull();
  });
});

describe("tableChart", () => {
  const table = (json: Record<string, unknown[]>): Table => parseTable(json)!;

  it("draws the numeric columns against a numeric first column as lines, in x order", () => {
    const chart = tableChart(table({ epoch: [2, 0, 1], loss: [0.2, 0.9, 0.5], acc: [0.8, "NaN", null], note: ["c", "a", "b"] }));
    expect(chart).toEqual({
      kind: "line",
      xName: "epoch",
      x: [0, 1, 2],
      labels: null,
      series: [
        { name: "loss", values: [0.9, 0.5, 0.2] },
        { name: "acc", values: [null, null, 0.8] },
      ],
    });
  });

  it("leaves out rows without an x and draws bars over a text first column", () => {
    expect(tableChart(table({ step: [1, null, 3], loss: [1, 2, 3] }))?.x).toEqual([1, 3]);
    expect(tableChart(table({ phase: ["fit", "score"], seconds: [1.5, 0.25], who: ["a", "b"] }))).toEqual({
      kind: "bars",
      xName: "phase",
      x: [0, 1],
      labels: ["fit", "score"],
      series: [{ name: "seconds", values: [1.5, 0.25] }],
    });
  });

  it("draws a table of one numeric column against the row number", () => {
    expect(tableChart(table({ loss: [3, 2] }))).toMatchObject({ kind: "line", xName: "row", x: [0, 1] });
  });

  it("draws nothing for a table without numbers, or without rows", () => {
    expect(tableChart(table({ guardrail: ["a"], status: ["passed"] }))).toBeNull();
    expect(tableChart(table({ x: [1, 2], y: [1, "two"] }))).toBeNull(); // a mixed column is text
    expect(tableChart(table({ x: [], y: [] }))).toBeNull();
    expect(tableChart(table({}))).toBeNull();
    expect(tableChart(table({ words: ["a"] }))).toBeNull();
  });
});

describe("cellText", () => {
  it("writes empties as nothing and objects as JSON", () => {
    expect([null, undefined, 1.5, "a", true, [1, 2], { a: 1 }].map(cellText)).toEqual(["", "", "1.5", "a", "true", "[1,2]", '{"a":1}']);
  });
});
