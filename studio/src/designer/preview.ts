// A step's output table as the side panel shows it (GET /runs/{run}/outputs/{port}/preview,
// components/preview.py): its first rows, and a line of statistics per column.
import { metric } from "../format";

export type Cell = string | number | boolean | null;

export interface ColumnStats {
  name: string;
  dtype: string;
  count: number;
  missing: number;
  unique: number;
  mean: number | null;
  min: number | null;
  max: number | null;
}

export interface OutputPreview {
  run_id: string;
  port: string;
  kind: "table" | "report";
  tables: string[]; // a report's tables
  table: string | null; // the report table shown
  rows?: number; // the table's rows, all of them
  columns?: number;
  stats_rows?: number; // the rows the statistics are over (the first ones)
  column_names?: string[];
  head?: Cell[][];
  stats?: ColumnStats[];
}

export const STAT_HEADERS = ["column", "type", "count", "missing", "unique", "mean", "min", "max"];

/** How a cell reads: numbers as metrics do, missing values empty. */
export function cellText(value: Cell | undefined): string {
  if (value === null || value === undefined) return "";
  return typeof value === "number" ? metric(value) : String(value);
}

/** A row of text per column, under ``STAT_HEADERS``. */
export function statRows(stats: ColumnStats[]): string[][] {
  return stats.map((s) => [
    s.name,
    s.dtype,
    String(s.count),
    String(s.missing),
    String(s.unique),
    cellText(s.mean),
    cellText(s.min),
    cellText(s.max),
  ]);
}

/** What the table's caption says: how many rows and columns it has and how many are shown. */
export function shownOf(preview: OutputPreview): string {
  const rows = preview.rows ?? 0;
  const head = preview.head?.length ?? 0;
  const columns = preview.columns ?? 0;
  const shownColumns = preview.column_names?.length ?? 0;
  const parts = [`${rows} row${rows === 1 ? "" : "s"}, ${columns} column${columns === 1 ? "" : "s"}`];
  if (head < rows) parts.push(`the first ${head} shown`);
  if (shownColumns < columns) parts.push(`the first ${shownColumns} columns`);
  if ((preview.stats_rows ?? rows) < rows) parts.push(`statistics over the first ${preview.stats_rows} rows`);
  return parts.join("; ");
}
