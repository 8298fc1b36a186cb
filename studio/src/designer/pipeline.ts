// One format: a designer draft is the pipeline YAML `trainyard pipeline submit -f` reads
// (pipelines/spec.py). Each module is a step `component: azureml:NAME` whose ports (wires,
// `${{parent.jobs.STEP.outputs.PORT}}`) and parameters are all under `inputs:`; every key the
// designer does not draw (pipeline inputs, settings, a step's compute or outputs) is kept as
// loaded, so a YAML pipeline opened and saved again means the same.

import { parse, stringify } from "yaml";
import { layout, type ComponentSpec, type Draft, type DraftNode, type Wire } from "./graph";

const STEP_OUTPUT = /^\$\{\{\s*parent\.jobs\.(\w[\w-]*)\.outputs\.(\w[\w-]*)\s*\}\}$/;

/** The catalogue name of a step's `component:` (azureml:train-model:1, train-model@1, train-model). */
export function componentName(ref: string): string {
  return ref.trim().replace(/^azureml:/, "").split(/[@:]/)[0];
}

export function toPipeline(draft: Draft): Record<string, unknown> {
  const jobs: Record<string, unknown> = {};
  for (const node of draft.nodes) {
    const inputs: Record<string, unknown> = { ...node.params };
    for (const w of draft.wires)
      if (w.to.node === node.id) inputs[w.to.port] = `\${{parent.jobs.${w.from.node}.outputs.${w.from.port}}}`;
    const step: Record<string, unknown> = { component: node.ref ?? `azureml:${node.component}`, ...(node.extra ?? {}) };
    if (Object.keys(inputs).length) step.inputs = inputs;
    jobs[node.id] = step;
  }
  return { type: "pipeline", ...draft.pipeline, jobs };
}

export function toYaml(draft: Draft): string {
  // block style throughout: a ${{…}} reference is not valid YAML inside a flow mapping
  return stringify(toPipeline(draft), { lineWidth: 0 });
}

/** The draft a pipeline YAML stands for, laid out by depth; or the one-line reason the designer
 * cannot show it (not YAML, a command step, a module the catalogue lacks, a wire to no step). */
export function fromYaml(text: string, catalogue: Record<string, ComponentSpec>): { draft: Draft } | { error: string } {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    return { error: `the pipeline is not valid YAML: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return { error: "the pipeline must hold a mapping" };
  const { jobs, type, ...pipeline } = raw as Record<string, unknown>;
  if (type !== "pipeline") return { error: "the pipeline must say type: pipeline" };
  if (!jobs || typeof jobs !== "object" || Array.isArray(jobs)) return { error: "the pipeline has no jobs: mapping" };
  const steps = jobs as Record<string, Record<string, unknown>>;
  const nodes: DraftNode[] = [];
  const wires: Wire[] = [];
  for (const [id, step] of Object.entries(steps)) {
    const { component, inputs, ...extra } = step ?? {};
    if (typeof component !== "string")
      return { error: `step '${id}' is not a component step: the designer shows catalogue modules only` };
    const name = componentName(component);
    if (!catalogue[name]) return { error: `step '${id}': no component named '${name}' in the catalogue` };
    const params: Record<string, unknown> = {};
    for (const [port, value] of Object.entries((inputs ?? {}) as Record<string, unknown>)) {
      const m = typeof value === "string" ? STEP_OUTPUT.exec(value.trim()) : null;
      if (!m) {
        params[port] = value;
        continue;
      }
      if (!(m[1] in steps)) return { error: `step '${id}' input '${port}': no step '${m[1]}' (steps: ${Object.keys(steps).join(", ")})` };
      wires.push({ from: { node: m[1], port: m[2] }, to: { node: id, port } });
    }
    const node: DraftNode = { id, component: name, x: 0, y: 0, params };
    if (component !== `azureml:${name}`) node.ref = component;
    if (Object.keys(extra).length) node.extra = extra;
    nodes.push(node);
  }
  return { draft: layout({ pipeline, nodes, wires }) };
}
