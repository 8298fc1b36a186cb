import { describe, expect, it } from "vitest";
import { previewKind } from "./artifacts";

describe("previewKind", () => {
  it("names how each file is previewed, by its name", () => {
    const names = ["plot.PNG", "data/rows.csv", "a.tsv", "part-0.parquet", "model/MLmodel", "logs/std_log.txt", "conf.yaml", "requirements.txt"];
    expect(names.map(previewKind)).toEqual(["image", "csv", "tsv", "parquet", "mlmodel", "text", "text", "text"]);
  });

  it("previews no binary file, and no file merely ending in MLmodel", () => {
    expect(["model.pkl", "weights.bin", "notMLmodel", "MLmodel.bak"].map(previewKind)).toEqual([null, null, null, null]);
  });
});
