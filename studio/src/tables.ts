// Tables as the studio shows them: what `run.log_table` / `log_row` stored (tables/NAME.json,
// columns `{"col": [values…]}`), a Parquet preview and an MLmodel signature (the server's
// /artifact-table and /artifact-mlmodel answer in that same shape), and a CSV's first rows; and
// the chart a table makes when it has numeric columns.

export interface Table {
  columns: string[];
  rows: unknown[][];
}

// a table of columns, {"column": [values…]}, as rows; null if the JSON is not of that shape
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

// a cell as text: null and undefined are empty, objects and lists their JSON
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

export interface ChartSeries {
  name: string;
  values: (number | null)[]; // null: a gap (no value, NaN, infinity, or a cell that is not a number)
}

export interface TableChartData {
  kind: "line" | "bars"; // bars when x is text (each row a category), a line when it is numeric
  xName: string;
  x: number[]; // increasing; a bar chart's are the rows' positions 0, 1, …
  labels: string[] | null; // a bar chart's categories, one per x
  series: ChartSeries[];
}

function isNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

// a column is numeric when it holds at least one number and nothing else but gaps (null, and the
// strings JSON writes NaN and infinities as)
const GAPS = new Set(["NaN", "Infinity", "-Infinity"]);
function numeric(values: unknown[]): boolean {
  const present = values.filter((v) => v !== null && v !== undefined && !(typeof v === "string" && GAPS.has(v)));
  return present.length > 0 && present.every((v) => typeof v === "number");
}

// The chart of a table: its numeric columns against its first column (a line, the rows in x order,
// rows without a numeric x left out), or as bars over the first column's values when those are
// text; a table of one numeric column against the row number. Null when nothing can be drawn.
export function tableChart(table: Table): TableChartData | null {
  if (table.rows.length === 0 || table.columns.length === 0) return null;
  const column = (i: number) => table.rows.map((row) => row[i]);
  const single = table.columns.length === 1;
  const xs = single ? table.rows.map((_, i) => i) : column(0);
  const ys = (single ? [0] : table.columns.map((_, i) => i).slice(1)).filter((i) => numeric(column(i)));
  if (ys.length === 0) return null;
  const value = (v: unknown) => (isNumber(v) ? v : null);
  const xName = single ? "row" : table.columns[0];
  if (numeric(xs)) {
    const order = xs
      .map((x, row) => ({ x, row }))
      .filter((point): point is { x: number; row: number } => isNumber(point.x))
      .sort((a, b) => a.x - b.x);
    return {
      kind: "line",
      xName,
      x: order.map((point) => point.x),
      labels: null,
      series: ys.map((i) => ({ name: table.columns[i], values: order.map(({ row }) => value(table.rows[row][i])) })),
    };
  }
  return {
    kind: "bars",
    xName,
    x: xs.map((_, i) => i),
    labels: xs.map(cellText),
    series: ys.map((i) => ({ name: table.columns[i], values: column(i).map(value) })),
  };
}
