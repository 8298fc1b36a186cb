import { describe, expect, it } from "vitest";
import { smooth, smoothedSeries, withSmoothed } from "./smooth";

describe("smoothing", () => {
  it("is the debiased exponential moving average", () => {
    // weight 0.5: averages 0.5, 1.75, 2.875 over 1 - 0.5^n = 0.5, 0.75, 0.875
    const [a, b, c] = smooth([1, 3, 4], 0.5) as number[];
    expect(a).toBeCloseTo(1); // the first point is itself, not pulled towards 0
    expect(b).toBeCloseTo(1.75 / 0.75);
    expect(c).toBeCloseTo(2.875 / 0.875);
  });
  it("keeps gaps and goes on past them", () => {
    const smoothed = smooth([1, null, 3, null], 0.5);
    expect(smoothed[1]).toBeNull();
    expect(smoothed[3]).toBeNull();
    expect(smoothed[2]).toBeCloseTo(1.75 / 0.75); // as if the gap were not there
  });
  it("leaves a series as it is at 0 and a constant one at any weight", () => {
    expect(smooth([1, 5, 2], 0)).toEqual([1, 5, 2]);
    expect(smooth([2, null, 2, 2], 0.9)).toEqual([2, null, 2, 2]);
  });
  it("puts each series' smoothed copy after it, drawn over its faint self", () => {
    expect(withSmoothed([[0, 1], [4, null], [2, 2]], 0.5)).toEqual([[0, 1], [4, null], [4, null], [2, 2], [2, 2]]);
    expect(withSmoothed([[0], [1]], 0)).toEqual([[0], [1]]);
    const line = { label: "loss", stroke: "#2563eb" };
    expect(smoothedSeries(line, 0)).toEqual([line]);
    expect(smoothedSeries(line, 0.6)).toEqual([{ label: "loss (raw)", stroke: "#2563eb40" }, line]);
  });
});
