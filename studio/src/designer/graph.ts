// The designer's draft: modules (nodes) from the component catalogue and wires from an output
// port to an input port. Plain data, so the undo stack can keep whole snapshots.

export interface PortSpec {
  kind: string;
  description: string;
  optional: boolean;
}

export interface ComponentSpec {
  name: string;
  version?: string;
  kind?: string; // "command": a registered command component (named with its version in the YAML)
  display_name: string;
  category: string;
  description: string;
  inputs: Record<string, PortSpec>;
  outputs: Record<string, PortSpec>;
  params: { properties: Record<string, Record<string, unknown>>; required: string[] };
}

export interface DraftNode {
  id: string; // the step's key under jobs:
  component: string; // the catalogue name
  x: number;
  y: number;
  params: Record<string, unknown>; // every input that is not a wire: parameters, literals, ${{parent.inputs.x}}
  ref?: string; // `component:` as a loaded YAML wrote it (azureml:train-model:1), kept on save
  extra?: Record<string, unknown>; // the step's other keys (display_name, compute, outputs, …), kept on save
}

export interface Wire {
  from: { node: string; port: string };
  to: { node: string; port: string };
}

export interface Draft {
  pipeline: Record<string, unknown>; // the pipeline's keys but jobs: experiment_name, inputs, settings, …
  nodes: DraftNode[];
  wires: Wire[];
}

export const emptyDraft: Draft = { pipeline: { experiment_name: "designer" }, nodes: [], wires: [] };

// The CLI's rule (pipelines/graph.py): a plain file or folder goes into any port, typed ones must match.
const UNTYPED = ["uri_file", "uri_folder"];

/** A step id from the component's name that no other node has (YAML job keys must be unique). */
function freshId(draft: Draft, component: string): string {
  const base = component.replace(/[^A-Za-z0-9_]/g, "_");
  const taken = new Set(draft.nodes.map((n) => n.id));
  for (let i = 1; ; i++) if (!taken.has(`${base}_${i}`)) return `${base}_${i}`;
}

/** ``spec`` added at (x, y); a registered command component is pinned to its version. */
export function addNode(draft: Draft, spec: ComponentSpec | string, x: number, y: number): Draft {
  const component = typeof spec === "string" ? spec : spec.name;
  const node: DraftNode = { id: freshId(draft, component), component, x, y, params: {} };
  if (typeof spec !== "string" && spec.kind === "command") node.ref = `azureml:${spec.name}:${spec.version}`;
  return { ...draft, nodes: [...draft.nodes, node] };
}

/** A copy of ``node`` (its module, parameters and kept keys, not its wires) added beside where
 * it was: paste, duplicate. */
export function pasteNode(draft: Draft, node: DraftNode): Draft {
  const copy: DraftNode = { ...node, id: freshId(draft, node.component), x: node.x + 30, y: node.y + 30 };
  return { ...draft, nodes: [...draft.nodes, copy] };
}

export function removeNode(draft: Draft, id: string): Draft {
  const nodes = draft.nodes.filter((n) => n.id !== id);
  const wires = draft.wires.filter((w) => w.from.node !== id && w.to.node !== id);
  const gone = draft.nodes.find((n) => n.id === id);
  let next: Draft = { ...draft, nodes, wires };
  for (const name of Object.keys(gone?.params ?? {})) next = dropDataInput(next, draft, id, name);
  return next;
}

/** The pipeline input a module's parameter reads a data asset through (``setDataParam``). */
export const dataInputName = (node: string, param: string) => `${node}_${param}`;
const inputRef = (name: string) => `\${{parent.inputs.${name}}}`;

/** ``next`` without the data input parameter ``name`` of ``node`` had in ``before``, if it was its own. */
function dropDataInput(next: Draft, before: Draft, node: string, name: string): Draft {
  const key = dataInputName(node, name);
  const held = before.nodes.find((n) => n.id === node)?.params[name];
  const inputs = next.pipeline.inputs as Record<string, unknown> | undefined;
  if (held !== inputRef(key) || !inputs || !(key in inputs)) return next;
  const rest = Object.fromEntries(Object.entries(inputs).filter(([k]) => k !== key));
  const pipeline: Record<string, unknown> = { ...next.pipeline, inputs: rest };
  if (!Object.keys(rest).length) delete pipeline.inputs;
  return { ...next, pipeline };
}

/** The node's parameter ``name`` (a path) reading data asset ``ref`` (azureml:NAME:VERSION): a
 * pipeline input of that asset, which the server pins at submit, wired into the parameter. */
export function setDataParam(draft: Draft, id: string, name: string, ref: string, type: string): Draft {
  const key = dataInputName(id, name);
  const inputs = { ...((draft.pipeline.inputs as Record<string, unknown> | undefined) ?? {}), [key]: { type, path: ref } };
  const next = { ...draft, pipeline: { ...draft.pipeline, inputs } };
  return { ...next, nodes: next.nodes.map((n) => (n.id === id ? { ...n, params: { ...n.params, [name]: inputRef(key) } } : n)) };
}

/** The data asset a parameter reads through its pipeline input, or null. */
export function dataParam(draft: Draft, id: string, name: string): string | null {
  const key = dataInputName(id, name);
  const value = draft.nodes.find((n) => n.id === id)?.params[name];
  const input = (draft.pipeline.inputs as Record<string, { path?: unknown }> | undefined)?.[key];
  return value === inputRef(key) && typeof input?.path === "string" ? input.path : null;
}

