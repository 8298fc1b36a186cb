import { describe, expect, it } from "vitest";
import { href, parse } from "./route";

describe("routes", () => {
  it("round-trip through the hash", () => {
    for (const route of [
      { page: "experiments" as const },
      { page: "runs" as const, experimentId: "a b/c" },
      { page: "run" as const, runId: "0123abcd" },
      { page: "compare" as const, runIds: ["r1", "r2", "r3"] },
      { page: "models" as const },
      { page: "model" as const, name: "churn/v2 model" },
      { page: "endpoints" as const },
      { page: "endpoint" as const, name: "iris-ep" },
      { page: "designer" as const },
    ]) {
      expect(parse(href(route))).toEqual(route);
    }
  });
  it("send anything unknown to the experiments", () => {
    expect(parse("")).toEqual({ page: "experiments" });
    expect(parse("#/nowhere/1")).toEqual({ page: "experiments" });
    expect(parse("#/runs")).toEqual({ page: "experiments" });
  });
});
