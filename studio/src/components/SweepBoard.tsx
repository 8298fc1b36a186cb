// A sweep run's trials: the leaderboard by the primary metric (the best the driver named marked,
// trials its policy stopped early marked), every trial's curve of that metric overlaid,
// stopped ones dashed, and the hyperparameters against the metric in parallel coordinates.
// Read again every 5 s while the sweep runs.
import { useMemo } from "react";
import { childRuns, type Run } from "../api";
import { duration, metric } from "../format";
import { href } from "../route";
import { usePolled } from "../hooks";
import { leaderboard, paramNames, STOPPED_EARLY_TAG, trialRows } from "../sweep";
import { CompareChart } from "./CompareChart";
import { ErrorLine } from "./ErrorLine";
import { ParallelCoords } from "./ParallelCoords";
import { StatusBadge } from "./StatusBadge";

const CURVES = 100; // the most trials overlaid, the leaderboard's first

const stoppedEarly = (run: Run) => run.tags[STOPPED_EARLY_TAG] === "true";

export function SweepBoard({
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
  const { value, error } = usePolled(() => childRuns(parent.id), live ? 5000 : null, [parent.id, live]);
  const trials = value ?? [];
  const rows = leaderboard(parent, trials, metricKey, goal);
  const params = paramNames(trials);
  // the chart is drawn again only when a trial's status or latest value moved
  const shape = rows
    .slice(0, CURVES)
    .map((r) => `${r.run.id}:${r.run.status}:${r.value}`)
    .join(",");
  const charted = useMemo(() => rows.slice(0, CURVES).map((r) => r.run), [shape]); // rows: new each render
  return (
    <div className="sweep">
      <p className="muted">
        {trials.length} trials; {goal} {metricKey}
      </p>
      <ErrorLine error={error} />
      <div className="scroller short">
        <table className="grid" data-testid="leaderboard">
          <thead>
            <tr>
              <th>#</th>
              <th>Trial</th>
              <th>Status</th>
              <th>{metricKey}</th>
              {params.map((name) => (
                <th key={name}>{name}</th>
              ))}
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
                <td>
                  <StatusBadge status={row.run.status} />
                  {row.stoppedEarly && <span className="muted"> stopped early</span>}
                </td>
                <td className="number">{row.value === null ? "" : metric(row.value)}</td>
                {params.map((name) => (
                  <td key={name}>{row.run.params[name] ?? ""}</td>
                ))}
                <td>{duration(row.run.start_time, row.run.end_time)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {charted.length > 0 && (
        <div className="charts">
          <CompareChart runs={charted} metricKey={metricKey} dashed={stoppedEarly} />
          <ParallelCoords
            rows={trialRows(rows, metricKey)}
            columns={[...params, metricKey]}
            title={`Hyperparameters against ${metricKey}`}
            noun="trials"
          />
        </div>
      )}
    </div>
  );
}
