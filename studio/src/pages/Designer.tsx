// The designer: a palette of the catalogue's modules, a canvas where they are wired output to
// input, a parameter panel generated from each module's JSON schema, and Submit, which sends the
// draft as the pipeline YAML `trainyard pipeline submit -f` reads (designer/pipeline.ts). Once
// submitted, each module shows its step's status, read again until the pipeline run ends, and a
// module clicked shows its step's run (components/StepPanel.tsx).
import { lazy, Suspense, useEffect, useMemo, useRef, useState, type KeyboardEvent, type PointerEvent } from "react";
import { childRuns, getJson, postJson, V1, type Run } from "../api";
import { usePolled } from "../hooks";
import { ErrorLine } from "../components/ErrorLine";
import { StatusBadge } from "../components/StatusBadge";
import { StepPanel } from "../components/StepPanel";
import {
  addNode,
  connect,
  dataParam,
  emptyDraft,
  layout,
  moveNode,
  pasteNode,
  removeNode,
  removeWire,
  setDataParam,
  setParam,
  type ComponentSpec,
  type Draft,
  type DraftNode,
  type Wire,
} from "../designer/graph";
import { codeText, fieldText, isCode, missingRequired, parseField, type Property } from "../designer/params";
import { fromYaml, toYaml } from "../designer/pipeline";
import { nodeStatuses, stillRunning, type NodeStatus } from "../designer/status";
import { push, redo, start, undo, type History } from "../designer/undo";
import { href } from "../route";
import "./designer.css";

interface Category {
  name: string;
  components: ComponentSpec[];
}

// CodeMirror is loaded when a code parameter is first shown, not with every page
const CodeEditor = lazy(() => import("../components/CodeEditor").then((m) => ({ default: m.CodeEditor })));

const SAVED = "trainyard.designer.draft";
const SUBMITTED = "trainyard.designer.submitted"; // the pipeline run the canvas shows
const NODE = { w: 190, h: 84 };
const CANVAS = { w: 2400, h: 1600 };
const REFERENCE = /^\$\{\{.*\}\}$/; // ${{parent.inputs.x}}: a pipeline input, taken as written

type Selected = { node: string } | { wire: Wire } | null;

interface DataAsset {
  name: string;
  version: number;
  type: string;
}

const assetRef = (a: DataAsset) => `azureml:${a.name}:${a.version}`;
// a data asset read by a path parameter is a pipeline input of this type (PathInput's)
const inputType = (a: DataAsset) => (["uri_file", "table"].includes(a.type) ? a.type : "uri_folder");
const IMPORT = "import-data"; // the module a data asset from the palette is read by

function savedDraft(): Draft {
  try {
    const text = localStorage.getItem(SAVED);
    const draft = text ? (JSON.parse(text) as Draft) : null;
    return draft && Array.isArray(draft.nodes) && Array.isArray(draft.wires) && draft.pipeline ? draft : emptyDraft;
  } catch {
    return emptyDraft;
  }
}

/** Where a port sits on the canvas: inputs along a node's top edge, outputs along its bottom. */
function portAt(node: DraftNode, names: string[], port: string, side: "in" | "out"): { x: number; y: number } {
  const i = names.indexOf(port);
  return { x: node.x + ((i + 1) * NODE.w) / (names.length + 1), y: node.y + (side === "in" ? 0 : NODE.h) };
}

interface Sample {
  name: string;
  title: string;
  description: string;
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e)); // an ApiError is one too

