import { describe, expect, it } from "vitest";
import { requestBody, splitLine, trafficOf } from "./endpoints";

describe("traffic split", () => {
  it("takes whole percents adding up to 100, an empty field as 0", () => {
    expect(trafficOf({ blue: "70", green: "30", cold: "" })).toEqual({ weights: { blue: 70, green: 30, cold: 0 } });
  });
  it("says what is wrong", () => {
    expect(trafficOf({ blue: "70", green: "20" })).toEqual({ problem: "the split adds up to 90%, not 100%" });
    expect(trafficOf({ blue: "99.5", green: "0.5" })).toHaveProperty("problem", 'blue: a whole percent from 0 to 100, not "99.5"');
    expect(trafficOf({ blue: "-10", green: "110" })).toHaveProperty("problem");
    expect(trafficOf({ blue: "lots" })).toHaveProperty("problem");
  });
  it("reads as a line, the largest share first", () => {
    expect(splitLine({ green: 30, blue: 70, cold: 0 })).toBe("blue 70% · green 30%");
    expect(splitLine({})).toBe("no traffic");
  });
});

describe("test request", () => {
  it("parses the body or says why not", () => {
    expect(requestBody('{"data": [[1, 2]]}')).toEqual({ body: { data: [[1, 2]] } });
    expect(requestBody("{data")).toHaveProperty("problem");
  });
});
