import { describe, expect, it } from "vitest";
import type { Series } from "./api";
import { fetchSeries, MAX_SERIES_RUNS, seriesUrls } from "./series";

const ids = (n: number) => Array.from({ length: n }, (_, i) => `r${i}`);

function series(runId: string): Series & { run_id: string } {
  return { run_id: runId, key: "loss", total: 1, exact: true, steps: [0], values: [Number(runId.slice(1))], timestamps: [1] };
}

describe("batched series", () => {
  it("names every run once per request, at most MAX_SERIES_RUNS a request, with the cut", () => {
    const urls = seriesUrls(ids(MAX_SERIES_RUNS + 3), "loss", { points: 900, min_step: 10, max_step: undefined });
    expect(urls).toHaveLength(2);
    const first = new URL(urls[0], "http://x");
    expect(first.pathname).toBe("/api/v1/metric-series");
    expect(first.searchParams.getAll("run_id")).toEqual(ids(MAX_SERIES_RUNS));
    expect([first.searchParams.get("key"), first.searchParams.get("points"), first.searchParams.get("min_step")]).toEqual([
      "loss",
      "900",
      "10",
    ]);
    expect(first.searchParams.has("max_step")).toBe(false);
    expect(new URL(urls[1], "http://x").searchParams.getAll("run_id")).toEqual(["r100", "r101", "r102"]);
  });

  it("gives the series in the runs' order whatever order the answers list them", async () => {
    const asked: string[] = [];
    const get = async (path: string) => {
      asked.push(path);
      const runs = new URL(path, "http://x").searchParams.getAll("run_id");
      return { series: runs.reverse().map(series) };
    };
    const got = await fetchSeries(ids(150), "loss", { points: 500 }, get);
    expect(asked).toHaveLength(2);
    expect(got.map((s) => s.values[0])).toEqual(ids(150).map((_, i) => i));
  });

  it("fails, naming the run, when a series is missing from the answer", async () => {
    const get = async () => ({ series: [series("r0")] });
    await expect(fetchSeries(["r0", "r1"], "loss", { points: 500 }, get)).rejects.toThrow("run r1");
  });
});
