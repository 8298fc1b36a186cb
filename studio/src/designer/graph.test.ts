import { describe, expect, it } from "vitest";
import { addNode, connect, emptyDraft, removeNode, type ComponentSpec } from "./graph";
import { push, redo, start, undo } from "./undo";
import { parseField } from "./params";

const port = (kind: string) => ({ kind, description: "", optional: false });
const spec = (name: string, inputs: Record<string, string>, outputs: Record<string, string>): ComponentSpec => ({
  name, display_name: name, category: "c", description: "",
  inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, port(v)])),
  outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, port(v)])),
  params: { properties: {}, required: [] },
});
const cat = {
  split: spec("split", { data: "table" }, { train: "table" }),
  train: spec("train", { model: "untrained_model", data: "table" }, { model: "model" }),
  script: spec("script", {}, { files: "uri_folder" }),
};

describe("graph", () => {
  it("connects matching kinds and refuses others and cycles", () => {
    let d = addNode(addNode(emptyDraft, "split", 0, 0), "train", 100, 0);
    const bad = connect(d, cat, { from: { node: "split_1", port: "train" }, to: { node: "train_1", port: "model" } });
    expect("error" in bad && bad.error).toBe("step 'train_1' input 'model' takes a untrained_model but is wired to a table");
    const ok = connect(d, cat, { from: { node: "split_1", port: "train" }, to: { node: "train_1", port: "data" } });
    if (!("draft" in ok)) throw new Error(ok.error);
    d = ok.draft;
    expect(d.wires).toHaveLength(1);
    expect(removeNode(d, "train_1").wires).toHaveLength(0);
  });
  it("lets a plain folder into a typed port, as the CLI does", () => {
    const d = addNode(addNode(emptyDraft, "script", 0, 0), "train", 100, 0);
    const ok = connect(d, cat, { from: { node: "script_1", port: "files" }, to: { node: "train_1", port: "model" } });
    expect("draft" in ok).toBe(true);
  });
  it("undoes and redoes", () => {
    const h = push(start(emptyDraft), addNode(emptyDraft, "split", 0, 0));
    expect(undo(h).present.nodes).toHaveLength(0);
    expect(redo(undo(h)).present.nodes).toHaveLength(1);
  });
  it("checks a field against its schema", () => {
    expect(parseField({ type: "integer", minimum: 1 }, "0")).toEqual({ error: "must be at least 1" });
    expect(parseField({ type: "number" }, "0.5")).toEqual({ value: 0.5 });
  });
});
