// Parallel coordinates of a sweep: an axis per hyperparameter and one for the primary metric,
// a line per trial through its values. A numeric axis spans its values' range; any other is
// categorical, its values spread evenly in sorted order.
import type { Trial } from "./sweep";

export type Axis =
  | { name: string; kind: "number"; min: number; max: number }
  | { name: string; kind: "category"; values: string[] };

function axisOf(name: string, values: string[]): Axis {
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

// the trials that have every param and a value of the metric, their values by axis
function drawable(trials: Trial[], params: string[]): { trial: Trial; values: string[] }[] {
  return trials
    .filter((t) => t.value !== null && params.every((p) => p in t.run.params))
    .map((trial) => ({ trial, values: [...params.map((p) => trial.run.params[p]), String(trial.value)] }));
}

export function parallel(
  trials: Trial[],
  params: string[],
  metric: string,
): { axes: Axis[]; lines: { trial: Trial; points: number[] }[] } {
  const rows = drawable(trials, params);
  const axes = [...params, metric].map((name, i) => axisOf(name, rows.map((r) => r.values[i])));
  const lines = rows.map(({ trial, values }) => ({
    trial,
    points: values.map((value, i) => place(axes[i], value) as number),
  }));
  return { axes, lines };
}
