// Parallel coordinates: an axis per column (a sweep's hyperparameters and its metric, or the
// params and metrics of compared runs), a line per row through its values. A numeric axis spans
// its values' range; any other is categorical, its values spread evenly in sorted order. The
// compare page's scatter places its points on two such axes.

export type Axis =
  | { name: string; kind: "number"; min: number; max: number }
  | { name: string; kind: "category"; values: string[] };

// one line (or point): its key, the name shown on hover, a CSS class, its value by column
export interface Row {
  key: string;
  name: string;
  className?: string;
  values: Record<string, string | undefined>;
}

export function axisOf(name: string, values: string[]): Axis {
  const numbers = values.map(Number);
  if (values.length > 0 && values.every((v) => v.trim() !== "") && numbers.every(Number.isFinite))
    return { name, kind: "number", min: Math.min(...numbers), max: Math.max(...numbers) };
  return { name, kind: "category", values: [...new Set(values)].sort() };
}

// where a value sits on its axis: 0 at the bottom, 1 at the top; null if it has no place there
export function place(axis: Axis, value: string): number | null {
  if (axis.kind === "number") {
    const v = Number(value);
    if (value.trim() === "" || !Number.isFinite(v)) return null;
    return axis.max === axis.min ? 0.5 : (v - axis.min) / (axis.max - axis.min);
  }
  const index = axis.values.indexOf(value);
  if (index < 0) return null;
  return axis.values.length === 1 ? 0.5 : index / (axis.values.length - 1);
}

// the labels along an axis: a numeric one's ends, every value of a categorical one
export function ticks(axis: Axis): { at: number; label: string }[] {
  const values = axis.kind === "number" ? [...new Set([axis.min, axis.max])].map(String) : axis.values;
  return values.map((label) => ({ at: place(axis, label) as number, label }));
}

// the rows that have a value in every column, each a line of points between 0 and 1
export function parallel(rows: Row[], columns: string[]): { axes: Axis[]; lines: { row: Row; points: number[] }[] } {
  const drawn = rows.filter((row) => columns.every((c) => row.values[c] !== undefined));
  const axes = columns.map((c) => axisOf(c, drawn.map((row) => row.values[c] as string)));
  const lines = drawn.map((row) => ({
    row,
    points: columns.map((c, i) => place(axes[i], row.values[c] as string) as number),
  }));
  return { axes, lines };
}
