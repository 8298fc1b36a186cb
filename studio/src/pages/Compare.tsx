// Runs side by side: the params and latest metrics of each run in one table, the rows where
// they differ first; those every run has in parallel coordinates, any two of them in a scatter;
// and every metric's curves overlaid (one chart per metric, a line per run), smoothed at will.
import { useEffect, useMemo, useState } from "react";
import { getJson, V1, type Run } from "../api";
import { cellOf, columnsOf, METRICS, rowsOf, runName, shared } from "../compare";
import { href } from "../route";
import { ErrorLine } from "../components/ErrorLine";
import { CompareChart } from "../components/CompareChart";
import { ParallelCoords } from "../components/ParallelCoords";
import { Scatter } from "../components/Scatter";
import { Smoothing } from "../components/Smoothing";

export const MAX_COMPARED = 100;

function DiffTable({ runs, rows }: { runs: Run[]; rows: { label: string; values: string[] }[] }) {
  const differing = rows.filter((r) => new Set(r.values).size > 1);
  const same = rows.filter((r) => new Set(r.values).size <= 1);
  return (
    <div className="scroller short">
      <table className="grid flat" data-testid="compare-table">
        <thead>
          <tr>
            <th></th>
            {runs.map((run) => (
              <th key={run.id}>
                <a href={href({ page: "run", runId: run.id })}>{runName(run)}</a>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {[...differing, ...same].map((row) => (
            <tr key={row.label} className={new Set(row.values).size > 1 ? "differs" : undefined}>
              <th>{row.label}</th>
              {row.values.map((value, i) => (
                <td key={runs[i].id}>{value}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Compare({ runIds }: { runIds: string[] }) {
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [smoothing, setSmoothing] = useState(0);
  useEffect(() => {
    Promise.all(runIds.slice(0, MAX_COMPARED).map((id) => getJson<Run>(`${V1}/runs/${encodeURIComponent(id)}`)))
      .then(setRuns)
      .catch(setError);
  }, [runIds]);

  const { columns, runRows, rows } = useMemo(() => {
    const list = runs ?? [];
    const columns = columnsOf(list);
    return {
      columns,
      runRows: rowsOf(list, columns),
      rows: [
        { label: "status", values: list.map((r) => r.status) },
        ...columns.map((c) => ({ label: c, values: list.map((r) => cellOf(r, c)) })),
      ],
    };
  }, [runs]);
  const axes = shared(runRows, columns);
  const metricKeys = columns.filter((c) => c.startsWith(METRICS)).map((c) => c.slice(METRICS.length));

  if (!runs) return <ErrorLine error={error} />;
  return (
    <section className="compare">
      <nav className="crumbs">
        <a href={href({ page: "experiments" })}>Experiments</a> /{" "}
        <a href={href({ page: "runs", experimentId: runs[0]?.experiment_id ?? "" })}>runs</a> / compare
      </nav>
      <h1>Compare {runs.length} runs</h1>
      <ErrorLine error={error} />
      <h2>Params and latest metrics</h2>
      <DiffTable runs={runs} rows={rows} />
      {columns.length > 0 && (
        <>
          <ParallelCoords rows={runRows} columns={axes} title="Params and latest metrics" noun="runs" />
          {axes.length < columns.length && (
            <p className="muted">
              {axes.length < 2
                ? `No parallel coordinates: they need two columns every run has, and these runs share ${axes.length}.`
                : `Axes: the ${axes.length} columns every run has (${columns.length - axes.length} others left out).`}
            </p>
          )}
          <Scatter key={runIds.join(",")} rows={runRows} columns={columns} />
        </>
      )}
      <h2>Metrics</h2>
      {metricKeys.length > 0 && (
        <div className="chart-options">
          <Smoothing value={smoothing} onChange={setSmoothing} />
        </div>
      )}
      <div className="charts">
        {metricKeys.map((key) => (
          <CompareChart key={key} runs={runs} metricKey={key} smoothing={smoothing} />
        ))}
      </div>
    </section>
  );
}
