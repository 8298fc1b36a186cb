// An AutoML parent's page (automl/driver.py): its trials ranked as a sweep's are, under AutoML's
// tags, the goal following from the primary metric; and the tables it logged (guardrails,
// feature importance), read from its tables/ artifacts.
import { leaderboard, type Trial, type TrialTags } from "./sweep";
import type { Run } from "./api";

export const TASK_TAG = "automl.task";
export const METRIC_TAG = "automl.primary_metric";
export const LEARNER_TAG = "automl.learner";
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

export interface Table {
  columns: string[];
  rows: unknown[][];
}

// a logged table, {"column": [values…]}, as rows; null if the JSON is not of that shape
export function parseTable(json: unknown): Table | null {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return null;
  const columns = Object.entries(json as Record<string, unknown>);
  if (!columns.every(([, values]) => Array.isArray(values))) return null;
  const lengths = new Set(columns.map(([, values]) => (values as unknown[]).length));
  if (lengths.size > 1) return null;
  const count = columns.length ? (columns[0][1] as unknown[]).length : 0;
  return {
    columns: columns.map(([name]) => name),
    rows: Array.from({ length: count }, (_, i) => columns.map(([, values]) => (values as unknown[])[i])),
  };
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
