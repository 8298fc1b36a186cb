// A sweep's leaderboard as its driver judges it (sweep/driver.py): completed trials that logged
// the primary metric, best first by the objective's goal, its latest value being the trial's
// result; then the others (running, failed, stopped early) by trial number. AutoML's trials are
// ranked the same way, under their own tags (automl.ts).
import type { JobRecord, Run } from "./api";
import type { Row } from "./parallel";

export const TRIAL_TAG = "sweep.trial";
export const STOPPED_EARLY_TAG = "sweep.early_terminated";
export const BEST_TAG = "sweep.best_run_id";

// the tags that number a trial, name the best on the parent and mark a trial stopped early
export interface TrialTags {
  trial: string;
  best: string;
  stoppedEarly?: string;
}
const SWEEP_TAGS: TrialTags = { trial: TRIAL_TAG, best: BEST_TAG, stoppedEarly: STOPPED_EARLY_TAG };

export interface Trial {
  run: Run;
  trial: number;
  value: number | null; // the latest value of the primary metric, null if none (or not finite)
  rank: number | null; // 1 for the best; null for a trial not ranked (not completed, no value)
  stoppedEarly: boolean;
  best: boolean; // the one the driver named (sweep.best_run_id on the parent)
}

export function objectiveOf(job: JobRecord | null | undefined): { metric: string; goal: "maximize" | "minimize" } | null {
  const objective = job?.sweep?.objective;
  return objective ? { metric: objective.primary_metric, goal: objective.goal ?? "maximize" } : null;
}

export function leaderboard(
  parent: Run,
  trials: Run[],
  metric: string,
  goal: "maximize" | "minimize",
  tags: TrialTags = SWEEP_TAGS,
): Trial[] {
  const rows: Trial[] = trials.map((run) => {
    const latest = run.metrics[metric];
    return {
      run,
      trial: Number(run.tags[tags.trial] ?? 0),
      value: typeof latest === "number" ? latest : null,
      rank: null,
      stoppedEarly: tags.stoppedEarly !== undefined && run.tags[tags.stoppedEarly] === "true",
      best: parent.tags[tags.best] === run.id,
    };
  });
  const sign = goal === "maximize" ? -1 : 1;
  const ranked = rows
    .filter((row) => row.run.status === "completed" && row.value !== null)
    .sort((a, b) => sign * ((a.value as number) - (b.value as number)) || a.trial - b.trial);
  ranked.forEach((row, i) => (row.rank = i + 1));
  const rest = rows.filter((row) => row.rank === null).sort((a, b) => a.trial - b.trial);
  return [...ranked, ...rest];
}

// the params the trials were given, in name order (the search space's)
export function paramNames(trials: Run[]): string[] {
  return [...new Set(trials.flatMap((run) => Object.keys(run.params)))].sort();
}

// the trials as lines of parallel coordinates: their params and the metric's value, the best
// and the ones stopped early marked
export function trialRows(trials: Trial[], metric: string): Row[] {
  return trials.map((t) => ({
    key: t.run.id,
    name: t.run.name || `trial ${t.trial}`,
    className: [t.best && "pc-best", t.stoppedEarly && "pc-stopped"].filter(Boolean).join(" ") || undefined,
    values: { ...t.run.params, [metric]: t.value === null ? undefined : String(t.value) },
  }));
}
