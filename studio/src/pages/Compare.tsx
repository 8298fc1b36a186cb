// Runs side by side: every metric's curves overlaid (one chart per metric, a line per run), and
// the params and latest metrics of each run in one table, the rows where they differ first.
import { useEffect, useMemo, useState } from "react";
import { getJson, V1, type Run } from "../api";
import { metric } from "../format";
import { href } from "../route";
import { ErrorLine } from "../components/ErrorLine";
import { CompareChart } from "../components/CompareChart";

export const MAX_COMPARED = 100;

function DiffTable({ runs, rows }: { runs: Run[]; rows: { label: string; values: string[] }[] }) {
  const differing = rows.filter((r) => new Set(r.values).size > 1);
  const same = rows.filter((r) => new Set(r.values).size <= 1);
  return (
    <div className="scroller short">
      <table className="grid" data-testid="compare-table">
        <thead>
          <tr>
            <th></th>
            {runs.map((run) => (
              <th key={run.id}>
                <a href={href({ page: "run", runId: run.id })}>{run.name || run.id.slice(0, 8)}</a>
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
  useEffect(() => {
    Promise.all(runIds.slice(0, MAX_COMPARED).map((id) => getJson<Run>(`${V1}/runs/${encodeURIComponent(id)}`)))
      .then(setRuns)
      .catch(setError);
  }, [runIds]);

  const { metricKeys, rows } = useMemo(() => {
    if (!runs) return { metricKeys: [], rows: [] };
    const params = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
    const metrics = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
    return {
      metricKeys: metrics,
      rows: [
        { label: "status", values: runs.map((r) => r.status) },
        ...params.map((key) => ({ label: `params.${key}`, values: runs.map((r) => r.params[key] ?? "") })),
        ...metrics.map((key) => ({ label: `metrics.${key}`, values: runs.map((r) => metric(r.metrics[key])) })),
      ],
    };
  }, [runs]);

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
      <h2>Metrics</h2>
      <div className="charts">
        {metricKeys.map((key) => (
          <CompareChart key={key} runs={runs} metricKey={key} />
        ))}
      </div>
    </section>
  );
}