export function Designer() {
  const { value: categories, error: loadError } = usePolled(
    () => getJson<{ categories: Category[] }>(`${V1}/components/catalogue`).then((reply) => reply.categories),
    null,
    [],
  );
  // the data assets for the palette, which works without them
  const assetsRead = usePolled(() => getJson<{ versions: DataAsset[] }>(`${V1}/data`).then((r) => r.versions), null, []);
  const assets = assetsRead.value ?? [];
  const samples =
    usePolled(() => getJson<{ samples: Sample[] }>(`${V1}/pipeline-samples`).then((r) => r.samples), null, []).value ?? [];
  const [history, setHistory] = useState<History<Draft>>(() => start(savedDraft()));
  const [selected, setSelected] = useState<Selected>(null);
  const [pending, setPending] = useState<{ node: string; port: string } | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [search, setSearch] = useState("");
  const [texts, setTexts] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [yamlText, setYamlText] = useState<string | null>(null);
  const [moving, setMoving] = useState<{ id: string; dx: number; dy: number; x: number; y: number } | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [clipboard, setClipboard] = useState<DraftNode | null>(null);
  const [expanded, setExpanded] = useState<string | null>(null); // the code field shown large
  const [submitted, setSubmitted] = useState<string | null>(() => localStorage.getItem(SUBMITTED));
  const canvas = useRef<HTMLDivElement>(null);
  const draft = history.present;
  const chosen = selected && "node" in selected ? draft.nodes.find((n) => n.id === selected.node) : undefined;

  useEffect(() => localStorage.setItem(SAVED, JSON.stringify(draft)), [draft]);
  useEffect(() => (submitted ? localStorage.setItem(SUBMITTED, submitted) : localStorage.removeItem(SUBMITTED)), [submitted]);

  // the submitted pipeline run and its steps' runs, read every 2 s until it ends, then once more
  const [watched, setWatched] = useState<{ runId: string; pipeline: Run; children: Run[] } | null>(null);
  const shownRun = watched && watched.runId === submitted ? watched : null;
  const live = submitted !== null && stillRunning(shownRun?.pipeline ?? null);
  const { error: watchError } = usePolled(
    async () => {
      if (!submitted) return setWatched(null);
      const [pipeline, children] = await Promise.all([getJson<Run>(`${V1}/runs/${encodeURIComponent(submitted)}`), childRuns(submitted)]);
      setWatched({ runId: submitted, pipeline, children });
    },
    live ? 2000 : null,
    [submitted, live],
  );
  const statuses = useMemo(
    () =>
      shownRun
        ? nodeStatuses(Object.keys(shownRun.pipeline.job?.steps ?? {}), shownRun.children)
        : new Map<string, NodeStatus>(),
    [shownRun],
  );

  const catalogue = useMemo(() => {
    const byName: Record<string, ComponentSpec> = {};
    for (const c of categories ?? []) for (const comp of c.components) byName[comp.name] = comp;
    return byName;
  }, [categories]);

  const change = (next: Draft) => {
    setHistory((h) => push(h, next));
    setMessage(null);
  };
  const fieldKey = (node: string, param: string) => `${node}/${param}`;
  const forget = (node: string) => {
    const keep = <T,>(m: Record<string, T>) =>
      Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith(`${node}/`)));
    setTexts(keep);
    setErrors(keep);
  };

  const add = (component: string, x?: number, y?: number) => {
    const n = draft.nodes.length;
    const next = addNode(draft, catalogue[component] ?? component, x ?? 20 + (n % 4) * 230, y ?? 20 + Math.floor(n / 4) * 130);
    change(next);
    setSelected({ node: next.nodes[next.nodes.length - 1].id });
  };
  /** Import Data reading data asset ``asset``, added to the canvas. */
  const addAsset = (asset: DataAsset, x?: number, y?: number) => {
    const n = draft.nodes.length;
    const added = addNode(draft, catalogue[IMPORT] ?? IMPORT, x ?? 20 + (n % 4) * 230, y ?? 20 + Math.floor(n / 4) * 130);
    const id = added.nodes[added.nodes.length - 1].id;
    change(setDataParam(added, id, "path", assetRef(asset), inputType(asset)));
    setSelected({ node: id });
  };
  const remove = () => {
    if (!selected) return;
    if ("node" in selected) {
      change(removeNode(draft, selected.node));
      forget(selected.node);
    } else change(removeWire(draft, selected.wire));
    setSelected(null);
  };
  const clickPort = (node: string, port: string, side: "in" | "out") => {
    if (side === "out") {
      setPending({ node, port });
      setMessage(`connect ${node}.${port} to an input port`);
      return;
    }
    if (!pending) {
      setMessage("click an output port first, then the input port it goes into");
      return;
    }
    const result = connect(draft, catalogue, { from: pending, to: { node, port } });
    setPending(null);
    if ("error" in result) setMessage(result.error);
    else {
      // a port's literal value gives way to the wire
      const wired = result.draft.nodes.find((n) => n.id === node);
      change(wired && port in wired.params ? setParam(result.draft, node, port, undefined) : result.draft);
    }
  };
  const editParam = (node: string, name: string, prop: Property, text: string) => {
    const key = fieldKey(node, name);
    setTexts((t) => ({ ...t, [key]: text }));
    const asset = prop.format === "path" ? assets.find((a) => assetRef(a) === text.trim()) : undefined;
    if (asset) {
      setErrors((e) => Object.fromEntries(Object.entries(e).filter(([k]) => k !== key)));
      change(setDataParam(draft, node, name, assetRef(asset), inputType(asset)));
      return;
    }
    const parsed = REFERENCE.test(text.trim()) ? { value: text.trim() } : parseField(name, prop, text);
    if ("error" in parsed) {
      setErrors((e) => ({ ...e, [key]: parsed.error }));
      return;
    }
    setErrors((e) => Object.fromEntries(Object.entries(e).filter(([k]) => k !== key)));
    change(setParam(draft, node, name, parsed.value));
  };
  const paste = (node: DraftNode | null) => {
    if (!node) return;
    const next = pasteNode(draft, node);
    change(next);
    setSelected({ node: next.nodes[next.nodes.length - 1].id });
  };
  const undoRedo = (next: History<Draft>) => {
    setHistory(next);
    setTexts({});
    setErrors({});
    setSelected(null);
  };

  // the server makes the sample's table a data asset and answers the YAML that reads it
  const openSample = async (name: string) => {
    try {
      const reply = await postJson<{ yaml: string }>(`${V1}/pipeline-samples/${encodeURIComponent(name)}`, {});
      const opened = fromYaml(reply.yaml, catalogue);
      if ("error" in opened) return setMessage(opened.error);
      undoRedo(push(history, opened.draft));
      setMessage(null);
      assetsRead.reload();
    } catch (e) {
      setMessage(messageOf(e));
    }
  };

  const submit = async () => {
    if (!draft.nodes.length) return setMessage("add modules to the canvas first");
    const invalid = Object.values(errors)[0];
    if (invalid) return setMessage(`fix the parameters first: ${invalid}`);
    for (const node of draft.nodes) {
      const spec = catalogue[node.component];
      const missing = spec && missingRequired(node.params, spec.params, spec.name);
      if (missing) return setMessage(`step '${node.id}': ${missing}`);
    }
    setSubmitting(true);
    try {
      const reply = await postJson<{ run_id: string }>(`${V1}/pipeline-jobs`, { yaml: toYaml(draft) });
      setSubmitted(reply.run_id);
    } catch (e) {
      setMessage(messageOf(e));
    } finally {
      setSubmitting(false);
    }
  };

  const onKey = (e: KeyboardEvent) => {
    if ((e.target as HTMLElement).closest("input, textarea, select")) return;
    if (e.key === "Delete" || e.key === "Backspace") remove();
    else if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z") undoRedo(e.shiftKey ? redo(history) : undo(history));
    else if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "y") undoRedo(redo(history));
    else if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "c" && chosen) setClipboard(chosen);
    else if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "v") paste(clipboard);
    else return;
    e.preventDefault();
  };
  const canvasPoint = (clientX: number, clientY: number) => {
    const box = canvas.current?.getBoundingClientRect();
    return { x: clientX - (box?.left ?? 0), y: clientY - (box?.top ?? 0) };
  };
  const startMove = (e: PointerEvent, node: DraftNode) => {
    const at = canvasPoint(e.clientX, e.clientY);
    setMoving({ id: node.id, dx: at.x - node.x, dy: at.y - node.y, x: node.x, y: node.y });
    setSelected({ node: node.id });
  };
  const shown = (node: DraftNode) => (moving?.id === node.id ? { ...node, x: moving.x, y: moving.y } : node);

  const needle = search.trim().toLowerCase();
  const palette = (categories ?? [])
    .map((c) => ({
      ...c,
      components: c.components.filter(
        (comp) => !needle || `${comp.display_name} ${comp.name} ${comp.description}`.toLowerCase().includes(needle),
      ),
    }))
    .filter((c) => c.components.length);
  const shownAssets = assets.filter((a) => !needle || a.name.toLowerCase().includes(needle));
  const chosenSpec = chosen ? catalogue[chosen.component] : undefined;

  return (
    <section className="designer">
      <h1>Designer</h1>
      <ErrorLine error={loadError} />
      <div className="designer-tools">
        <button type="button" onClick={() => undoRedo(undo(history))} disabled={!history.past.length}>
          Undo
        </button>
        <button type="button" onClick={() => undoRedo(redo(history))} disabled={!history.future.length}>
          Redo
        </button>
        <button type="button" onClick={remove} disabled={!selected}>
          Delete
        </button>
        <button type="button" onClick={() => paste(chosen ?? null)} disabled={!chosen}>
          Duplicate
        </button>
        <button type="button" onClick={() => change(layout(draft))}>
          Auto-layout
        </button>
        <button type="button" onClick={() => setYamlText(yamlText === null ? toYaml(draft) : null)}>
          YAML
        </button>
        <select
          aria-label="open a sample"
          value=""
          disabled={!categories || !samples.length}
          onChange={(e) => e.target.value && openSample(e.target.value)}
        >
          <option value="">Samples…</option>
          {samples.map((sample) => (
            <option key={sample.name} value={sample.name} title={sample.description}>
              {sample.title}
            </option>
          ))}
        </select>
        <label>
          Experiment{" "}
          <input
            value={String(draft.pipeline.experiment_name ?? "")}
            onChange={(e) => change({ ...draft, pipeline: { ...draft.pipeline, experiment_name: e.target.value } })}
          />
        </label>
        <button type="button" className="primary" onClick={submit} disabled={submitting || !categories}>
          {submitting ? "Submitting…" : "Submit"}
        </button>
      </div>
      {message && (
        <p className="designer-message" role="alert" data-testid="designer-message">
          {message}
        </p>
      )}
      {submitted && (
        <p className="designer-run" data-testid="designer-run">
          Pipeline run{" "}
          <a href={href({ page: "run", runId: submitted })} data-testid="designer-run-link">
            {submitted.slice(0, 12)}
          </a>{" "}
          {shownRun && <StatusBadge status={shownRun.pipeline.status} />}
          {live && <span className="muted"> read every 2 s</span>}{" "}
          <button type="button" className="small" onClick={() => setSubmitted(null)}>
            Hide run status
          </button>
          <ErrorLine error={watchError} />
        </p>
      )}
      {yamlText !== null && (
        <div className="designer-yaml">
          <textarea value={yamlText} onChange={(e) => setYamlText(e.target.value)} spellCheck={false} aria-label="pipeline YAML" />
          <button
            type="button"
            onClick={() => {
              const opened = fromYaml(yamlText, catalogue);
              if ("error" in opened) return setMessage(opened.error);
              undoRedo(push(history, opened.draft));
              setYamlText(null);
            }}
          >
            Open this YAML
          </button>
        </div>
      )}
      <div className={chosen && statuses.has(chosen.id) ? "designer-body with-run" : "designer-body"}>
        <aside className="palette" data-testid="palette">
          <input type="search" placeholder="Search modules" value={search} onChange={(e) => setSearch(e.target.value)} />
          {!categories && !loadError && <p className="muted">Loading the modules…</p>}
          {palette.map((c) => (
            <details key={c.name} open>
              <summary>{c.name}</summary>
              {c.components.map((comp) => (
                <button
                  type="button"
                  key={comp.name}
                  className="module"
                  draggable
                  title={comp.description}
                  data-component={comp.name}
                  onDragStart={(e) => e.dataTransfer.setData("text/plain", comp.name)}
                  onClick={() => add(comp.name)}
                >
                  {comp.display_name}
                </button>
              ))}
            </details>
          ))}
          {shownAssets.length > 0 && (
            <details open>
              <summary>Data assets</summary>
              {shownAssets.map((asset) => (
                <button
                  type="button"
                  key={assetRef(asset)}
                  className="module"
                  draggable
                  title={`Import Data reading ${assetRef(asset)} (${asset.type})`}
                  onDragStart={(e) => e.dataTransfer.setData("text/plain", assetRef(asset))}
                  onClick={() => addAsset(asset)}
                >
                  {asset.name} <small className="muted">v{asset.version}</small>
                </button>
              ))}
            </details>
          )}
          <datalist id="designer-data-assets">
            {assets.map((asset) => (
              <option key={assetRef(asset)} value={assetRef(asset)} />
            ))}
          </datalist>
        </aside>
        <div className="canvas-scroll" tabIndex={0} onKeyDown={onKey}>
          <div
            className="canvas"
            ref={canvas}
            data-testid="canvas"
            style={{ width: CANVAS.w, height: CANVAS.h }}
            onDragOver={(e) => e.preventDefault()}
            onDrop={(e) => {
              e.preventDefault();
              const name = e.dataTransfer.getData("text/plain");
              const at = canvasPoint(e.clientX, e.clientY);
              const [x, y] = [Math.max(0, at.x - NODE.w / 2), Math.max(0, at.y - 20)];
              const asset = assets.find((a) => assetRef(a) === name);
              if (asset) addAsset(asset, x, y);
              else if (catalogue[name]) add(name, x, y);
            }}
            onPointerMove={(e) => {
              if (!moving) return;
              const at = canvasPoint(e.clientX, e.clientY);
              setMoving({ ...moving, x: Math.max(0, at.x - moving.dx), y: Math.max(0, at.y - moving.dy) });
            }}
            onPointerUp={() => {
              if (moving) {
                const node = draft.nodes.find((n) => n.id === moving.id);
                if (node && (node.x !== moving.x || node.y !== moving.y)) change(moveNode(draft, moving.id, moving.x, moving.y));
              }
              setMoving(null);
            }}
            onClick={(e) => {
              if (e.target === e.currentTarget) {
                setSelected(null);
                setPending(null);
              }
            }}
          >
            <svg className="wires" width={CANVAS.w} height={CANVAS.h}>
              {draft.wires.map((w) => {
                const from = draft.nodes.find((n) => n.id === w.from.node);
                const to = draft.nodes.find((n) => n.id === w.to.node);
                const fromSpec = from && catalogue[from.component];
                const toSpec = to && catalogue[to.component];
                if (!from || !to || !fromSpec || !toSpec) return null;
                const a = portAt(shown(from), Object.keys(fromSpec.outputs), w.from.port, "out");
                const b = portAt(shown(to), Object.keys(toSpec.inputs), w.to.port, "in");
                const bend = Math.max(40, Math.abs(b.y - a.y) / 2);
                const isChosen = selected && "wire" in selected && selected.wire === w;
                return (
                  <path
                    key={`${w.from.node}.${w.from.port}->${w.to.node}.${w.to.port}`}
                    d={`M${a.x},${a.y} C${a.x},${a.y + bend} ${b.x},${b.y - bend} ${b.x},${b.y}`}
                    className={isChosen ? "wire chosen" : "wire"}
                    data-testid={`wire-${w.from.node}.${w.from.port}-${w.to.node}.${w.to.port}`}
                    onClick={() => setSelected({ wire: w })}
                  />
                );
              })}
            </svg>
            {draft.nodes.map((raw) => {
              const node = shown(raw);
              const spec = catalogue[node.component];
              const ins = Object.keys(spec?.inputs ?? {});
              const outs = Object.keys(spec?.outputs ?? {});
              const isChosen = chosen?.id === node.id;
              const step = statuses.get(node.id);
              return (
                <div
                  key={node.id}
                  className={`node${isChosen ? " chosen" : ""}${step ? ` run-${step.status.replace(" ", "-")}` : ""}`}
                  data-testid={`node-${node.id}`}
                  style={{ left: node.x, top: node.y, width: NODE.w, height: NODE.h }}
                >
                  {step && (
                    <span className="node-status" data-testid={`status-${node.id}`} data-status={step.status}>
                      {step.status}
                      {step.duration && ` · ${step.duration}`}
                    </span>
                  )}
                  {ins.map((port) => (
                    <button
                      type="button"
                      key={port}
                      className="port in"
                      style={{ left: ((ins.indexOf(port) + 1) * NODE.w) / (ins.length + 1) }}
                      title={`${port} (${spec?.inputs[port].kind})`}
                      data-testid={`in-${node.id}.${port}`}
                      onClick={() => clickPort(node.id, port, "in")}
                    />
                  ))}
                  {ins.map((port) => (
                    <span key={port} className="port-label in" style={{ left: ((ins.indexOf(port) + 1) * NODE.w) / (ins.length + 1), maxWidth: NODE.w / (ins.length + 1) - 4 }}>
                      {port}
                    </span>
                  ))}
                  <div className="node-title" onPointerDown={(e) => startMove(e, raw)} onClick={() => setSelected({ node: node.id })}>
                    {spec?.display_name ?? node.component}
                    <small>{node.id}</small>
                  </div>
                  {outs.map((port) => (
                    <button
                      type="button"
                      key={port}
                      className={pending?.node === node.id && pending.port === port ? "port out pending" : "port out"}
                      style={{ left: ((outs.indexOf(port) + 1) * NODE.w) / (outs.length + 1) }}
                      title={`${port} (${spec?.outputs[port].kind})`}
                      data-testid={`out-${node.id}.${port}`}
                      onClick={() => clickPort(node.id, port, "out")}
                    />
                  ))}
                  {outs.map((port) => (
                    <span key={port} className="port-label out" style={{ left: ((outs.indexOf(port) + 1) * NODE.w) / (outs.length + 1), maxWidth: NODE.w / (outs.length + 1) - 4 }}>
                      {port}
                    </span>
                  ))}
                </div>
              );
            })}
            {!draft.nodes.length && <p className="canvas-hint muted">Drag modules here from the palette, or click one.</p>}
          </div>
        </div>
        <aside className="inspector" data-testid="inspector">
          {!chosen && <p className="muted">Select a module to set its parameters.</p>}
          {chosen && chosenSpec && (
            <>
              <h2>{chosenSpec.display_name}</h2>
              <p className="muted">
                <span className="mono">{chosen.id}</span>: {chosenSpec.description}
              </p>
              {statuses.has(chosen.id) && (
                <>
                  <h3>Run</h3>
                  <StepPanel step={chosen.id} state={statuses.get(chosen.id)!} spec={chosenSpec} />
                </>
              )}
              <h3>Ports</h3>
              <ul className="ports">
                {Object.entries(chosenSpec.inputs).map(([port, p]) => {
                  const wire = draft.wires.find((w) => w.to.node === chosen.id && w.to.port === port);
                  return (
                    <li key={port}>
                      <span className="mono">{port}</span> ({p.kind}):{" "}
                      {wire ? `from ${wire.from.node}.${wire.from.port}` : p.optional ? "not wired (optional)" : "not wired"}
                    </li>
                  );
                })}
              </ul>
              <h3>Parameters</h3>
              {Object.entries(chosenSpec.params.properties).map(([name, prop]) => {
                const key = fieldKey(chosen.id, name);
                const text = texts[key] ?? dataParam(draft, chosen.id, name) ?? fieldText(chosen.params[name]);
                const fallback = prop.default === undefined ? "required" : `default: ${fieldText(prop.default) || "none"}`;
                const choices = Array.isArray(prop.enum) ? prop.enum : prop.type === "boolean" ? [true, false] : null;
                if (isCode(prop))
                  return (
                    <div key={key} className={`field code-field${expanded === key ? " expanded" : ""}`} data-testid={`param-${name}`}>
                      <span className="code-head">
                        <span className="mono">{name}</span> <small className="muted">Python</small>
                        <button type="button" onClick={() => setExpanded(expanded === key ? null : key)}>
                          {expanded === key ? "Close" : "Expand"}
                        </button>
                      </span>
                      <Suspense fallback={<p className="muted">Loading the editor…</p>}>
                        <CodeEditor
                          value={codeText(chosen.params[name], prop)}
                          onChange={(t) => editParam(chosen.id, name, prop, t)}
                          label={`${name} (Python)`}
                        />
                      </Suspense>
                      <small className="muted">{String(prop.description ?? "")}</small>
                    </div>
                  );
                return (
                  <label key={name} className="field">
                    <span className="mono">{name}</span>
                    {choices ? (
                      <select
                        value={text}
                        data-testid={`param-${name}`}
                        onChange={(e) => editParam(chosen.id, name, prop, e.target.value)}
                      >
                        <option value="">({fallback})</option>
                        {choices.map((c) => (
                          <option key={String(c)} value={String(c)}>
                            {String(c)}
                          </option>
                        ))}
                      </select>
                    ) : (
                      <input
                        value={text}
                        placeholder={fallback}
                        list={prop.format === "path" ? "designer-data-assets" : undefined}
                        data-testid={`param-${name}`}
                        aria-invalid={key in errors}
                        onChange={(e) => editParam(chosen.id, name, prop, e.target.value)}
                      />
                    )}
                    <small className="muted">{String(prop.description ?? "")}</small>
                    {errors[key] && (
                      <small className="error" role="alert" data-testid={`param-error-${name}`}>
                        {errors[key]}
                      </small>
                    )}
                  </label>
                );
              })}
            </>
          )}
        </aside>
      </div>
    </section>
  );
}
