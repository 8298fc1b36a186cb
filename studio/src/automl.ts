// An AutoML parent's page (automl/driver.py): its trials ranked as a sweep's are, under AutoML's
// tags, the goal following from the primary metric; and its feature importance (a table it
// logged, tables.ts) as bars.
import { leaderboard, type Trial, type TrialTags } from "./sweep";
import type { Run } from "./api";
import type { Table } from "./tables";

export const TASK_TAG = "automl.task";
export const METRIC_TAG = "automl.primary_metric";
export const LEARNER_TAG = "automl.learner";
// the tables the board draws itself (the run's page leaves them out of its own list of tables)
export const BOARD_TABLES = { guardrails: "data_guardrails", importance: "feature_importance" };
export const TAGS: TrialTags = { trial: "automl.trial", best: "automl.best_run_id" };
// the metrics AutoML minimizes (automl/metrics.py MINIMIZED); every other is maximized
const MINIMIZED = new Set(["normalized_root_mean_squared_error", "normalized_mean_absolute_error"]);

export function automlObjective(run: Run): { metric: string; goal: "maximize" | "minimize" } | null {
  const metric = run.tags[METRIC_TAG];
  if (run.tags[TASK_TAG] === undefined || !metric) return null;
  return { metric, goal: MINIMIZED.has(metric) ? "minimize" : "maximize" };
}

export function automlBoard(parent: Run, trials: Run[], metric: string, goal: "maximize" | "minimize"): Trial[] {
  return leaderboard(parent, trials, metric, goal, TAGS);
}

export interface Bar {
  feature: string;
  importance: number;
  fraction: number; // of the largest importance, 0 for one at or below 0
}

// the feature-importance table as bars, largest first (permutation importance may be negative)
export function importanceBars(table: Table | null): Bar[] {
  const feature = table?.columns.indexOf("feature") ?? -1;
  const importance = table?.columns.indexOf("importance") ?? -1;
  if (!table || feature < 0 || importance < 0) return [];
  const bars = table.rows
    .filter((row) => typeof row[importance] === "number")
    .map((row) => ({ feature: String(row[feature]), importance: row[importance] as number, fraction: 0 }))
    .sort((a, b) => b.importance - a.importance);
  const top = Math.max(0, ...bars.map((bar) => bar.importance));
  bars.forEach((bar) => (bar.fraction = top > 0 ? Math.max(0, bar.importance) / top : 0));
  return bars;
}
