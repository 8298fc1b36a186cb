// A submitted pipeline's module, clicked on the designer's canvas: its step's run (a link to its
// page), status and duration, metrics, output tables with their column statistics, the images it
// logged (Evaluate Model's curves and confusion matrix), and the tail of its log.
import { getJson, runArtifacts, TERMINAL, V1, type Run } from "../api";
import type { ComponentSpec } from "../designer/graph";
import type { NodeStatus } from "../designer/status";
import { metric } from "../format";
import { usePolled } from "../hooks";
import { href } from "../route";
import { ErrorLine } from "./ErrorLine";
import { LogTail } from "./LogTail";
import { OutputTable } from "./OutputTable";
import { Pairs } from "./Pairs";
import { RunImages } from "./RunImages";
import { StatusBadge } from "./StatusBadge";

const TABLE_KINDS = new Set(["table", "report"]);

export function StepPanel({ step, state, spec }: { step: string; state: NodeStatus; spec: ComponentSpec | undefined }) {
  const run = state.run;
  const live = run !== null && !TERMINAL.has(run.status);
  const done = state.status === "completed" || state.status === "reused";
  // the run holding the step's outputs (a reused step's are another run's), its metrics with them
  const { value: holder, error } = usePolled(
    () => (state.holder ? getJson<Run>(`${V1}/runs/${encodeURIComponent(state.holder)}`) : Promise.resolve(null)),
    live ? 3000 : null,
    [state.holder, live],
  );
  if (!run) return <p className="muted">{step} has not started yet.</p>;
  const outputs = Object.entries(spec?.outputs ?? {}).filter(([, port]) => TABLE_KINDS.has(port.kind));
  return (
    <div className="step-panel" data-testid="step-panel">
      <p>
        <StatusBadge status={state.status} /> {state.duration}{" "}
        <a href={href({ page: "run", runId: run.id })} data-testid="step-run-link">
          run {run.id.slice(0, 12)}
        </a>
        {state.holder !== run.id && state.holder && (
          <>
            {" "}
            (outputs of{" "}
            <a href={href({ page: "run", runId: state.holder })} className="mono">
              {state.holder.slice(0, 12)}
            </a>
            )
          </>
        )}
      </p>
      {run.error && <p className="error">{run.error}</p>}
      <ErrorLine error={error} />
      <h3>Metrics</h3>
      <Pairs
        testId="step-metrics"
        values={Object.fromEntries(Object.entries(holder?.metrics ?? {}).map(([k, v]) => [k, metric(v)]))}
      />
      {done && outputs.length > 0 && <h3>Outputs</h3>}
      {done && outputs.map(([port]) => <OutputTable key={port} runId={run.id} port={port} />)}
      {done && state.holder && <RunImages runId={state.holder} />}
      <h3>Log</h3>
      <LogTail logKey={`${runArtifacts(run.id)}/logs/std_log.txt`} live={live} />
    </div>
  );
}