export function moveNode(draft: Draft, id: string, x: number, y: number): Draft {
  return { ...draft, nodes: draft.nodes.map((n) => (n.id === id ? { ...n, x, y } : n)) };
}

/** The node with parameter ``name`` set (``undefined``: unset, the component's default applies). */
export function setParam(draft: Draft, id: string, name: string, value: unknown): Draft {
  const set = (params: Record<string, unknown>) => {
    const next = { ...params };
    if (value === undefined) delete next[name];
    else next[name] = value;
    return next;
  };
  const next = { ...draft, nodes: draft.nodes.map((n) => (n.id === id ? { ...n, params: set(n.params) } : n)) };
  return dropDataInput(next, draft, id, name);
}

export function removeWire(draft: Draft, wire: Wire): Draft {
  const same = (w: Wire) =>
    w.from.node === wire.from.node && w.from.port === wire.from.port && w.to.node === wire.to.node && w.to.port === wire.to.port;
  return { ...draft, wires: draft.wires.filter((w) => !same(w)) };
}

export const LAYOUT = { dx: 230, dy: 130, x0: 20, y0: 20 };

/** Each node placed by its depth (the longest chain of wires into it; a module nothing feeds sits
 * just above the first module it feeds, as a learner beside the data it is trained on), and
 * within a depth in the order of the modules feeding it, so wires cross less. */
export function layout(draft: Draft): Draft {
  const depth = new Map<string, number>();
  const visit = (id: string, path: Set<string>): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (path.has(id)) return 0; // a cycle (connect refuses them; a loaded YAML might hold one)
    path.add(id);
    let d = 0;
    for (const w of draft.wires) if (w.to.node === id) d = Math.max(d, visit(w.from.node, path) + 1);
    path.delete(id);
    depth.set(id, d);
    return d;
  };
  for (const n of draft.nodes) visit(n.id, new Set());
  for (const n of draft.nodes) {
    const fed = draft.wires.some((w) => w.to.node === n.id);
    const feeds = draft.wires.filter((w) => w.from.node === n.id).map((w) => depth.get(w.to.node) ?? 1);
    if (!fed && feeds.length) depth.set(n.id, Math.max(0, Math.min(...feeds) - 1));
  }
  const slot = new Map<string, number>();
  const byDepth = new Map<number, DraftNode[]>();
  for (const n of draft.nodes) byDepth.set(depth.get(n.id) ?? 0, [...(byDepth.get(depth.get(n.id) ?? 0) ?? []), n]);
  for (const d of [...byDepth.keys()].sort((a, b) => a - b)) {
    const mean = (id: string) => {
      const from = draft.wires.filter((w) => w.to.node === id).map((w) => slot.get(w.from.node) ?? Infinity);
      return from.length ? from.reduce((a, b) => a + b, 0) / from.length : Infinity;
    };
    const row = [...(byDepth.get(d) ?? [])].sort((a, b) => mean(a.id) - mean(b.id)); // stable: ties keep order
    row.forEach((n, i) => slot.set(n.id, i));
  }
  const nodes = draft.nodes.map((n) => ({
    ...n,
    x: LAYOUT.x0 + (slot.get(n.id) ?? 0) * LAYOUT.dx,
    y: LAYOUT.y0 + (depth.get(n.id) ?? 0) * LAYOUT.dy,
  }));
  return { ...draft, nodes };
}

/** Whether ``to`` is reachable from ``from`` along wires (a wire back would make a cycle). */
function reaches(draft: Draft, from: string, to: string): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length) {
    const at = stack.pop() as string;
    if (at === to) return true;
    if (seen.has(at)) continue;
    seen.add(at);
    for (const w of draft.wires) if (w.from.node === at) stack.push(w.to.node);
  }
  return false;
}

/** The wire added, or the one-line reason it is refused (another kind, port taken, a cycle). */
export function connect(
  draft: Draft,
  catalogue: Record<string, ComponentSpec>,
  wire: Wire,
): { draft: Draft } | { error: string } {
  const source = draft.nodes.find((n) => n.id === wire.from.node);
  const target = draft.nodes.find((n) => n.id === wire.to.node);
  if (!source || !target) return { error: "both ends of a connection must be modules on the canvas" };
  const out = catalogue[source.component]?.outputs[wire.from.port];
  const inp = catalogue[target.component]?.inputs[wire.to.port];
  if (!out) return { error: `${source.id} has no output ${wire.from.port}` };
  if (!inp) return { error: `${target.id} has no input ${wire.to.port}` };
  if (out.kind !== inp.kind && !UNTYPED.includes(out.kind))  // the CLI's message, word for word
    return { error: `step '${target.id}' input '${wire.to.port}' takes a ${inp.kind} but is wired to a ${out.kind}` };
  if (draft.wires.some((w) => w.to.node === target.id && w.to.port === wire.to.port))
    return { error: `${target.id}.${wire.to.port} is already connected` };
  if (reaches(draft, target.id, source.id))
    return { error: `connecting ${source.id} to ${target.id} would make a cycle` };
  return { draft: { ...draft, wires: [...draft.wires, wire] } };
}
