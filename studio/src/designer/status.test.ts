import { describe, expect, it } from "vitest";
import type { Run } from "../api";
import { cellText, shownOf, statRows, type OutputPreview } from "./preview";
import { nodeStatuses, stillRunning } from "./status";

function child(step: string, status: string, created_at: number, extra: Partial<Run> = {}): Run {
  return {
    id: `${step}-${created_at}`,
    status,
    created_at,
    start_time: null,
    end_time: null,
    tags: { "pipeline.step": step },
    ...extra,
  } as unknown as Run;
}

describe("a submitted pipeline's modules", () => {
  it("take their newest run's status, with its duration", () => {
    const runs = [
      child("split", "failed", 1, { start_time: 10, end_time: 12 }),
      child("split", "completed", 5, { start_time: 20, end_time: 23.5 }),
      child("train", "running", 6, { start_time: 30 }),
      child("score", "queued", 7),
    ];
    const shown = nodeStatuses(["split", "train", "score", "evaluate"], runs, 42);
    expect(shown.get("split")).toMatchObject({ status: "completed", duration: "3.5 s", holder: "split-5" });
    expect(shown.get("train")).toMatchObject({ status: "running", duration: "12 s" });
    expect(shown.get("score")).toMatchObject({ status: "queued", duration: "" });
    expect(shown.get("evaluate")).toEqual({ status: "not started", run: null, holder: null, duration: "" });
  });
  it("say reused for a completed step that took another run's outputs, which it then shows", () => {
    const reused = child("split", "completed", 1, { tags: { "pipeline.step": "split", "pipeline.reused_from": "r0" } });
    expect(nodeStatuses(["split"], [reused]).get("split")).toMatchObject({ status: "reused", holder: "r0" });
    const failed = { ...reused, status: "failed" } as Run;
    expect(nodeStatuses(["split"], [failed]).get("split")?.status).toBe("failed");
  });
  it("are read again until the pipeline run ends", () => {
    expect(stillRunning(null)).toBe(true);
    expect(stillRunning(child("p", "running", 1))).toBe(true);
    expect(stillRunning(child("p", "completed", 1))).toBe(false);
    expect(stillRunning(child("p", "failed", 1))).toBe(false);
  });
});

describe("an output table's preview", () => {
  const preview: OutputPreview = {
    run_id: "r",
    port: "scored_dataset",
    kind: "table",
    tables: [],
    table: null,
    rows: 250_000,
    columns: 120,
    stats_rows: 100_000,
    column_names: ["x", "city"],
    head: [[1.23456789, "a"], [null, "b"]],
    stats: [
      { name: "x", dtype: "float64", count: 3, missing: 1, unique: 3, mean: 0.333333333, min: 0, max: 12345678.9 },
      { name: "city", dtype: "object", count: 4, missing: 0, unique: 2, mean: null, min: null, max: null },
    ],
  };
  it("reads cells as the metrics do, missing ones empty", () => {
    expect([cellText(1.23456789), cellText(3), cellText(null), cellText(true), cellText("a")]).toEqual([
      "1.2346",
      "3",
      "",
      "true",
      "a",
    ]);
  });
  it("has a line of statistics per column", () => {
    expect(statRows(preview.stats!)).toEqual([
      ["x", "float64", "3", "1", "3", "0.33333", "0", "1.2346e+7"],
      ["city", "object", "4", "0", "2", "", "", ""],
    ]);
  });
  it("says what part of the table is shown", () => {
    expect(shownOf(preview)).toBe(
      "250000 rows, 120 columns; the first 2 shown; the first 2 columns; statistics over the first 100000 rows",
    );
    expect(shownOf({ ...preview, rows: 2, columns: 2, stats_rows: 2 })).toBe("2 rows, 2 columns");
  });
});
