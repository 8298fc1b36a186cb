// An AutoML run's results: its trials ranked by the primary metric (the best the driver named
// marked), the data guardrails and the feature importance it logged (tables/, importance as SVG
// bars), and the images of the run and of its winner (images/). Trials are read again every 5 s
// while it runs; the tables and images once, and again when it ends.
import { useEffect, useState } from "react";
import { ApiError, artifactUrl, childRuns, getJson, query, request, runArtifacts, V1, type Run } from "../api";
import { automlBoard, importanceBars, LEARNER_TAG, parseTable, TAGS, type Table } from "../automl";
import { duration, metric } from "../format";
import { href } from "../route";
import { usePolled } from "../hooks";
import { ErrorLine } from "./ErrorLine";
import { StatusBadge } from "./StatusBadge";

const BAR_HEIGHT = 18;
const LABEL_WIDTH = 180;
const BAR_WIDTH = 320;

// a table the run logged, null if it logged none of that name
async function loggedTable(runId: string, name: string): Promise<Table | null> {
  try {
    return parseTable(await getJson<unknown>(artifactUrl(`${runArtifacts(runId)}/tables/${name}.json`)));
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

// the PNGs under a run's images/, as object URLs (fetched with the page's credentials)
async function loggedImages(runId: string): Promise<{ key: string; url: string }[]> {
  const prefix = `${runArtifacts(runId)}/images`;
  const { files } = await getJson<{ files: string[] }>(`${V1}/artifact-list?${query({ prefix })}`);
  return Promise.all(
    files.sort().map(async (file) => {
      const blob = await (await request(artifactUrl(`${prefix}/${file}`))).blob();
      return { key: `${runId}/${file}`, url: URL.createObjectURL(blob) };
    }),
  );
}

function Importance({ table }: { table: Table }) {
  const bars = importanceBars(table);
  if (bars.length === 0) return null;
  return (
    <svg
      className="importance"
      data-testid="feature-importance"
      width={LABEL_WIDTH + BAR_WIDTH + 80}
      height={bars.length * BAR_HEIGHT}
      role="img"
      aria-label="feature importance"
    >
      {bars.map((bar, i) => (
        <g key={bar.feature} transform={`translate(0, ${i * BAR_HEIGHT})`}>
          <text x={LABEL_WIDTH - 6} y={BAR_HEIGHT - 5} textAnchor="end">
            {bar.feature}
          </text>
          <rect x={LABEL_WIDTH} y={2} width={bar.fraction * BAR_WIDTH} height={BAR_HEIGHT - 4} />
          <text x={LABEL_WIDTH + bar.fraction * BAR_WIDTH + 4} y={BAR_HEIGHT - 5}>
            {metric(bar.importance)}
          </text>
        </g>
      ))}
    </svg>
  );
}

export function AutoMLBoard({
  parent,
  metricKey,
  goal,
  live,
}: {
  parent: Run;
  metricKey: string;
  goal: "maximize" | "minimize";
  live: boolean;
}) {
  const polled = usePolled(() => childRuns(parent.id), live ? 5000 : null, [parent.id, live]);
  const trials = polled.value ?? [];
  // read once, and again when the run ends (``live`` turns false)
  const { value: rails, error: railsError } = usePolled(
    () => loggedTable(parent.id, "data_guardrails"),
    null,
    [parent.id, live],
  );
  const { value: importance, error: importanceError } = usePolled(
    () => loggedTable(parent.id, "feature_importance"),
    null,
    [parent.id, live],
  );
  const [images, setImages] = useState<{ key: string; url: string }[]>([]);
  const [error, setError] = useState<unknown>(null);
  const best = parent.tags[TAGS.best];
  useEffect(() => {
    const runs = best ? [parent.id, best] : [parent.id];
    let shown: { key: string; url: string }[] = [];
    Promise.all(runs.map(loggedImages)).then((lists) => {
      shown = lists.flat();
      setImages(shown);
    }, setError);
    return () => shown.forEach((image) => URL.revokeObjectURL(image.url));
  }, [parent.id, best, live]);
  const rows = automlBoard(parent, trials, metricKey, goal);
  return (
    <div className="automl">
      <p className="muted">
        {parent.tags["automl.task"]}: {trials.length} trials; {goal} {metricKey}
      </p>
      <ErrorLine error={error ?? polled.error ?? railsError ?? importanceError} />
      <div className="scroller short">
        <table className="grid" data-testid="leaderboard">
          <thead>
            <tr>
              <th>#</th>
              <th>Trial</th>
              <th>Learner</th>
              <th>Status</th>
              <th>{metricKey}</th>
              <th>Duration</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.run.id} data-testid="trial-row" className={row.best ? "best" : undefined}>
                <td className="number">{row.rank ?? ""}</td>
                <td>
                  <a href={href({ page: "run", runId: row.run.id })}>{row.run.name || `trial ${row.trial}`}</a>
                  {row.best && <span className="alias">best</span>}
                </td>
                <td>{row.run.tags[LEARNER_TAG] ?? ""}</td>
                <td>
                  <StatusBadge status={row.run.status} />
                </td>
                <td className="number">{row.value === null ? "" : metric(row.value)}</td>
                <td>{duration(row.run.start_time, row.run.end_time)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {rails && rails.rows.length > 0 && (
        <>
          <h3>Data guardrails</h3>
          <table className="grid" data-testid="guardrails">
            <thead>
              <tr>
                {rails.columns.map((name) => (
                  <th key={name}>{name}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rails.rows.map((row, i) => (
                <tr key={i}>
                  {row.map((cell, j) => (
                    <td key={j}>{String(cell ?? "")}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {importance && importance.rows.length > 0 && (
        <>
          <h3>Feature importance</h3>
          <Importance table={importance} />
        </>
      )}
      {images.length > 0 && (
        <>
          <h3>Images</h3>
          <div className="images" data-testid="automl-images">
            {images.map((image) => (
              <figure key={image.key}>
                <figcaption>{image.key}</figcaption>
                <img src={image.url} alt={image.key} />
              </figure>
            ))}
          </div>
        </>
      )}
    </div>
  );
}
