// The compare page's columns: every param and latest metric of the runs, named params.KEY and
// metrics.KEY as in the search grammar, each run a row of their values (a metric that is NaN or
// infinite has none) for the parallel coordinates and the scatter.
import type { Run } from "./api";
import { metric } from "./format";
import type { Row } from "./parallel";

export const PARAMS = "params.";
export const METRICS = "metrics.";

export const runName = (run: Run): string => run.name || run.id.slice(0, 8);

export function columnsOf(runs: Run[]): string[] {
  const keys = (pick: (run: Run) => object) => [...new Set(runs.flatMap((run) => Object.keys(pick(run))))].sort();
  return [...keys((r) => r.params).map((k) => PARAMS + k), ...keys((r) => r.metrics).map((k) => METRICS + k)];
}

export function valueOf(run: Run, column: string): string | undefined {
  if (column.startsWith(PARAMS)) return run.params[column.slice(PARAMS.length)];
  const value = run.metrics[column.slice(METRICS.length)];
  return typeof value === "number" ? String(value) : undefined;
}

// what the table shows: a param as given, a metric as the tables write numbers ("NaN" too)
export function cellOf(run: Run, column: string): string {
  if (column.startsWith(PARAMS)) return run.params[column.slice(PARAMS.length)] ?? "";
  return metric(run.metrics[column.slice(METRICS.length)]);
}

export function rowsOf(runs: Run[], columns: string[]): Row[] {
  return runs.map((run) => ({
    key: run.id,
    name: runName(run),
    values: Object.fromEntries(columns.map((c) => [c, valueOf(run, c)])),
  }));
}

// the columns every row has a value in: the axes on which every run can be drawn
export function shared(rows: Row[], columns: string[]): string[] {
  return columns.filter((c) => rows.every((row) => row.values[c] !== undefined));
}

// what the scatter starts with: the first param across, the first metric up (else the first two)
export function defaultPair(columns: string[]): [string, string] {
  const across = columns.find((c) => c.startsWith(PARAMS)) ?? columns[0] ?? "";
  const up = columns.find((c) => c.startsWith(METRICS) && c !== across) ?? columns.find((c) => c !== across);
  return [across, up ?? across];
}
