import { describe, expect, it } from "vitest";
import type { ModelVersion } from "./api";
import { aliasesOf, newestFirst } from "./registry";

describe("registry", () => {
  it("groups aliases by the version they point at, sorted", () => {
    const byVersion = aliasesOf({ prod: 2, canary: 3, champion: 2 });
    expect(byVersion.get(2)).toEqual(["champion", "prod"]);
    expect(byVersion.get(3)).toEqual(["canary"]);
    expect(byVersion.has(1)).toBe(false);
  });
  it("lists the newest version first", () => {
    const versions = [1, 10, 2].map((version) => ({ version }) as ModelVersion);
    expect(newestFirst(versions).map((v) => v.version)).toEqual([10, 2, 1]);
  });
});
