import { useEffect, useState } from "react";
import { getJson, V1, type Experiment } from "../api";
import { when } from "../format";
import { href } from "../route";
import { ErrorLine } from "../components/ErrorLine";

function RunCount({ experimentId }: { experimentId: string }) {
  const [count, setCount] = useState<number | null>(null);
  useEffect(() => {
    getJson<{ count: number }>(`${V1}/experiments/${encodeURIComponent(experimentId)}/run-count`)
      .then((c) => setCount(c.count))
      .catch(() => setCount(null));
  }, [experimentId]);
  return <>{count ?? ""}</>;
}

export function Experiments() {
  const [experiments, setExperiments] = useState<Experiment[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    getJson<{ experiments: Experiment[] }>(`${V1}/experiments`)
      .then((page) => setExperiments(page.experiments))
      .catch(setError);
  }, []);
  return (
    <section>
      <h1>Experiments</h1>
      <ErrorLine error={error} />
      {experiments && experiments.length === 0 && <p>No experiments yet: submit a job or log a run.</p>}
      {experiments && experiments.length > 0 && (
        <table className="grid" data-testid="experiments">
          <thead>
            <tr>
              <th>Name</th>
              <th>Runs</th>
              <th>Created</th>
              <th>Id</th>
            </tr>
          </thead>
          <tbody>
            {experiments.map((experiment) => (
              <tr key={experiment.id}>
                <td>
                  <a href={href({ page: "runs", experimentId: experiment.id })}>{experiment.name}</a>
                </td>
                <td className="number">
                  <RunCount experimentId={experiment.id} />
                </td>
                <td>{when(experiment.created_at)}</td>
                <td className="mono">{experiment.id}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
