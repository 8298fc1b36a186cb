import { describe, expect, it } from "vitest";
import { bytes, duration, metric, searchKey } from "./format";

describe("format", () => {
  it("writes durations in the largest sensible unit", () => {
    expect(duration(null, null)).toBe("");
    expect(duration(100, 103.2)).toBe("3.2 s");
    expect(duration(0, 125)).toBe("2 min 5 s");
    expect(duration(0, 7260)).toBe("2 h 1 min");
    expect(duration(10, null, 40)).toBe("30 s");
  });
  it("keeps metrics short and NaN as the server sent it", () => {
    expect(metric(0.123456789)).toBe("0.12346");
    expect(metric(3)).toBe("3");
    expect(metric(1e-7)).toBe("1.0000e-7");
    expect(metric("NaN")).toBe("NaN");
    expect(metric(undefined)).toBe("");
  });
  it("sizes files", () => {
    expect(bytes(12)).toBe("12 B");
    expect(bytes(2048)).toBe("2.0 KB");
  });
  it("quotes search keys that are not plain words", () => {
    expect(searchKey("metrics", "val.loss")).toBe("metrics.val.loss");
    expect(searchKey("params", "learning rate")).toBe("params.`learning rate`");
  });
});
