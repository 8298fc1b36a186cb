import { describe, expect, it } from "vitest";
import { runsWord, tagChange } from "./bulk";

describe("bulk tag changes", () => {
  it("reads key=value as a tag to set, split at the first =", () => {
    expect(tagChange(" team = vision", false)).toEqual({ set: { team: "vision" }, remove: [] });
    expect(tagChange("expr=a=b", false)).toEqual({ set: { expr: "a=b" }, remove: [] });
    expect(tagChange("empty=", false)).toEqual({ set: { empty: "" }, remove: [] });
  });
  it("reads a key alone as a tag to remove", () => {
    expect(tagChange(" team ", true)).toEqual({ set: {}, remove: ["team"] });
  });
  it("says what to fix", () => {
    expect(tagChange("", false)).toBe("write key=value");
    expect(tagChange("=v", false)).toBe("write key=value");
    expect(tagChange("team", false)).toContain("team=value");
    expect(tagChange("team=x", true)).toContain("key alone");
    expect(tagChange("  ", true)).toContain("key of the tag");
  });
  it("counts runs", () => {
    expect(runsWord(1)).toBe("1 run");
    expect(runsWord(2)).toBe("2 runs");
  });
});
