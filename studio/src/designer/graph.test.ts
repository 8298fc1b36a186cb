import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { addNode, connect, dataParam, emptyDraft, layout, pasteNode, removeNode, setDataParam, setParam, type ComponentSpec } from "./graph";
import { push, redo, start, undo } from "./undo";
import { codeText, formatG, isCode, parseField } from "./params";
import { componentName, fromYaml, toYaml } from "./pipeline";

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
  it("pins a registered command component to its version in the YAML", () => {
    const registered = { ...spec("train_churn", { data: "uri_folder" }, { model: "model" }), kind: "command", version: "3" };
    const d = addNode(emptyDraft, registered, 0, 0);
    expect(parse(toYaml(d)).jobs.train_churn_1.component).toBe("azureml:train_churn:3");
    expect(componentName("azureml:train_churn:3")).toBe("train_churn");
  });
  it("reads a data asset through a pipeline input, dropped with the module or another value", () => {
    const d = setDataParam(addNode(emptyDraft, "split", 0, 0), "split_1", "path", "azureml:churn:2", "uri_file");
    expect(parse(toYaml(d))).toEqual({
      type: "pipeline",
      experiment_name: "designer",
      inputs: { split_1_path: { type: "uri_file", path: "azureml:churn:2" } },
      jobs: { split_1: { component: "azureml:split", inputs: { path: "${{parent.inputs.split_1_path}}" } } },
    });
    expect(dataParam(d, "split_1", "path")).toBe("azureml:churn:2");
    expect(setParam(d, "split_1", "path", "/data/x.csv").pipeline.inputs).toBeUndefined();
    expect(removeNode(d, "split_1").pipeline).toEqual({ experiment_name: "designer" });
  });
  it("pastes a copy of a node with its parameters and a fresh name, without its wires", () => {
    const d = setParam(addNode(emptyDraft, "split", 0, 0), "split_1", "fraction", 0.4);
    const pasted = pasteNode(d, d.nodes[0]);
    expect(pasted.nodes.map((n) => [n.id, n.params.fraction])).toEqual([["split_1", 0.4], ["split_2", 0.4]]);
    expect(pasted.nodes[1].x).toBe(30);
  });
  it("lays nodes out by depth", () => {
    let d = addNode(addNode(emptyDraft, "split", 0, 0), "train", 0, 0);
    const ok = connect(d, cat, { from: { node: "split_1", port: "train" }, to: { node: "train_1", port: "data" } });
    if (!("draft" in ok)) throw new Error(ok.error);
    d = layout(ok.draft);
    const [split, train] = d.nodes;
    expect(train.y).toBeGreaterThan(split.y);
  });
  it("puts a module nothing feeds just above the module it feeds", () => {
    let d = addNode(addNode(addNode(addNode(emptyDraft, "split", 0, 0), "split", 0, 0), "script", 0, 0), "train", 0, 0);
    for (const wire of [
      { from: { node: "split_1", port: "train" }, to: { node: "split_2", port: "data" } },
      { from: { node: "split_2", port: "train" }, to: { node: "train_1", port: "data" } },
      { from: { node: "script_1", port: "files" }, to: { node: "train_1", port: "model" } },
    ]) {
      const ok = connect(d, cat, wire);
      if (!("draft" in ok)) throw new Error(ok.error);
      d = ok.draft;
    }
    const at = Object.fromEntries(layout(d).nodes.map((n) => [n.id, [n.x, n.y]]));
    expect(at.script_1[1]).toBe(at.split_2[1]); // beside split_2, not at the top
    expect(at.script_1[0]).toBeGreaterThan(at.split_2[0]); // after the one that has a feed
    expect(at.train_1[1]).toBeGreaterThan(at.split_2[1]);
  });
});

