import { useEffect, useState } from "react";
import { getJson, runArtifacts, TERMINAL, V1, type Experiment, type Run } from "../api";
import { duration, metric, when } from "../format";
import { href } from "../route";
import { Artifacts } from "../components/Artifacts";
import { ErrorLine } from "../components/ErrorLine";
import { LogTail } from "../components/LogTail";
import { Pairs } from "../components/Pairs";
import { MetricChart, type ChartOptions } from "../components/MetricChart";
import { Smoothing } from "../components/Smoothing";
import { StatusBadge } from "../components/StatusBadge";
import { PipelineDag } from "../components/PipelineDag";
import { CreateInference } from "../components/CreateInference";
import { SweepBoard } from "../components/SweepBoard";
import { AutoMLBoard } from "../components/AutoMLBoard";
import { LoggedImages, LoggedTables } from "../components/Logged";
import { automlObjective, BOARD_TABLES } from "../automl";
import { objectiveOf } from "../sweep";

// a completed pipeline run with a Train Model step: what "Create inference pipeline" takes
function trains(run: Run): boolean {
  const steps = Object.values(run.job?.steps ?? {});
  return run.status === "completed" && steps.some((s) => (s.component ?? "").split("@")[0] === "train-model");
}

export function RunDetail({ runId, writer = false }: { runId: string; writer?: boolean }) {
  const [run, setRun] = useState<Run | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [options, setOptions] = useState<ChartOptions>({ axis: "step", log: false });
  const [smoothing, setSmoothing] = useState(0);
  const [experiment, setExperiment] = useState<Experiment | null>(null);
  const experimentId = run?.experiment_id;
  useEffect(() => {
    if (experimentId) getJson<Experiment>(`${V1}/experiments/${encodeURIComponent(experimentId)}`).then(setExperiment, setError);
  }, [experimentId]);
  const live = run !== null && !TERMINAL.has(run.status);

  useEffect(() => {
    let timer: number | undefined;
    const read = () =>
      getJson<Run>(`${V1}/runs/${encodeURIComponent(runId)}`).then((r) => {
        setRun(r);
        if (TERMINAL.has(r.status) && timer !== undefined) window.clearInterval(timer);
      }, setError);
    read();
    timer = window.setInterval(read, 3000);
    return () => window.clearInterval(timer);
  }, [runId]);

  if (!run) return <ErrorLine error={error} />;
  const metricKeys = Object.keys(run.metrics).sort();
  const objective = run.job?.type === "sweep" ? objectiveOf(run.job) : null;
  const automl = automlObjective(run);
  return (
    <section className="run">
      <nav className="crumbs">
        <a href={href({ page: "experiments" })}>Experiments</a> /{" "}
        <a href={href({ page: "runs", experimentId: run.experiment_id })}>{experiment?.name ?? "experiment"}</a> /{" "}
        {run.name || run.id}
      </nav>
      <h1>
        {run.name || run.id} <StatusBadge status={run.status} />
      </h1>
      <ErrorLine error={error} />
      <dl className="overview">
        <dt>Id</dt>
        <dd className="mono">{run.id}</dd>
        <dt>Started</dt>
        <dd>{when(run.start_time)}</dd>
        <dt>Duration</dt>
        <dd>{duration(run.start_time, run.end_time)}</dd>
        {run.compute && (
          <>
            <dt>Compute</dt>
            <dd>{run.compute}</dd>
          </>
        )}
        {run.environment && (
          <>
            <dt>Environment</dt>
            <dd>{run.environment}</dd>
          </>
        )}
        {run.parent_id && (
          <>
            <dt>Parent</dt>
            <dd>
              <a href={href({ page: "run", runId: run.parent_id })}>{run.parent_id}</a>
            </dd>
          </>
        )}
        {run.error && (
          <>
            <dt>Error</dt>
            <dd className="error">{run.error}</dd>
          </>
        )}
      </dl>
      {run.job?.type === "pipeline" && (
        <>
          <h2>Steps</h2>
          <PipelineDag runId={run.id} job={run.job} live={live} />
          {writer && trains(run) && (
            <CreateInference runId={run.id} suggested={`${(run.name || "pipeline").replace(/[^A-Za-z0-9_-]+/g, "-")}-rt`} />
          )}
        </>
      )}
      {objective && (
        <>
          <h2>Trials</h2>
          <SweepBoard parent={run} metricKey={objective.metric} goal={objective.goal} live={live} />
        </>
      )}
      {automl && (
        <>
          <h2>AutoML trials</h2>
          <AutoMLBoard parent={run} metricKey={automl.metric} goal={automl.goal} live={live} />
        </>
      )}
      <h2>Metrics</h2>
      {metricKeys.length === 0 && <p className="muted">No metrics.</p>}
      {metricKeys.length > 0 && (
        <div className="chart-options">
          <label>
            x axis{" "}
            <select
              aria-label="x axis"
              value={options.axis}
              onChange={(event) => setOptions({ ...options, axis: event.target.value as ChartOptions["axis"] })}
            >
              <option value="step">step</option>
              <option value="time">time</option>
            </select>
          </label>
          <label>
            <input
              type="checkbox"
              checked={options.log}
              onChange={(event) => setOptions({ ...options, log: event.target.checked })}
            />{" "}
            log scale
          </label>
          <Smoothing value={smoothing} onChange={setSmoothing} />
          <span className="muted">drag to zoom, double-click to zoom out</span>
        </div>
      )}
      <div className="charts">
        {metricKeys.map((key) => (
          <MetricChart key={key} runId={run.id} metricKey={key} live={live} options={options} smoothing={smoothing} />
        ))}
      </div>
      {metricKeys.length > 0 && (
        <Pairs testId="latest-metrics" values={Object.fromEntries(metricKeys.map((k) => [k, metric(run.metrics[k])]))} />
      )}
      <LoggedTables
        runId={run.id}
        live={live}
        heading={<h2>Tables</h2>}
        hide={automl ? Object.values(BOARD_TABLES) : []}
      />
      <LoggedImages runId={run.id} live={live} heading={<h2>Images</h2>} testId="logged-images" />
      <div className="columns">
        <div>
          <h2>Params</h2>
          <Pairs values={run.params} testId="params" />
        </div>
        <div>
          <h2>Tags</h2>
          <Pairs values={run.tags} testId="tags" />
        </div>
      </div>
      <h2>Log {live && <small>(live)</small>}</h2>
      <LogTail logKey={`${runArtifacts(run.id)}/logs/std_log.txt`} live={live} />
      <h2>Artifacts</h2>
      <Artifacts prefix={runArtifacts(run.id)} />
    </section>
  );
}
