// A pipeline run's DAG drawn as SVG boxes and edges, each box its step's newest run's status;
// a box with a run links to it. Read again every 3 s while the pipeline runs.
import { childRuns, TERMINAL, type JobRecord } from "../api";
import { BOX, layout } from "../dag";
import { usePolled } from "../hooks";
import { href } from "../route";
import { ErrorLine } from "./ErrorLine";

export function PipelineDag({ runId, job, live }: { runId: string; job: JobRecord; live: boolean }) {
  // read once more when it ends (``live`` turns false), then no more
  const { value, error } = usePolled(() => childRuns(runId), live ? 3000 : null, [runId, live]);
  const dag = layout(job, value ?? []);
  return (
    <figure className="dag" data-testid="pipeline-dag">
      <svg width={dag.width} height={dag.height} role="img" aria-label="pipeline steps">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">
            <path d="M0,0 L10,5 L0,10 z" fill="#9ca3af" />
          </marker>
        </defs>
        {dag.edges.map((edge) => (
          <path key={`${edge.from}>${edge.to}`} d={edge.path} className="dag-edge" markerEnd="url(#arrow)" />
        ))}
        {dag.boxes.map((box) => {
          const drawn = (
            <g className={`dag-step dag-${box.status.replace(" ", "-")}`} data-testid="dag-step" data-status={box.status}>
              <rect x={box.x} y={box.y} width={BOX.width} height={BOX.height} rx={6} />
              <text x={box.x + 10} y={box.y + 19} className="dag-name">
                {box.step}
              </text>
              <text x={box.x + 10} y={box.y + 36} className="dag-status">
                {box.status}
                {box.reused ? " (reused)" : ""}
                {!TERMINAL.has(box.status) && box.status !== "not started" ? " …" : ""}
              </text>
            </g>
          );
          return box.runId ? (
            <a key={box.step} href={href({ page: "run", runId: box.runId })} aria-label={`step ${box.step}`}>
              {drawn}
            </a>
          ) : (
            <g key={box.step} aria-label={`step ${box.step}`}>
              {drawn}
            </g>
          );
        })}
      </svg>
      <ErrorLine error={error} />
    </figure>
  );
}