describe("parameters, in the CLI's words (components/params.py)", () => {
  it("refuses out-of-range and mistyped values as the CLI says it", () => {
    const fraction = { type: "number", exclusiveMinimum: 0, exclusiveMaximum: 1 };
    // the same line tests/integration/test_designer_routes.py gets from the CLI and the route
    expect(parseField("fraction", fraction, "1.5")).toEqual({ error: "fraction must be between 0 and 1 (exclusive), got 1.5" });
    expect(parseField("fraction", fraction, "0.25")).toEqual({ value: 0.25 });
    expect(parseField("seed", { type: "integer", minimum: 0 }, "-1")).toEqual({ error: "seed must be at least 0, got -1" });
    expect(parseField("seed", { type: "integer" }, "2.5")).toEqual({ error: "seed must be a whole number, got 2.5" });
    expect(parseField("alpha", { type: "number" }, "abc")).toEqual({ error: "alpha must be a number, got 'abc'" });
    expect(parseField("c", { type: "number", minimum: 1e-6, maximum: 10 }, "20")).toEqual({
      error: "c must be between 1e-06 and 10, got 20.0",
    });
    expect(parseField("mode", { type: "string", enum: ["rows", "regex"] }, "cols")).toEqual({
      error: "mode must be one of rows, regex, got 'cols'",
    });
    expect(parseField("cols", { type: "array", items: { type: "string" } }, "a, b")).toEqual({ value: ["a", "b"] });
    expect(parseField("seed", { type: "integer" }, "")).toEqual({ value: undefined });
  });
  it("takes a script as written and shows the module's template until one is set", () => {
    const script = { type: "string", format: "python", default: "def azureml_main(dataframe1 = None, dataframe2 = None):\n    return dataframe1,\n" };
    expect(isCode(script) && !isCode({ type: "string" })).toBe(true);
    expect(parseField("script", script, "  x = 1\n")).toEqual({ value: "  x = 1\n" }); // indentation kept
    expect(parseField("script", script, "")).toEqual({ value: "" }); // emptied stays empty, not the default
    expect(codeText(undefined, script)).toBe(script.default);
    expect(codeText("", script)).toBe("");
    expect(codeText("print(1)", script)).toBe("print(1)");
    const d = setParam(addNode(emptyDraft, "split", 0, 0), "split_1", "script", "def azureml_main(a, b):\n    return a,\n");
    const opened = fromYaml(toYaml(d), cat);
    expect("draft" in opened && opened.draft.nodes[0].params.script).toBe("def azureml_main(a, b):\n    return a,\n");
  });
  it("formats numbers as Python's :g does", () => {
    expect([0, 0.7, 1e-6, 1234567, 100000, 0.0001].map(formatG)).toEqual(["0", "0.7", "1e-06", "1.23457e+06", "100000", "0.0001"]);
  });
});

describe("the pipeline YAML", () => {
  const yaml = `type: pipeline
experiment_name: churn
inputs:
  rows:
    type: uri_file
    path: azureml:churn:2
settings:
  default_compute: local
jobs:
  load:
    component: azureml:split
    inputs:
      data: \${{parent.inputs.rows}}
  fit:
    component: azureml:train:1
    compute: big
    inputs:
      data: \${{parent.jobs.load.outputs.train}}
      model: \${{ parent.jobs.load.outputs.train }}
`;
  it("opens and saves back unchanged in meaning", () => {
    const opened = fromYaml(yaml, cat);
    if (!("draft" in opened)) throw new Error(opened.error);
    expect(opened.draft.wires).toHaveLength(2);
    expect(opened.draft.nodes.map((n) => n.component)).toEqual(["split", "train"]);
    const saved = parse(toYaml(opened.draft));
    const want = parse(yaml);
    want.jobs.fit.inputs.model = "${{parent.jobs.load.outputs.train}}"; // spaces inside ${{ }} mean nothing
    expect(saved).toEqual(want);
    const again = fromYaml(toYaml(opened.draft), cat);
    expect("draft" in again && toYaml(again.draft)).toBe(toYaml(opened.draft));
  });
  it("saves a drawn draft as catalogue steps with wires and parameters under inputs", () => {
    let d = addNode(addNode(emptyDraft, "split", 0, 0), "train", 0, 0);
    d = setParam(d, "split_1", "fraction", 0.5);
    const ok = connect(d, cat, { from: { node: "split_1", port: "train" }, to: { node: "train_1", port: "data" } });
    if (!("draft" in ok)) throw new Error(ok.error);
    expect(parse(toYaml(ok.draft))).toEqual({
      type: "pipeline",
      experiment_name: "designer",
      jobs: {
        split_1: { component: "azureml:split", inputs: { fraction: 0.5 } },
        train_1: { component: "azureml:train", inputs: { data: "${{parent.jobs.split_1.outputs.train}}" } },
      },
    });
  });
  it("says why it cannot open a pipeline", () => {
    expect(fromYaml("jobs: [", cat)).toMatchObject({ error: expect.stringContaining("not valid YAML") });
    expect(fromYaml("type: pipeline\njobs: {a: {command: ls}}", cat)).toEqual({
      error: "step 'a' is not a component step: the designer shows catalogue modules only",
    });
    expect(fromYaml("type: pipeline\njobs: {a: {component: nope}}", cat)).toEqual({
      error: "step 'a': no component named 'nope' in the catalogue",
    });
    const dangling = "type: pipeline\njobs:\n  a:\n    component: train\n    inputs:\n      data: ${{parent.jobs.b.outputs.x}}\n";
    expect(fromYaml(dangling, cat)).toEqual({ error: "step 'a' input 'data': no step 'b' (steps: a)" });
  });
});
