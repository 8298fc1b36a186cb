// An AutoML run's results: its trials ranked by the primary metric (the best the driver named
// marked), the data guardrails and the feature importance it logged (Logged.tsx reads them;
// importance as SVG bars), and the images its winner logged (the run's own are on its page with
// every run's). Trials are read again every 5 s while it runs; the tables and images once, and
// again when it ends.
import { childRuns, type Run } from "../api";
import { automlBoard, BOARD_TABLES, importanceBars, LEARNER_TAG, TAGS } from "../automl";
import type { Table } from "../tables";
import { duration, metric } from "../format";
import { href } from "../route";
import { usePolled } from "../hooks";
import { ErrorLine } from "./ErrorLine";
import { LoggedImages, loggedTable } from "./Logged";
import { StatusBadge } from "./StatusBadge";
import { TableView } from "./TableView";

const BAR_HEIGHT = 18;
const LABEL_WIDTH = 180;
const BAR_WIDTH = 320;

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
    () => loggedTable(parent.id, BOARD_TABLES.guardrails),
    null,
    [parent.id, live],
  );
  const { value: importance, error: importanceError } = usePolled(
    () => loggedTable(parent.id, BOARD_TABLES.importance),
    null,
    [parent.id, live],
  );
  const best = parent.tags[TAGS.best];
  const rows = automlBoard(parent, trials, metricKey, goal);
  return (
    <div className="automl">
      <p className="muted">
        {parent.tags["automl.task"]}: {trials.length} trials; {goal} {metricKey}
      </p>
      <ErrorLine error={polled.error ?? railsError ?? importanceError} />
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
          <TableView table={rails} maxRows={rails.rows.length} testId="guardrails" />
        </>
      )}
      {importance && importance.rows.length > 0 && (
        <>
          <h3>Feature importance</h3>
          <Importance table={importance} />
        </>
      )}
      {best && <LoggedImages runId={best} live={live} heading={<h3>Images of the best trial</h3>} testId="best-images" />}
    </div>
  );
}
